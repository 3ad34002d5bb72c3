#!/bin/sh
# Peers: the same data in the same run, with ratios to feral.
#   scripts/peers.sh [OUTDIR]          (BENCH=path/to/bench, default build/bench)
# Least squares (524288 x 256, 512 MiB at f32, out of cache): LAPACK dgels
# (feral_lstsq) and a serial textbook randomized Kaczmarz.  Classification
# (logistic, svm): liblinear (scripts/peer-liblinear.sh, liblinear-train) and
# scikit-learn's SGDClassifier (scripts/peer-sklearn.py, python3-sklearn), on
# a LIBSVM copy of the data written to the bench cache directory; feral uses
# --step auto there (1/(2 sup L_w) with a 1/(1 + epoch) decay, as `feral train`).
# Each writes OUTDIR/peers-<problem>.csv (feral's points),
# OUTDIR/peers-<problem>-peers.csv (the peers and ratios) and a JSON object.
set -eu
bench=${BENCH:-build/bench}
out=${1:-results}
secs=${SECONDS_PER_POINT:-3}
mkdir -p "$out"
rm -f "$out"/peers-ls*.csv "$out"/peers-logistic*.csv "$out"/peers-svm*.csv
set -x
"$bench" --peers --n 524288 --d 256 --threads 1,2 --precision 32 --seconds "$secs" \
	--out "$out/peers-ls.csv" --json >"$out/peers-ls.json"
"$bench" --peers --problem logistic --n 65536 --d 128 --threads 1,2 --precision 32 --step auto \
	--seconds "$secs" --out "$out/peers-logistic.csv" --json >"$out/peers-logistic.json"
"$bench" --peers --problem svm --n 65536 --d 128 --threads 1,2 --precision 32 --step auto \
	--seconds "$secs" --out "$out/peers-svm.csv" --json >"$out/peers-svm.json"
