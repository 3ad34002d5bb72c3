#!/bin/sh
# Thread scaling in the default configuration (no --replicas, no tuning):
# updates/s at 1 thread and at T threads on the four workloads the main job
# must scale on, plus power-law sparse columns; then the Hogwild! path
# (--method svrg) on the sparse problems, whose default method is Newton-CG.  Problems are generated once
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

# median updates/s, method and placement of R runs: cmd, file, threads, extra args
point() {
	i=0
	: > "$D/runs"
	while [ $i -lt "$R" ]; do
		# --epochs 0: train's default budget would end a small problem in 0.1 s
		$F "$1" "$2" --threads "$3" $4 --tol 0 --epochs 0 --seconds "$S" --seed $((i + 1)) --json 2>/dev/null |
			python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["updates_per_s"], j.get("method","?"), j.get("replicas_mode","-"), j.get("replica_models","-"), j.get("hot_coords",0))' >> "$D/runs"
		i=$((i + 1))
	done
	sort -g "$D/runs" | awk -v r="$R" 'NR == int((r + 1) / 2) { print $1, $2, $3, $4, $5 }'
}

echo "problem,command,options,threads,updates_per_s,method,replicas,replica_models,hot_coords,ratio_vs_1" > "$OUT"
printf '| problem | options | method | 1 thread (updates/s) | %s threads | placement | ratio |\n|---|---|---|---|---|---|---|\n' "$T"
# The default configuration (no option), then the Hogwild! path itself on the
# sparse problems, where the default method is Newton-CG (docs/math.md §7):
# --method svrg (placement still automatic: the hot set).
for case in dense256: dense1024: sparse-uniform: sparse-zipf: logistic: \
	"sparse-uniform:--method svrg" "sparse-zipf:--method svrg"; do
	p=${case%%:*}; opt=${case#*:}
	cmd=solve; [ $p = logistic ] && cmd=train
	set -- $(point $cmd "$D/$p.feral" 1 "$opt"); u1=$1
	set -- $(point $cmd "$D/$p.feral" "$T" "$opt"); uT=$1; meth=$2; rT=$3; mT=$4; hT=$5
	ratio=$(awk -v a="$uT" -v b="$u1" 'BEGIN { printf "%.2f", a / b }')
	echo "$p,$cmd,$opt,1,$u1,$meth,,,,1.00" >> "$OUT"
	echo "$p,$cmd,$opt,$T,$uT,$meth,$rT,$mT,$hT,$ratio" >> "$OUT"
	printf '| %s | %s | %s | %.3g M | %.3g M | %s (%s models, %s hot) | %s× |\n' "$p" "${opt:-(none)}" "$meth" \
		"$(awk -v a="$u1" 'BEGIN{print a/1e6}')" "$(awk -v a="$uT" 'BEGIN{print a/1e6}')" "$rT" "$mT" "$hT" "$ratio"
done
echo "(feral solve|train DATA [OPTIONS] --threads 1|$T --tol 0 --epochs 0 --seconds $S, median of $R; $OUT)"
