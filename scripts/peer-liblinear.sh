#!/bin/sh
# Peer for build/bench --peers (classification): liblinear on a LIBSVM file.
#   scripts/peer-liblinear.sh SOLVER C DATA.svm MODEL PRED
# SOLVER is liblinear-train's -s (0: L2-regularised logistic regression,
# primal; 3: L2 hinge, dual); C its -c.  Trains on DATA, predicts DATA
# (training accuracy) and prints one line
#   RESULT <training seconds> <training accuracy in [0, 1], or nan>
# A failed training exits with liblinear-train's status and its output.
set -u
[ $# -eq 5 ] || { echo "usage: $0 SOLVER C DATA MODEL PRED" >&2; exit 2; }
solver=$1 c=$2 data=$3 model=$4 pred=$5
t0=$(date +%s.%N)
out=$(liblinear-train -q -s "$solver" -c "$c" "$data" "$model" 2>&1)
rc=$?
t1=$(date +%s.%N)
if [ $rc -ne 0 ]; then
	printf '%s\n' "$out"
	exit $rc
fi
acc=nan
if out=$(liblinear-predict "$data" "$model" "$pred" 2>&1); then
	# "Accuracy = 93.1% (931/1000)"
	a=$(printf '%s\n' "$out" | sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p')
	[ -n "$a" ] && acc=$(awk -v a="$a" 'BEGIN { printf "%.6f", a / 100 }')
fi
awk -v t0="$t0" -v t1="$t1" -v acc="$acc" 'BEGIN { printf "RESULT %.6f %s\n", t1 - t0, acc }'
