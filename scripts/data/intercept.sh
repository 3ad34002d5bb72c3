#!/bin/bash
# L2 logistic regression with C = 1 (feral's --l2 1/(C n)) and an intercept:
# feral train against liblinear -s 0 -e 1e-8 (-B 1 / no -B), same data, same run.
#
#   scripts/data/intercept.sh [REPEAT]            (after scripts/deps.sh and make)
#
# Data: heart_scale (270 x 13, liblinear-tools' example) and a Fashion-MNIST
# binary subset (the first FASHION_N = 10000 training images, T-shirt/top,
# pullover, coat, shirt = 0,2,4,6 against the rest; test: the 10000 test
# images), both as LIBSVM files.  Each model's objective
#   P(w) = 1/2 ||w||^2 + C sum_i log(1 + exp(-y_i w.[x_i; B]))
# (liblinear's, with the bias feature regularised as in both tools) and its
# accuracies are computed from the written model file by
# scripts/data/logreg_objective.py; rel_gap = P / P(liblinear, same bias) - 1.
# Walls: REPEAT runs (default 3), median (min, max); load included on both
# sides.  Writes results/intercept-logistic.csv.  Environment: FERAL (default
# build/feral), THREADS (feral --threads, default 1), WORK (scratch, default
# /tmp/feral-intercept-$UID), FASHION_N.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/data/common.sh"
REPEAT=${1:-${REPEAT:-3}}
FERAL=${FERAL:-$ROOT/build/feral}
THREADS=${THREADS:-1}
WORK=${WORK:-/tmp/feral-intercept-$(id -u)}
FASHION_N=${FASHION_N:-10000}
CSV=$ROOT/results/intercept-logistic.csv
PY=/usr/bin/python3
OBJ="$PY $ROOT/scripts/data/logreg_objective.py"
HEART=/usr/share/doc/liblinear-tools/examples/heart_scale
FM=/usr/share/datasets/fashion-mnist

[ -x "$FERAL" ] || wl_die "$FERAL not built: run make first"
command -v liblinear-train >/dev/null || wl_die "liblinear-train missing: run scripts/deps.sh (liblinear-tools)"
mkdir -p "$WORK" "$ROOT/results"
echo "data,tool,bias,config,objective,rel_gap,train_accuracy,test_accuracy,wall_s_median,wall_s_min,wall_s_max,repeats,command" > "$CSV"

# one data set: NAME TRAIN TEST|-
run_set() {
	local name=$1 tr=$2 te=$3 n l2 b tag ref line
	n=$(wc -l < "$tr")
	l2=$(awk -v n="$n" 'BEGIN { printf "%.17g", 1 / n }') # C = 1
	for b in 1 0; do
		if [ $b = 1 ]; then llb="-B 1" fb="--bias 1"; else llb="" fb="--no-bias"; fi
		tag=${name}_b$b
		wl_run ll_$tag liblinear-train -q -s 0 -c 1 -e 1e-8 $llb "$tr" "$WORK/ll_$tag.model"
		ref=$($OBJ "$tr" "$te" 1 "$WORK/ll_$tag.model" | awk '{ print $1 }')
		row "$name" liblinear $b "-s 0 -c 1 -e 1e-8 $llb" "$WORK/ll_$tag.model" ll_$tag "$ref" \
			"liblinear-train -s 0 -c 1 -e 1e-8 $llb $(basename "$tr")"
		for tol in 1e-6 1e-9; do
			wl_run fe_${tag}_$tol "$FERAL" train "$tr" --l2 "$l2" --tol $tol $fb --threads "$THREADS" \
				--json -o "$WORK/fe_$tag.$tol.txt"
			row "$name" feral $b "--l2 1/n --tol $tol $fb" "$WORK/fe_$tag.$tol.txt" fe_${tag}_$tol "$ref" \
				"feral train $(basename "$tr") --l2 $l2 --tol $tol $fb --threads $THREADS"
		done
		# the default budget (100 epochs of SVRG) may end before the optimum on an
		# ill-conditioned set (Fashion: L/mu ~ 1e6 >> n): one run with 10x that
		if [ "$n" -gt 1000 ] && [ $b = 1 ]; then
			WL_REPEAT=1 wl_run fe_${tag}_long "$FERAL" train "$tr" --l2 "$l2" --tol 1e-9 --epochs 1000 \
				$fb --threads "$THREADS" --json -o "$WORK/fe_$tag.long.txt"
			row "$name" feral $b "--l2 1/n --tol 1e-9 --epochs 1000 $fb" "$WORK/fe_$tag.long.txt" \
				fe_${tag}_long "$ref" \
				"feral train $(basename "$tr") --l2 $l2 --tol 1e-9 --epochs 1000 $fb --threads $THREADS"
		fi
	done
}

# row DATA TOOL BIAS CONFIG MODEL NAME REF_OBJECTIVE COMMAND
row() {
	local o f="$WORK/$6.times"
	o=$($OBJ "$TRAIN" "$TEST" 1 "$5")
	set -- "$@" $o # $9 objective, ${10} train acc, ${11} test acc
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"%s"\n' "$1" "$2" "$3" "$4" "$9" \
		"$(awk -v a="$9" -v r="$7" 'BEGIN { printf "%.3e", a / r - 1 }')" "${10}" "${11}" \
		"$(wl_median 1 "$f")" "$(wl_min 1 "$f")" "$(wl_max 1 "$f")" "$(wc -l < "$f")" "$8" >> "$CSV"
	printf '  %-8s %-9s bias %s %-34s P %-18s gap %-10s train %s test %s wall %s s\n' "$1" "$2" "$3" "$4" \
		"$9" "$(awk -v a="$9" -v r="$7" 'BEGIN { printf "%.3e", a / r - 1 }')" "${10}" "${11}" \
		"$(wl_median 1 "$f")" >&2
}

if [ -r "$HEART" ]; then
	cp "$HEART" "$WORK/heart_scale.svm"
	TRAIN=$WORK/heart_scale.svm TEST=-
	echo "heart_scale (270 x 13), $REPEAT runs each:" >&2
	run_set heart_scale "$TRAIN" "$TEST"
else
	echo "$0: $HEART missing (liblinear-tools): heart_scale skipped" >&2
fi

if [ -r "$FM/train-images-idx3-ubyte.gz" ]; then
	wl_fashion_binary
	TRAIN=$WORK/fmb_train.svm TEST=$WORK/fmb_test.svm
	echo "Fashion-MNIST binary, first $FASHION_N training images, $REPEAT runs each:" >&2
	run_set fashion$FASHION_N "$TRAIN" "$TEST"
else
	echo "$0: $FM missing (dataset-fashion-mnist): Fashion-MNIST skipped" >&2
fi
echo "wrote $CSV" >&2
