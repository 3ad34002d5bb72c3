#!/bin/bash
# CT reconstruction (ART / randomized Kaczmarz, Kaczmarz's classic use) with
# feral: a parallel-beam scan of the modified Shepp-Logan phantom, solved
# asynchronously by weighted, partially weighted and uniform row sampling.
#
#   scripts/data/ct.sh            (defaults below; environment overrides them)
#
#   N=128 ANGLES=180 NOISE=0.01   image N x N, ANGLES in [0, pi), ceil(sqrt(2) N)
#                                 rays per angle 1 pixel apart, relative noise
#   SECS=10 STEP=0.25 THREADS=2   solver budget per mode (solver time, trace
#                                 monitor excluded), relative step (units of
#                                 1/Lbar; see results/README-ct.md), workers
#   TRACE_EVERY=50000 SEED=1 BUILD=build
#
# 1. builds scripts/data/ct.c (the driver: workloads/ct.c's Siddon system matrix,
#    phantom, PNG writer, PSNR: the Makefile's $BUILD/obj/workloads/ct.o)
#    against $BUILD/libferal.a;
# 2. ct gen: A (CSR f32, rows = rays that meet the image), b = A x_true + e,
#    x_true = the phantom -> ct.feral, ct.xtrue.npy, ct.sino.png, ct.info;
# 3. for sampling in weighted (lambda 0), partial (0.5), uniform (1):
#      feral solve ct.feral --xstar ct.xtrue.npy --sampling S --step STEP
#        --threads T --seconds SECS --tol 0 --epochs 0 --trace ... -o rec.npy
#    then the same again stopped (--updates) at the trace's lowest error
#    (oracle early stopping: it needs the truth);
# 4. writes results/ct-phantom.png, ct-sinogram.png, ct-{weighted,partial,
#    uniform}.png (final iterates), ct-montage.png (phantom + the three final),
#    ct-montage-early.png (phantom + the three early-stopped), ct-error-time.png
#    (||x - x_true||/||x_true|| against solver seconds), ct-error-epochs.png
#    (the same against epochs) and results/ct.csv
#    (one row per mode: final PSNR and error, the best point on the trace and
#    the PSNR of the early-stopped run).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-128}
ANGLES=${ANGLES:-180}
NOISE=${NOISE:-0.01}
SECS=${SECS:-10}
STEP=${STEP:-0.25}
THREADS=${THREADS:-2}
TRACE_EVERY=${TRACE_EVERY:-50000}
SEED=${SEED:-1}
BUILD=${BUILD:-build}
F=$BUILD/feral
make -s -j2 BUILD="$BUILD" "$F" "$BUILD/libferal.a" "$BUILD/obj/workloads/ct.o"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the libraries libferal.a was built against (the Makefile's probes)
libs=()
for p in hwloc numa zlib lapacke openblas; do
	if pkg-config --exists "$p"; then
		read -r -a l <<<"$(pkg-config --libs "$p")"
		libs+=("${l[@]}")
	fi
done
cc -std=gnu11 -O2 -Iinclude -Isrc -Iworkloads scripts/data/ct.c "$BUILD/obj/workloads/ct.o" \
	"$BUILD/libferal.a" \
	"${libs[@]}" -fopenmp -lm -pthread -o "$tmp/ct"
CT=$tmp/ct
mkdir -p results
"$CT" gen --n "$N" --angles "$ANGLES" --noise "$NOISE" --seed "$SEED" -o "$tmp/ct" >&2
info() { sed -n "s/^$1=//p" "$tmp/ct.info"; }
n=$(info n) angles=$(info angles) rays=$(info rays) rows=$(info rows) nnz=$(info nnz)
noise=$(info noise) peak=$(info peak) mean_square=$(info mean_square)
cp "$tmp/ct.sino.png" results/ct-sinogram.png
"$CT" png --scale 2 results/ct-phantom.png "$tmp/ct.xtrue.npy"
csv=results/ct.csv
echo "mode,lambda,step,threads,n,angles,rays,rows,nnz,noise,seconds,updates,updates_per_s,epochs,psnr_db,rel_error,best_psnr_db,best_rel_error,best_seconds,best_updates,early_psnr_db,early_seconds" >"$csv"
for mode in weighted partial uniform; do
	case $mode in weighted) lam=0 ;; partial) lam=0.5 ;; uniform) lam=1 ;; esac
	"$F" solve "$tmp/ct.feral" --xstar "$tmp/ct.xtrue.npy" --sampling "$mode" \
		--step "$STEP" --threads "$THREADS" --seconds "$SECS" --tol 0 --epochs 0 \
		--trace-every "$TRACE_EVERY" --seed "$SEED" --trace "$tmp/$mode.trace.csv" \
		-o "$tmp/$mode.npy" --json >"$tmp/$mode.json" 2>"$tmp/$mode.err" ||
		{ cat "$tmp/$mode.err" >&2; exit 1; }
	"$CT" png --scale 2 results/ct-$mode.png "$tmp/$mode.npy"
	read -r _ psnr relerr < <("$CT" png --ref "$tmp/ct.xtrue.npy" "$tmp/x.png" "$tmp/$mode.npy")
	j=$(cat "$tmp/$mode.json")
	field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$j"; }
	secs=$(field seconds) upd=$(field updates) ups=$(field updates_per_s)
	# the best trace point (oracle early stopping: needs the truth)
	best=$(awk -F, -v pk="$peak" -v ms="$mean_square" 'NR > 2 && $5 > 0 {
		if (!b || $5 < b) { b = $5; s = $2; u = $1 } }
		END { printf "%.3f,%.5f,%.3f,%d", 10 * log(pk * pk / (b * ms)) / log(10), sqrt(b), s, u }' \
		"$tmp/$mode.trace.csv")
	# early stopping at that update count: a second run, stopped there
	"$F" solve "$tmp/ct.feral" --xstar "$tmp/ct.xtrue.npy" --sampling "$mode" \
		--step "$STEP" --threads "$THREADS" --updates "${best##*,}" --tol 0 --epochs 0 \
		--seed "$SEED" -o "$tmp/$mode.early.npy" --json >"$tmp/$mode.early.json" 2>"$tmp/$mode.err" ||
		{ cat "$tmp/$mode.err" >&2; exit 1; }
	read -r _ epsnr _ < <("$CT" png --ref "$tmp/ct.xtrue.npy" "$tmp/x.png" "$tmp/$mode.early.npy")
	j=$(cat "$tmp/$mode.early.json")
	esecs=$(field seconds)
	echo "$mode,$lam,$STEP,$THREADS,$n,$angles,$rays,$rows,$nnz,$noise,$secs,$upd,$ups,$(awk -v u="$upd" -v r="$rows" 'BEGIN { printf "%.1f", u / r }'),$psnr,$relerr,$best,$epsnr,$esecs" >>"$csv"
	echo "ct: $mode: $upd updates in $secs s, PSNR $psnr dB (best on the trace: ${best%%,*} dB; stopped there: $epsnr dB)" >&2
	cp "$tmp/$mode.trace.csv" "$tmp/trace-$mode.csv"
