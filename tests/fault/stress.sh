#!/bin/sh
# Concurrency stress: RUNS solves (default 50) with random thread counts (1-8),
# replica modes, precisions, OpenMP team limits, and SIGINT/SIGTERM at random
# moments.  Every run must end within 10 s with a valid status: 0 (done), 1
# (a failure it reports), 130/143 (stopped by the signal, iterate written).
# The choices come from a fixed seed (SEED, default 1), so a failing run can
# be replayed; the signal's moment is what varies with the machine's load.
# Prints a closing "N passed, N failed".
#
# usage: tests/fault/stress.sh BUILD_DIR [RUNS] [SEED]
set -u
B=$(cd "${1:-build}" && pwd)
RUNS=${2:-50}
SEED=${3:-1}
FERAL=$B/feral
W=$(mktemp -d /tmp/feral-stress.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2
"$FERAL" gen gaussian --n 20000 --d 64 --noise 0.1 -o g.npy >/dev/null 2>&1 || exit 2
"$FERAL" gen sparse --n 20000 --d 5000 --density 0.004 --power 1.2 -o s.feral >/dev/null 2>&1 || exit 2

# One line of choices per run from awk's seeded generator:
# threads replicas precision signal delay_ms limit data budget
awk -v n="$RUNS" -v seed="$SEED" 'BEGIN {
	srand(seed)
	split("machine node core", rep, " "); split("32 16 8", prec, " ")
	split("none INT TERM", sig, " "); split("none dyn limit1 limit2", lim, " ")
	split("g s", data, " "); split("seconds epochs", budget, " ")
	for (i = 0; i < n; i++)
		printf "%d %s %s %s %d %s %s %s\n", 1 + int(rand() * 8), rep[1 + int(rand() * 3)],
			prec[1 + int(rand() * 3)], sig[1 + int(rand() * 3)], int(rand() * 400),
			lim[1 + int(rand() * 4)], data[1 + int(rand() * 2)], budget[1 + int(rand() * 2)]
}' > plan

passed=0; failed=0; i=0
while read -r threads replicas precision sig delay limit data budget; do
	i=$((i + 1))
	envs=
	case $limit in
	dyn) envs="OMP_DYNAMIC=true" ;;
	limit1) envs="OMP_THREAD_LIMIT=1" ;;
	limit2) envs="OMP_THREAD_LIMIT=2" ;;
	esac
	files="g.npy g.b.npy"; [ "$data" = s ] && files=s.feral
	lim_arg="--seconds 2"; [ "$budget" = epochs ] && lim_arg="--epochs 3"
	desc="#$i: $lim_arg --threads $threads --replicas $replicas --precision $precision, signal $sig at ${delay} ms, ${envs:-default OpenMP}, $data"
	# shellcheck disable=SC2086
	env $envs timeout -s KILL 10 "$FERAL" solve $files --threads "$threads" \
		--replicas "$replicas" --precision "$precision" $lim_arg --seed "$i" -o x.npy \
		>/dev/null 2>err &
	pid=$!
	if [ "$sig" != none ]; then
		sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
		# timeout's child is the solve: signal it (not timeout itself)
		child=$(pgrep -P $pid 2>/dev/null | head -1)
		kill -s "$sig" "${child:-$pid}" 2>/dev/null
	fi
	wait $pid; rc=$?
	case $rc in
	0|1|130|143) passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)); echo "[FAIL] $desc: exit $rc$( [ $rc -eq 137 ] && echo ' (killed after 10 s)'): $(tail -1 err)" ;;
	esac
done < plan
echo "stress: $RUNS solves (seed $SEED)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
