#!/bin/sh
# The low-precision (Buckwild!) must-show set in one command: D32M32, D16M16
# and D8M8 updates/s with their horizons, plain and with --recenter, at 1 and
# 2 threads (core replicas), on three dense least-squares problems:
#   d 1024, n 262144 (1 GiB of f32 rows: out of cache),
#   d 1024, n 512    (in cache; no --recenter: n < d, no unique x*),
#   d 256,  n 524288 (512 MiB of f32 rows).
#   scripts/precision.sh [SECONDS [REPEAT [OUTDIR]]]   (defaults 3 3 results)
# writes OUTDIR/precision-{d1024,incache,d256}.csv (replaced) and prints, per
# problem and thread count, the ratios to D32M32 of the median updates/s
# (wall clock) and of the updates per CPU-second of one worker (bench's
# upd/cpu-s: what a loaded machine does not distort; see docs/design.md §5).
# About 40 + 6 x 3 x SECONDS x REPEAT seconds in all, plus the one-time data
# generation (~1.5 GiB into bench's cache directory).
set -eu
secs=${1:-3}
rep=${2:-3}
out=${3:-results}
here=$(dirname "$0")
bench=${BENCH:-$here/../build/bench}
[ -x "$bench" ] || { echo "precision.sh: $bench not built (make)" >&2; exit 1; }
mkdir -p "$out"
common="--threads 1,2 --replicas core --seconds $secs --repeat $rep"
run() { # name, problem options, recenter too?
	f="$out/precision-$1.csv"
	rm -f "$f" "${f%.csv}.jsonl"
	# shellcheck disable=SC2086
	"$bench" $2 $common --precision 32,16,8 --out "$f" >&2
	if [ "$3" = yes ]; then
		# shellcheck disable=SC2086
		"$bench" $2 $common --precision 16,8 --recenter --out "$f" >&2
	fi
}
run d1024 "--n 262144 --d 1024" yes
run incache "--n 512 --d 1024" no
run d256 "--n 524288 --d 256" yes
PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" - "$out" <<'PY'
import csv, sys
out = sys.argv[1]
print("problem   thr  precision          updates/s  upd/cpu-s  ratio(wall) ratio(cpu)  horizon")
for name in ("d1024", "incache", "d256"):
    rows = list(csv.DictReader(open(f"{out}/precision-{name}.csv")))
    base = {r["threads"]: r for r in rows if r["precision"] == "D32M32G32"}
    for r in rows:
        b = base.get(r["threads"])
        w = float(r["updates_per_s"]); c = float(r["updates_per_cpu_s"])
        rw = w / float(b["updates_per_s"]) if b else float("nan")
        rc = c / float(b["updates_per_cpu_s"]) if b else float("nan")
        print(f"{name:9s} {r['threads']:>3s}  {r['precision']:17s} {w:10.3g} {c:10.3g}"
              f"  {rw:10.2f}x {rc:9.2f}x  {float(r['horizon']):.2g}")
PY
