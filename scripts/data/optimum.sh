#!/bin/bash
# L2 logistic regression to the optimum, C = 1 (feral's --l2 1/n), bias 1:
# feral train (default method) against liblinear -s 0, same LIBSVM file,
# same run, wall time to an objective within 1e-6 (relative) of the optimum.
#
#   scripts/data/optimum.sh [REPEAT]            (after scripts/deps.sh and make)
#
# The optimum P* is liblinear -s 0 -c 1 -e 1e-8 -B 1's objective
#   P(w) = 1/2 ||w||^2 + C sum_i log(1 + exp(-y_i w.[x_i; 1]))
# computed from each written model file by scripts/data/logreg_objective.py.
# Each tool then gets the loosest setting of a ladder whose model is within
# GAP (1e-6) of P*: liblinear -e 0.01 (its default), 1e-3, ..., 1e-8; feral
# --tol 1e-3, ..., 1e-9 (its default is 1e-6).  Those settings are timed
# REPEAT times (default 5; heart_scale 4x that), interleaved (liblinear,
# feral 1 thread, feral 2 threads, liblinear, ...), wall time of the whole
# process (load included), median (min, max); the ratio is liblinear's
# median over feral's.  liblinear 2.3 is single-threaded.
# Data: heart_scale (270 x 13, liblinear-tools' example) and the Fashion-MNIST
# binary subset of scripts/data/intercept.sh (first FASHION_N = 10000
# training images; 0,2,4,6 against the rest).  Writes results/optimum.csv.
# Environment: FERAL (default build/feral), WORK (scratch, default
# /tmp/feral-optimum-$UID), FASHION_N, GAP, FERAL_ARGS (extra train options).
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/data/common.sh"
REPEAT=${1:-${REPEAT:-5}}
FERAL=${FERAL:-$ROOT/build/feral}
WORK=${WORK:-/tmp/feral-optimum-$(id -u)}
FASHION_N=${FASHION_N:-10000}
GAP=${GAP:-1e-6}
FERAL_ARGS=${FERAL_ARGS:-}
CSV=$ROOT/results/optimum.csv
PY=/usr/bin/python3
OBJ="$PY $ROOT/scripts/data/logreg_objective.py"
HEART=/usr/share/doc/liblinear-tools/examples/heart_scale
FM=/usr/share/datasets/fashion-mnist

[ -x "$FERAL" ] || wl_die "$FERAL not built: run make first"
command -v liblinear-train >/dev/null || wl_die "liblinear-train missing: run scripts/deps.sh (liblinear-tools)"
mkdir -p "$WORK" "$ROOT/results"
echo "data,tool,config,threads,objective,rel_gap,wall_s_median,wall_s_min,wall_s_max,cpu_s_median,repeats,ratio_liblinear_over_this,loadavg,command" > "$CSV"

gap_of() { awk -v a="$1" -v r="$2" 'BEGIN { printf "%.3e", a / r - 1 }'; }
objective() { $OBJ "$1" - 1 "$2" | awk '{ print $1 }'; }

