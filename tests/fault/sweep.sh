#!/bin/sh
# Allocation-failure sweep (SQLite's habit): for each scenario, run feral once
# through the failalloc shim to count N, the heap allocations feral's own code
# makes, then N more times failing allocation k = 1..N.  Every run must end
# cleanly: exit 0, 1 or 2 (no signal, no abort), an error message on stderr
# when it fails, nothing left allocated by feral's code at exit, and an
# output file that is either absent or the previous, intact one (writes are
# atomic).  Prints one line per scenario and a closing "N passed, N failed".
#
# usage: tests/fault/sweep.sh BUILD_DIR   (a non-sanitizer build: build/)
set -u
B=$(cd "${1:-build}" && pwd)
SHIM=$B/tests/libfailalloc.so
FERAL=$B/feral
[ -x "$FERAL" ] && [ -f "$SHIM" ] || { echo "sweep: need $FERAL and $SHIM"; exit 2; }
W=$(mktemp -d /tmp/feral-faults.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2

"$FERAL" gen gaussian --n 400 --d 12 --noise 0.1 -o g.npy >/dev/null 2>&1 || exit 2
"$FERAL" gen logistic --n 300 --d 8 -o c.svm >/dev/null 2>&1 || exit 2
"$FERAL" convert g.npy g.mtx >/dev/null 2>&1 || exit 2
"$FERAL" convert c.svm c.feral --precision 8 >/dev/null 2>&1 || exit 2

passed=0; failed=0; points=0
scenario() { # name, expected output file or -, feral args...
	name=$1; out=$2; shift 2
	rm -f -- rep "$out.keep"
	FERAL_FAIL_REPORT=rep LD_PRELOAD=$SHIM "$FERAL" "$@" >/dev/null 2>err; rc=$?
	n=$(sed -n 's/^allocs \([0-9]*\) .*/\1/p' rep 2>/dev/null)
	base_live=$(sed -n 's/.* live \([0-9]*\) .*/\1/p' rep 2>/dev/null)
	if [ $rc -ne 0 ] || [ -z "$n" ] || [ "${base_live:-1}" -ne 0 ]; then
		echo "[FAIL] $name: baseline run exit $rc, report '$(cat rep 2>/dev/null)': $(tail -2 err)"
		failed=$((failed + 1)); return
	fi
	[ "$out" != - ] && cp "$out" "$out.keep"
	bad=0
	k=1
	while [ $k -le "$n" ]; do
		rm -f rep
		FERAL_FAIL_ALLOC=$k FERAL_FAIL_REPORT=rep LD_PRELOAD=$SHIM "$FERAL" "$@" >/dev/null 2>err
		rc=$?
		live=$(sed -n 's/.* live \([0-9]*\) .*/\1/p' rep 2>/dev/null)
		why=
		if [ $rc -gt 2 ]; then why="exit $rc (signal or abort)"
		elif [ -z "$live" ]; then why="no report (exit $rc)"
		elif [ "$live" -ne 0 ]; then why="$live allocation(s) leaked (exit $rc)"
		elif [ $rc -ne 0 ] && ! grep -q 'feral' err; then why="exit $rc with no message"
		elif [ "$out" != - ] && [ -f "$out" ] && ! cmp -s "$out" "$out.keep" && [ $rc -ne 0 ]; then
			why="failed run left a changed $out"
		fi
		if [ -n "$why" ]; then
			[ $bad -lt 5 ] && echo "[FAIL] $name: k=$k/$n: $why: $(tail -1 err)"
			bad=$((bad + 1))
		fi
		[ "$out" != - ] && cp "$out.keep" "$out"
		k=$((k + 1))
	done
	points=$((points + n))
	if [ $bad -eq 0 ]; then
		echo "[PASS] $name: $n allocation points, all clean"; passed=$((passed + 1))
	else
		echo "[FAIL] $name: $bad of $n allocation points not clean"; failed=$((failed + 1))
	fi
}

scenario "solve npy, 1 thread" x.npy solve g.npy g.b.npy --threads 1 --epochs 2 -o x.npy
scenario "solve npy, sgd with the auto step's pilot" x.npy solve g.npy g.b.npy --method sgd --threads 1 --epochs 2 -o x.npy
scenario "solve npy, 2 threads, core replicas" x.npy solve g.npy g.b.npy --threads 2 --replicas core --epochs 2 -o x.npy
scenario "solve mtx, reference, 8 bits" x.txt solve g.mtx g.b.npy --reference lapack --precision 8 --recenter --epochs 2 --threads 1 -o x.txt
scenario "train libsvm + predict model" m.txt train c.svm --epochs 2 --threads 1 -o m.txt
scenario "train cache, 2 threads, json" - train c.feral --precision 8 --epochs 2 --threads 2 --json
scenario "predict" - predict m.txt c.svm
scenario "convert libsvm -> cache" c2.feral convert c.svm c2.feral
scenario "gen" - gen gaussian --n 100 --d 5 -o h.npy
echo "fault sweep: $points allocation points"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
