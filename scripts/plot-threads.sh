#!/bin/sh
# Throughput against threads, one line per precision (DMG label).
#   scripts/plot-threads.sh [results/sweep.csv] [results/threads.png]
set -eu
here=$(dirname "$0")
. "$here/plot-common.sh"
in=${1:-results/sweep.csv}
out=${2:-results/threads.png}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv_cols "$in" precision threads updates_per_s bytes_per_s status |
	awk '$5 == "ok"' | sort -k1,1 -k2,2n >"$tmp/all.dat"
[ -s "$tmp/all.dat" ] || { echo "plot-threads: no usable records in $in" >&2; exit 1; }
plots=""
for p in $(cut -d' ' -f1 "$tmp/all.dat" | sort -u); do
	awk -v p="$p" '$1 == p { print $2, $3 }' "$tmp/all.dat" >"$tmp/$p.dat"
	plots="$plots${plots:+, }'$tmp/$p.dat' using 1:2 with linespoints lw 2 pt 7 title '$p'"
done
gnuplot <<GP
$(gp_terminal)
set output '$out'
set title 'feral bench: throughput vs threads ($(basename "$in"))'
set xlabel 'threads'
set ylabel 'updates/s'
set grid
set key top left
set xtics 1
set yrange [0:*]
plot $plots
GP
echo "plot-threads: wrote $out"
