#!/bin/sh
# Thread scaling in the default configuration (no --replicas, no tuning):
# updates/s at 1 thread and at T threads on the four workloads the main job
# must scale on, plus power-law sparse columns.  Problems are generated once
# under data/scaling/; each point is the median of REPEAT runs of SECONDS s.
# Writes results/scaling-default.csv and prints a markdown table.
#
# usage: scripts/scaling-default.sh [THREADS (default 2)] [SECONDS (3)] [REPEAT (3)]
set -eu
cd "$(dirname "$0")/.."
T=${1:-2}
S=${2:-3}
R=${3:-3}
F=build/feral
D=data/scaling
OUT=results/scaling-default.csv
mkdir -p "$D" results
gen() { # name, gen args...
	name=$1; shift
	[ -f "$D/$name.feral" ] || $F gen "$@" -o "$D/$name.feral" >/dev/null
}
gen dense256 gaussian --n 524288 --d 256
gen dense1024 gaussian --n 262144 --d 1024
gen sparse-uniform sparse --n 1000000 --d 100000 --power 0
gen sparse-zipf sparse --n 1000000 --d 100000 --power 1.2
gen logistic logistic --n 65536 --d 128

# median updates/s and the chosen placement of R runs: cmd, file, threads
point() {
	i=0
	: > "$D/runs"
	while [ $i -lt "$R" ]; do
		# --epochs 0: train's default of 10 epochs would end a small problem in 0.1 s
		$F "$1" "$2" --threads "$3" --tol 0 --epochs 0 --seconds "$S" --seed $((i + 1)) --json 2>/dev/null |
			python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["updates_per_s"], j.get("replicas_mode","?"), j.get("replica_models","?"))' >> "$D/runs"
		i=$((i + 1))
	done
	sort -g "$D/runs" | awk -v r="$R" 'NR == int((r + 1) / 2) { print $1, $2, $3 }'
}

echo "problem,command,threads,updates_per_s,replicas,replica_models,ratio_vs_1" > "$OUT"
printf '| problem | 1 thread (updates/s) | %s threads | placement | ratio |\n|---|---|---|---|---|\n' "$T"
for p in dense256 dense1024 sparse-uniform sparse-zipf logistic; do
	cmd=solve; [ $p = logistic ] && cmd=train
	set -- $(point $cmd "$D/$p.feral" 1); u1=$1; r1=$2; m1=$3
	set -- $(point $cmd "$D/$p.feral" "$T"); uT=$1; rT=$2; mT=$3
	ratio=$(awk -v a="$uT" -v b="$u1" 'BEGIN { printf "%.2f", a / b }')
	echo "$p,$cmd,1,$u1,$r1,$m1,1.00" >> "$OUT"
	echo "$p,$cmd,$T,$uT,$rT,$mT,$ratio" >> "$OUT"
	printf '| %s | %.3g M | %.3g M | %s (%s models) | %s× |\n' "$p" \
		"$(awk -v a="$u1" 'BEGIN{print a/1e6}')" "$(awk -v a="$uT" 'BEGIN{print a/1e6}')" "$rT" "$mT" "$ratio"
done
echo "(feral solve|train DATA --threads 1|$T --tol 0 --epochs 0 --seconds $S, median of $R; $OUT)"
