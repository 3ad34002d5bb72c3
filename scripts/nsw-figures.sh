#!/bin/bash
# Reproduce Figures 1-2 of Needell, Srebro & Ward (Section 6): randomized
# Kaczmarz with partially biased sampling on the five kinds of systems,
# lambda = 0, 0.1, ..., 1, averaged over independent trials.
#
#   scripts/nsw-figures.sh [TRIALS] [EPS]     (defaults: 10 trials, eps 1e-3)
#
# Each run: feral gen nswK --seed s; feral solve --reference lapack (x* = LAPACK's
# least-squares solution) --lambda L with the auto step for --tol EPS (Corollary
# 2.2 with the weighted quantities sup L_w and sigma2_w at x_LS, so it changes
# with lambda), for 50,000 iterations without stopping, tracing
# ||x_k - x_LS||^2/||x_LS||^2 every 250 iterations.
# Writes results/nsw-figures.csv (mean error per case, lambda, iteration),
# results/nsw-iterations.csv (mean iterations to EPS; 50000 = not reached in
# every trial) and results/nsw-figure1.png, results/nsw-figure2.png.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-10}
EPS=${2:-1e-3}
ITERS=50000
EVERY=250
F=${FERAL:-build/feral}
[ -x "$F" ] || make -s -j2 build/feral
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p results
raw=$tmp/raw.csv
echo "case,lambda,trial,updates,rel_error" >"$raw"
for c in 1 2 3 4 5; do
	for s in $(seq 1 "$TRIALS"); do
		"$F" gen "nsw$c" --seed "$s" -o "$tmp/a.npy" 2>/dev/null
		for l in 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1; do
			# the auto step sized for EPS (a 1-update run reports it), then the
			# whole curve at that step without stopping at EPS
			step=$("$F" solve "$tmp/a.npy" "$tmp/a.b.npy" --reference lapack --lambda "$l" \
				--tol "$EPS" --updates 1 --epochs 0 --json 2>"$tmp/err" |
				sed -n 's/.*"step":\([^,]*\).*/\1/p') || { cat "$tmp/err" >&2; exit 1; }
			"$F" solve "$tmp/a.npy" "$tmp/a.b.npy" --reference lapack --lambda "$l" \
				--step "$step" --tol 0 --updates $ITERS --epochs 0 --trace-every $EVERY \
				--trace "$tmp/t.csv" --seed "$s" --json >/dev/null 2>"$tmp/err" ||
				{ cat "$tmp/err" >&2; exit 1; }
			awk -F, -v c="$c" -v l="$l" -v s="$s" \
				'NR > 1 { print c "," l "," s "," $1 "," $5 }' "$tmp/t.csv" >>"$raw"
		done
	done
	echo "nsw-figures: case $c done" >&2
done
# mean error per (case, lambda, updates) on the common grid
awk -F, -v ev=$EVERY 'NR > 1 && $4 % ev == 0 { k = $1 "," $2 "," $4; s[k] += $5; n[k]++ }
	END { print "case,lambda,updates,mean_rel_error"
	      for (k in s) print k "," s[k] / n[k] }' "$raw" |
	sort -t, -k1,1n -k2,2g -k3,3n >results/nsw-figures.csv
# iterations to EPS per trial (first trace point at or below EPS), then the mean
awk -F, -v eps="$EPS" -v it=$ITERS 'NR > 1 { k = $1 "," $2 "," $3
	if (!(k in hit)) hit[k] = it
	if ($5 <= eps && $4 < hit[k]) hit[k] = $4 }
	END { for (k in hit) { split(k, a, ","); g = a[1] "," a[2]; s[g] += hit[k]; n[g]++
	                       if (hit[k] >= it) miss[g]++ }
	      print "case,lambda,mean_iterations,trials_not_reached"
	      for (g in s) print g "," s[g] / n[g] "," miss[g] + 0 }' "$raw" |
	sort -t, -k1,1n -k2,2g >results/nsw-iterations.csv
if command -v gnuplot >/dev/null; then
	gnuplot <<EOF
set datafile separator ","
set terminal pngcairo size 1500,900 font ",10"
set output "results/nsw-figure1.png"
set multiplot layout 2,3 title "Randomized Kaczmarz, partially biased sampling: mean ||x_k - x_LS||^2/||x_LS||^2 over $TRIALS trials"
set logscale y
set format y "10^{%L}"
set xlabel "iteration"
set key outside right font ",8"
unset colorbox
do for [c=1:5] {
  set title sprintf("case %d", c)
  plot for [i=0:10] "results/nsw-figures.csv" using (\$1==c && abs(\$2-i/10.0)<1e-9 ? \$3 : 1/0):4 \
       with lines lw 1.5 lc palette frac i/10.0 title sprintf("λ=%.1f", i/10.0)
}
unset multiplot
set output "results/nsw-figure2.png"
set terminal pngcairo size 900,600
unset logscale y
set logscale y
set format y "10^{%L}"
set title "Iterations to reach ε = $EPS (mean of $TRIALS trials; capped at $ITERS)"
set xlabel "λ (0 = fully weighted, 1 = uniform)"
set ylabel "iterations"
set key inside top left
plot for [c=1:5] "results/nsw-iterations.csv" using (\$1==c ? \$2 : 1/0):3 with linespoints lw 2 title sprintf("case %d", c)
EOF
fi
echo "nsw-figures: wrote results/nsw-figures.csv, results/nsw-iterations.csv and the PNGs" >&2
cat results/nsw-iterations.csv | awk -F, 'NR > 1 { printf "case %s  lambda %-4s  %8.0f iterations  (%s trials not reached)\n", $1, $2, $3, $4 }' >&2