done
"$CT" png --scale 2 results/ct-montage.png "$tmp/ct.xtrue.npy" "$tmp/weighted.npy" \
	"$tmp/partial.npy" "$tmp/uniform.npy"
"$CT" png --scale 2 results/ct-montage-early.png "$tmp/ct.xtrue.npy" "$tmp/weighted.early.npy" \
	"$tmp/partial.early.npy" "$tmp/uniform.early.npy"
# error against time
# shellcheck disable=SC1091
. scripts/plot-common.sh
gnuplot <<GP
$(gp_terminal)
set output 'results/ct-error-time.png'
set datafile separator ','
set title "CT ${n}x${n}, ${angles} angles x ${rays} rays (${rows} x $((n * n)), nnz ${nnz}), noise ${noise}: step ${STEP}, ${THREADS} threads"
set xlabel 'solver seconds (trace monitor excluded)'
set ylabel '||x - x_{true}|| / ||x_{true}||'
set logscale xy
set grid
set key top right
plot '$tmp/trace-weighted.csv' every ::2 using 2:(sqrt(\$5)) with lines lw 2 title 'weighted (lambda = 0)', \
     '$tmp/trace-partial.csv' every ::2 using 2:(sqrt(\$5)) with lines lw 2 title 'partial (lambda = 0.5)', \
     '$tmp/trace-uniform.csv' every ::2 using 2:(sqrt(\$5)) with lines lw 2 title 'uniform (lambda = 1)'
set output 'results/ct-error-epochs.png'
set xlabel 'epochs (updates / rows)'
plot '$tmp/trace-weighted.csv' every ::2 using (\$1/$rows):(sqrt(\$5)) with lines lw 2 title 'weighted (lambda = 0)', \
     '$tmp/trace-partial.csv' every ::2 using (\$1/$rows):(sqrt(\$5)) with lines lw 2 title 'partial (lambda = 0.5)', \
     '$tmp/trace-uniform.csv' every ::2 using (\$1/$rows):(sqrt(\$5)) with lines lw 2 title 'uniform (lambda = 1)'
GP
column -s, -t "$csv" >&2
