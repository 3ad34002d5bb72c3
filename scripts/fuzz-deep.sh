#!/bin/sh
# Deep fuzzing, outside CI: each libFuzzer target in turn (one core at a
# time, under nice), for FUZZ_RUNS executions or FUZZ_SECONDS seconds,
# whichever comes first, then (FUZZ_MERGE=1) its corpus minimized back into
# tests/fuzz/corpus/<target>.  CI runs only `make fuzz-smoke`.
#
#   scripts/fuzz-deep.sh [TARGET...]      (default: every tests/fuzz/fuzz_*.c)
#   make fuzz-deep [FUZZ_TARGETS="fuzz_npy fuzz_mtx"]
#
# The runs of issue 17 (2 shared cores, loaded machine; results/README.md,
# "Deep fuzzing"): the loaders, fastest first, 10 M executions or 20 min
# each, then the option parsers:
#   FUZZ_MERGE=1 FUZZ_SECONDS=1200 scripts/fuzz-deep.sh fuzz_npy fuzz_model \
#       fuzz_checkpoint fuzz_cache fuzz_idx fuzz_mtx fuzz_libsvm
#   FUZZ_MERGE=1 FUZZ_SECONDS=900 scripts/fuzz-deep.sh fuzz_cli
# A target cut short by its time cap is run again (its work corpus resumes);
# the execution counts are in $FUZZ_WORK/summary.tsv.
#
# Environment:
#   FUZZ_RUNS=10000000   executions per target (libFuzzer -runs)
#   FUZZ_SECONDS=3600    time cap per target (-max_total_time)
#   FUZZ_DEADLINE=EPOCH  optional: share the time left until then evenly
#                        among the targets still to run (caps FUZZ_SECONDS)
#   FUZZ_WORK=/dev/shm/feral-fuzz-deep   work corpora, artifacts, logs; kept
#                        between runs so that later runs resume from them
#   FUZZ_RSS_MB=2048     -rss_limit_mb
#   FUZZ_MERGE=0         1: rebuild tests/fuzz/corpus/<target> as its named
#                        seeds plus what -merge=1 keeps of the earlier finds
#                        (40-hex-digit names) and the work corpus (inputs
#                        cut at -max_len=4096)
#   FUZZ_NICE=19         nice level
#   ASAN_OPTIONS         default quarantine_size_mb=64 (far above what one
#                        execution frees; the default 256 MB costs fresh
#                        pages on every large malloc)
#   FUZZ_BIN_DIR=DIR     run the targets found there, without building (a
#                        copy, so that a rebuild cannot replace a running
#                        binary); default: `make fuzz`, then build/fuzz
# The work directory (and TMPDIR of the targets, where the loaders' inputs
# are written) is on /dev/shm: on a VM's disk the file writes of each
# execution cost 10-30x.  A crash, leak, timeout or out-of-memory leaves
# $FUZZ_WORK/<target>-crash-* (or leak-, timeout-, oom-) and fails the run.
# Summary: $FUZZ_WORK/summary.tsv (target, executions, seconds, corpus files
# and bytes before and after minimization).
set -u
cd "$(dirname "$0")/.." || exit 1
RUNS=${FUZZ_RUNS:-10000000}
SECONDS_CAP=${FUZZ_SECONDS:-3600}
WORK=${FUZZ_WORK:-/dev/shm/feral-fuzz-deep}
RSS=${FUZZ_RSS_MB:-2048}
MERGE=${FUZZ_MERGE:-0}
NICE=${FUZZ_NICE:-19}
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64}
export ASAN_OPTIONS
BUILD=${BUILD:-build}

if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||')
fi
if [ -n "${FUZZ_BIN_DIR:-}" ]; then
	bindir=$FUZZ_BIN_DIR
else
	make --no-print-directory fuzz BUILD="$BUILD" SANITIZER= RACES= || exit 1
	bindir=$BUILD/fuzz
fi
mkdir -p "$WORK/tmp" || exit 1
summary=$WORK/summary.tsv
[ -f "$summary" ] || printf 'target\texecutions\tseconds\tfiles_before\tbytes_before\tfiles_after\tbytes_after\n' > "$summary"

corpus_size() { # files and bytes of a directory
	printf '%s\t%s' "$(find "$1" -type f | wc -l)" \
		"$(find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')"
}

set -- $targets
status=0
for t in $targets; do
	left=$#
	shift
	f=${t#fuzz_}
	bin=$bindir/$t
	[ -x "$bin" ] || { echo "fuzz-deep: no $bin"; status=1; continue; }
	secs=$SECONDS_CAP
	if [ -n "${FUZZ_DEADLINE:-}" ]; then
		share=$(( (FUZZ_DEADLINE - $(date +%s)) / left ))
		[ "$share" -lt "$secs" ] && secs=$share
		[ "$secs" -lt 10 ] && secs=10
	fi
	mkdir -p "$WORK/$t" "tests/fuzz/corpus/$t"
	dict=
	[ -f "tests/fuzz/$f.dict" ] && dict=-dict=tests/fuzz/$f.dict
	extra=
	# the CLI target's usage messages would fill the log: close its stdout/stderr
	# (libFuzzer keeps its own stderr, and sanitizer reports go there)
	[ "$t" = fuzz_cli ] && extra=-close_fd_mask=3
	log=$WORK/$t.log
	echo "fuzz-deep: $t: up to $RUNS runs or $secs s (log $log)"
	start=$(date +%s)
	TMPDIR=$WORK/tmp nice -n "$NICE" "$bin" -runs="$RUNS" -max_total_time="$secs" \
		-max_len=4096 -timeout=20 -rss_limit_mb="$RSS" -print_final_stats=1 $dict $extra \
		-artifact_prefix="$WORK/$t-" "$WORK/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1
	rc=$?
	el=$(( $(date +%s) - start ))
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	echo "fuzz-deep: $t: ${n:-?} executions in $el s, exit $rc"
	if [ $rc -ne 0 ]; then
		tail -40 "$log"
		status=1
	fi
	before=$(corpus_size "tests/fuzz/corpus/$t")
	after=$before
	if [ "$MERGE" = 1 ] && [ $rc -eq 0 ]; then
		fresh=$WORK/$t.merged
		rm -rf "$fresh" "$WORK/$t.found"
		mkdir -p "$fresh" "$WORK/$t.found"
		# the named seeds (hand-written, each a case) stay as they are; the
		# fuzzer's finds (SHA-1 names) from earlier merges are merged again
		for s in "tests/fuzz/corpus/$t"/*; do
			[ -f "$s" ] || continue
			case ${s##*/} in
			????????????????????????????????????????) cp "$s" "$WORK/$t.found/" ;;
			*) cp "$s" "$fresh/" ;;
			esac
		done
		if TMPDIR=$WORK/tmp nice -n "$NICE" "$bin" -merge=1 -max_len=4096 -timeout=20 \
			-rss_limit_mb="$RSS" $extra "$fresh" "$WORK/$t.found" "$WORK/$t" \
			> "$WORK/$t.merge.log" 2>&1; then
			rm -rf "tests/fuzz/corpus/$t"
			mv "$fresh" "tests/fuzz/corpus/$t"
			after=$(corpus_size "tests/fuzz/corpus/$t")
		else
			echo "fuzz-deep: $t: merge failed (log $WORK/$t.merge.log)"
			status=1
		fi
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$t" "${n:-?}" "$el" "$before" "$after" >> "$summary"
done
column -t "$summary" 2>/dev/null || cat "$summary"
exit $status