# one data set: NAME FILE REPEATS
run_set() {
	local name=$1 tr=$2 rep=$3 n l2 ref e tol o ll_e="" fe_tol="" k t
	n=$(wc -l < "$tr")
	l2=$(awk -v n="$n" 'BEGIN { printf "%.17g", 1 / n }')
	liblinear-train -q -s 0 -c 1 -e 1e-8 -B 1 "$tr" "$WORK/ref.model"
	ref=$(objective "$tr" "$WORK/ref.model")
	echo "$name: P* = $ref (liblinear -e 1e-8)" >&2
	for e in 0.01 1e-3 1e-4 1e-5 1e-6 1e-7 1e-8; do
		liblinear-train -q -s 0 -c 1 -e $e -B 1 "$tr" "$WORK/ll.model"
		o=$(objective "$tr" "$WORK/ll.model")
		echo "  liblinear -e $e: P $o gap $(gap_of "$o" "$ref")" >&2
		if awk -v g="$(gap_of "$o" "$ref")" -v G="$GAP" 'BEGIN { exit !(g <= G) }'; then ll_e=$e; break; fi
	done
	for tol in 1e-3 1e-4 1e-5 1e-6 1e-7 1e-8 1e-9; do
		"$FERAL" train "$tr" --l2 "$l2" --tol $tol --threads 1 $FERAL_ARGS -o "$WORK/fe.txt" 2>/dev/null
		o=$(objective "$tr" "$WORK/fe.txt")
		echo "  feral --tol $tol: P $o gap $(gap_of "$o" "$ref")" >&2
		if awk -v g="$(gap_of "$o" "$ref")" -v G="$GAP" 'BEGIN { exit !(g <= G) }'; then fe_tol=$tol; break; fi
	done
	[ -n "$ll_e" ] && [ -n "$fe_tol" ] || wl_die "$name: no setting reached $GAP"
	for f in ll fe1 fe2; do : > "$WORK/$f.times"; done
	for k in $(seq 1 "$rep"); do # interleaved
		WL_REPEAT=1 wl_run ll1 liblinear-train -q -s 0 -c 1 -e $ll_e -B 1 "$tr" "$WORK/ll.model"
		cat "$WORK/ll1.times" >> "$WORK/ll.times"
		for t in 1 2; do
			WL_REPEAT=1 wl_run fe1r "$FERAL" train "$tr" --l2 "$l2" --tol $fe_tol --threads $t \
				$FERAL_ARGS --json -o "$WORK/fe$t.txt"
			cat "$WORK/fe1r.times" >> "$WORK/fe$t.times"
			cp "$WORK/fe1r.out" "$WORK/fe$t.json"
		done
	done
	local load llm
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	llm=$(wl_median 1 "$WORK/ll.times")
	o=$(objective "$tr" "$WORK/ll.model")
	printf '%s,liblinear,-s 0 -c 1 -e %s -B 1,1,%s,%s,%s,%s,%s,%s,%s,1.00,%s,"liblinear-train -s 0 -c 1 -e %s -B 1 %s"\n' \
		"$name" "$ll_e" "$o" "$(gap_of "$o" "$ref")" "$llm" "$(wl_min 1 "$WORK/ll.times")" \
		"$(wl_max 1 "$WORK/ll.times")" "$(wl_median 2 "$WORK/ll.times")" "$rep" "$load" "$ll_e" \
		"$(basename "$tr")" >> "$CSV"
	printf '  %-12s liblinear -e %-5s          P %-18s gap %-10s wall %s s\n' "$name" "$ll_e" "$o" \
		"$(gap_of "$o" "$ref")" "$llm" >&2
	for t in 1 2; do
		local fm m
		fm=$(wl_median 1 "$WORK/fe$t.times")
		o=$(objective "$tr" "$WORK/fe$t.txt")
		m=$(grep -o '"method":"[a-z]*"' "$WORK/fe$t.json" | cut -d'"' -f4)
		printf '%s,feral,%s --tol %s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"feral train %s --l2 %s --tol %s --threads %s %s"\n' \
			"$name" "$m" "$fe_tol" "$t" "$o" "$(gap_of "$o" "$ref")" "$fm" \
			"$(wl_min 1 "$WORK/fe$t.times")" "$(wl_max 1 "$WORK/fe$t.times")" \
			"$(wl_median 2 "$WORK/fe$t.times")" "$rep" \
			"$(awk -v a="$llm" -v b="$fm" 'BEGIN { printf "%.2f", a / b }')" "$load" \
			"$(basename "$tr")" "$l2" "$fe_tol" "$t" "$FERAL_ARGS" >> "$CSV"
		printf '  %-12s feral %s --tol %-5s %s thr  P %-18s gap %-10s wall %s s  (liblinear/feral %s)\n' \
			"$name" "$m" "$fe_tol" "$t" "$o" "$(gap_of "$o" "$ref")" "$fm" \
			"$(awk -v a="$llm" -v b="$fm" 'BEGIN { printf "%.2f", a / b }')" >&2
	done
	echo "  load: $load" >&2
}

if [ -r "$HEART" ]; then
	cp "$HEART" "$WORK/heart_scale.svm"
	run_set heart_scale "$WORK/heart_scale.svm" $((4 * REPEAT))
else
	echo "$0: $HEART missing (liblinear-tools): heart_scale skipped" >&2
fi
if [ -r "$FM/train-images-idx3-ubyte.gz" ]; then
	wl_fashion_binary
	run_set fashion$FASHION_N "$WORK/fmb_train.svm" "$REPEAT"
else
	echo "$0: $FM missing (dataset-fashion-mnist): Fashion-MNIST skipped" >&2
fi
echo "wrote $CSV" >&2
