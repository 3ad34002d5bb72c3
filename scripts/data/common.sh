# Shared helpers for scripts/data/*.sh (sourced, bash).
#   wl_run NAME CMD...   run CMD REPEAT times; stdout -> $WORK/NAME.out, stderr ->
#                        $WORK/NAME.err (last run); "wall user+sys" per run -> $WORK/NAME.times
#   wl_csv_row TASK TOOL CONFIG INPUT BITS ACCURACY NAME "COMMAND"
#                        append one CSV row with the median/min/max wall time and the
#                        median CPU time of NAME's runs.
# Timing: bash's `time` (wall = %R; cpu = user + sys), no GNU time needed.

wl_die() { echo "$0: $*" >&2; exit 1; }

wl_run() {
	local name=$1 k rc t
	shift
	: > "$WORK/$name.times"
	for k in $(seq 1 "${WL_REPEAT:-$REPEAT}"); do
		TIMEFORMAT='%R %U %S'
		rc=0
		{ time "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"; } 2> "$WORK/$name.t" || rc=$?
		[ $rc -eq 0 ] || { cat "$WORK/$name.err" >&2; wl_die "$name failed (exit $rc): $*"; }
		t=$(tail -1 "$WORK/$name.t")
		echo "$t" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' >> "$WORK/$name.times"
	done
}

# median of column $1 of file $2
wl_median() { awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wl_min() { awk -v c="$1" '{ print $c }' "$2" | sort -g | head -1; }
wl_max() { awk -v c="$1" '{ print $c }' "$2" | sort -g | tail -1; }

wl_csv_header() {
	echo "task,tool,config,input,bits,test_accuracy,wall_s_median,wall_s_min,wall_s_max,cpu_s_median,repeats,command" > "$1"
}

wl_csv_row() {
	local task=$1 tool=$2 config=$3 input=$4 bits=$5 acc=$6 name=$7 cmd=$8 f="$WORK/$7.times"
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"%s"\n' "$task" "$tool" "$config" "$input" "$bits" "$acc" \
		"$(wl_median 1 "$f")" "$(wl_min 1 "$f")" "$(wl_max 1 "$f")" "$(wl_median 2 "$f")" \
		"$(wc -l < "$f")" "$cmd" >> "$CSV"
	printf '  %-7s %-10s %-34s %-8s %2s bits  acc %s  wall %s s (median of %s)\n' "$task" "$tool" "$config" \
		"$input" "$bits" "$acc" "$(wl_median 1 "$f")" "$(wc -l < "$f")" >&2
}

# test accuracy from feral --json on stdout
wl_feral_acc() { grep -o '"test_accuracy":[0-9.e+-]*' "$WORK/$1.out" | tail -1 | cut -d: -f2 | awk '{ printf "%.4f\n", $1 }'; }
# accuracy from liblinear-predict's "Accuracy = 95.15% (9515/10000)"
wl_liblinear_acc() { sed -n 's/^Accuracy = \([0-9.]*\)%.*/\1/p' "$1" | awk '{ printf "%.4f\n", $1 / 100 }'; }

# sk_row TASK LOSS TRAIN TEST REPEATS: scikit-learn SGDClassifier (scripts/data/sk_sgd.py,
# /usr/bin/python3) with $NF columns; the row's wall is the in-process load(train) + fit.
sk_row() {
	local task=$1 loss=$2 tr=$3 te=$4 rep=$5 name=sk_$1_$2 k
	: > "$WORK/$name.times"
	for k in $(seq 1 "$rep"); do
		/usr/bin/python3 "$ROOT/scripts/data/sk_sgd.py" "$tr" "$te" "$loss" "$NF" > "$WORK/$name.out"
		awk '{ printf "%.3f %.3f\n", $1 + $2, $1 + $2 }' "$WORK/$name.out" >> "$WORK/$name.times"
	done
	wl_csv_row "$task" sklearn "SGDClassifier $loss" libsvm 64 "$(awk '{ printf "%.4f", $3 }' "$WORK/$name.out")" \
		$name "sk_sgd.py $(basename "$tr") $(basename "$te") $loss (load+fit in-process)"
}

# The Fashion-MNIST binary subset (labels 0, 2, 4, 6 against the rest) as
# LIBSVM under $WORK: fmb_train.svm (the first $FASHION_N training images) and
# fmb_test.svm, made once from $FM with $FERAL (intercept.sh, optimum.sh).
wl_fashion_binary() {
	[ -s "$WORK/fmb_train.svm" ] && [ -s "$WORK/fmb_test.svm" ] && return 0
	"$FERAL" convert "$FM/train-images-idx3-ubyte.gz" "$WORK/fm_train.svm" --targets "$FM/train-labels-idx1-ubyte.gz"
	"$FERAL" convert "$FM/t10k-images-idx3-ubyte.gz" "$WORK/fm_test.svm" --targets "$FM/t10k-labels-idx1-ubyte.gz"
	relabel='{ $1 = ($1 == 0 || $1 == 2 || $1 == 4 || $1 == 6) ? "+1" : "-1"; print }'
	head -n "$FASHION_N" "$WORK/fm_train.svm" | awk "$relabel" > "$WORK/fmb_train.svm"
	awk "$relabel" "$WORK/fm_test.svm" > "$WORK/fmb_test.svm"
	rm -f "$WORK/fm_train.svm" "$WORK/fm_test.svm"
}
