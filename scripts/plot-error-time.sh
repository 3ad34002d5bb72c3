#!/bin/sh
# Error against solver time, one curve per precision, from bench --trace-out.
#   scripts/plot-error-time.sh [results/sweep-trace.csv] [results/error-time.png] [THREADS]
# THREADS (default 1) picks the points plotted; repeat 0 only.
set -eu
here=$(dirname "$0")
. "$here/plot-common.sh"
in=${1:-results/sweep-trace.csv}
out=${2:-results/error-time.png}
threads=${3:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv_cols "$in" precision threads repeat seconds relative_error replicas |
	awk -v t="$threads" '$2 == t && $3 == 0 && $5 != "NaN" && $5 != "nan" && $5 > 0' >"$tmp/all.dat"
[ -s "$tmp/all.dat" ] || { echo "plot-error-time: no trace rows for $threads thread(s) in $in" >&2; exit 1; }
plots=""
for p in $(cut -d' ' -f1 "$tmp/all.dat" | sort -u); do
	awk -v p="$p" '$1 == p { print $4, $5 }' "$tmp/all.dat" >"$tmp/$p.dat"
	plots="$plots${plots:+, }'$tmp/$p.dat' using 1:2 with linespoints lw 2 pt 7 ps 0.6 title '$p'"
done
gnuplot <<GP
$(gp_terminal)
set output '$out'
set title 'feral bench: ||x-x*||^2/||x*||^2 vs solver time, $threads thread(s)'
set logscale y
set format y '10^{%L}'
set xlabel 'solver seconds (trace monitor excluded)'
set ylabel 'relative error'
set grid
set key top right
plot $plots
GP
echo "plot-error-time: wrote $out"
