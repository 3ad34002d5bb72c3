#!/bin/sh
# Throughput against horizon: one point per bench record (the Buckwild!
# trade-off: lower precision = more updates/s, higher horizon).
#   scripts/plot-pareto.sh [results/sweep.csv] [results/pareto.png]
set -eu
here=$(dirname "$0")
. "$here/plot-common.sh"
in=${1:-results/sweep.csv}
out=${2:-results/pareto.png}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv_cols "$in" horizon updates_per_s precision threads plateau_reached status |
	awk '$6 == "ok" && $1 != "NaN" { print $1, $2, $3 "/" $4 "t" ($5 == "true" ? "" : " (no plateau)") }' \
	>"$tmp/p.dat"
[ -s "$tmp/p.dat" ] || { echo "plot-pareto: no usable records in $in" >&2; exit 1; }
gnuplot <<GP
$(gp_terminal)
set output '$out'
set title 'feral bench: throughput vs horizon ($(basename "$in"))'
set logscale x
set format x '10^{%L}'
set xlabel 'horizon: plateau of ||x-x*||^2/||x*||^2'
set ylabel 'updates/s'
set grid
set key off
set offsets graph 0.05, graph 0.3, graph 0.1, graph 0.05
plot '$tmp/p.dat' using 1:2 with points pt 7 ps 1.5, \
     '' using 1:2:3 with labels offset 1,0.8 left font ',8'
GP
echo "plot-pareto: wrote $out"
