#!/bin/bash
# The default method's rule (docs/math.md section 7, "The default"): Newton-CG
# against SVRG on the problems it was decided on, one thread and two, default
# tol 1e-6 (certified), in the same run (newton, svrg, newton, svrg, ...).
#
#   scripts/data/newton-default.sh [REPEAT]      (after make; REPEAT default 1)
#
# Problems: heart_scale (C = 1), the Fashion-MNIST binary subset of
# scripts/data/intercept.sh (C = 1; its LIBSVM file, made if missing), a
# sparse logistic problem (feral gen sparse 100000 x 10000, labels sign(b),
# l2 1e-5), a sparse least-squares problem (feral gen sparse --noise 0.1),
# data/scaling/logistic.feral (C = 1; SCALING=dir, default data/scaling, made
# by scripts/scaling-default.sh) and a tall dense least-squares problem (feral
# gen gaussian 20000 x 100).  Budget: 1200 epochs/passes.  Writes
# results/newton-default.csv: solve seconds, passes (newton) or epochs (svrg),
# converged, gradient reached, objective.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/data/common.sh"
REPEAT=${1:-1}
F=${FERAL:-$ROOT/build/feral}
WORK=${WORK:-/tmp/feral-newton-default-$(id -u)}
SCALING=${SCALING:-$ROOT/data/scaling}
CSV=$ROOT/results/newton-default.csv
mkdir -p "$WORK"
[ -x "$F" ] || wl_die "$F not built"
cp /usr/share/doc/liblinear-tools/examples/heart_scale "$WORK/heart.svm"
if [ ! -s "$WORK/fmb.svm" ]; then
	FM=/usr/share/datasets/fashion-mnist
	"$F" convert "$FM/train-images-idx3-ubyte.gz" "$WORK/fm.svm" --targets "$FM/train-labels-idx1-ubyte.gz"
	head -n 10000 "$WORK/fm.svm" |
		awk '{ $1 = ($1 == 0 || $1 == 2 || $1 == 4 || $1 == 6) ? "+1" : "-1"; print }' > "$WORK/fmb.svm"
	rm -f "$WORK/fm.svm"
fi
[ -s "$WORK/fmb.feral" ] || "$F" convert "$WORK/fmb.svm" "$WORK/fmb.feral" 2>/dev/null
if [ ! -s "$WORK/splog.feral" ]; then
	"$F" gen sparse --n 100000 --d 10000 --noise 0.5 -o "$WORK/sp.svm" >/dev/null 2>&1
	awk '{ $1 = ($1 > 0) ? "+1" : "-1"; print }' "$WORK/sp.svm" > "$WORK/splog.svm"
	"$F" convert "$WORK/splog.svm" "$WORK/splog.feral" 2>/dev/null
	rm -f "$WORK"/sp.svm* "$WORK/splog.svm"
fi
[ -s "$WORK/spls.feral" ] || "$F" gen sparse --n 100000 --d 10000 --noise 0.1 -o "$WORK/spls.feral" >/dev/null 2>&1
[ -s "$WORK/g.npy" ] || "$F" gen gaussian --n 20000 --d 100 --noise 0.1 -o "$WORK/g.npy" >/dev/null 2>&1
echo "problem,method,threads,repeat,seconds,passes_or_epochs,converged,grad_norm_rel,objective,loadavg" > "$CSV"
one() { # NAME THREADS METHOD CMD...
	local name=$1 t=$2 m=$3
	shift 3
	"$F" "$@" --method "$m" --threads "$t" --epochs 1200 --json 2>/dev/null |
		/usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin)
print("%s,%s,%s,%s,%.4f,%d,%s,%.3g,%.12g,%s" % (sys.argv[1], r["method"], r["threads"], sys.argv[2], r["seconds"], round(r["updates"] / r["n"]), str(r["converged"]).lower(), r["grad_norm_rel"], r["objective"], sys.argv[3]))' \
		"$name" "$k" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$CSV" >&2
}
for k in $(seq 1 "$REPEAT"); do
	for t in 1 2; do
		for m in newton svrg; do
			one heart_scale $t $m train "$WORK/heart.svm" --l2 0.0037037037037037
			one fashion10000 $t $m train "$WORK/fmb.feral" --l2 1e-4
			one sparse_logistic $t $m train "$WORK/splog.feral" --l2 1e-5
			one sparse_ls $t $m solve "$WORK/spls.feral"
			[ -s "$SCALING/logistic.feral" ] &&
				one scaling_logistic $t $m train "$SCALING/logistic.feral" --l2 1.52587890625e-05
			one gaussian_ls $t $m solve "$WORK/g.npy" "$WORK/g.b.npy"
		done
	done
done
echo "wrote $CSV" >&2
