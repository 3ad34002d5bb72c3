#!/usr/bin/env python3
"""Plots of what asynchrony did to a run (src/async.c), drawn with gnuplot.

  scripts/plot-staleness.py hist  INPUT [OUT.png]
      The staleness histogram: INPUT is a bench record file (FILE.jsonl or
      FILE.csv: one bar series per record, labelled by precision, threads and
      delay) or the histogram `feral solve|train --trace F.csv` writes beside
      the trace (F-staleness.csv: bucket_lo,bucket_hi,count).  Bars are the
      share of the sampled updates in each bucket (0, 1, 2, 3, then powers
      of two, then >= 2^20), on a log scale.  Default OUT: results/staleness.png.

  scripts/plot-staleness.py sweep INPUT.csv [OUT.png]
      A delay sweep (bench --delay LIST --out INPUT.csv): the horizon and the
      time to target against the staleness measured, one line per precision
      (and per step when the file holds several).  Diverged points are left out.
      Default OUT: results/delay.png.

Standard library only (the plots are gnuplot's, as in scripts/plot-*.sh).
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

BUCKETS = 23  # FERAL_STALENESS_BUCKETS


def bucket_lo(k):
    return k if k < 4 else 1 << (k - 2)


def bucket_label(k):
    if k < 4:
        return str(k)
    if k == BUCKETS - 1:
        return ">=2^20"
    lo = bucket_lo(k)
    return "%d-%d" % (lo, 2 * lo - 1) if lo < 1024 else "%dk-%dk" % (lo // 1024, lo // 512)


def die(msg):
    sys.exit("plot-staleness: " + msg)


def read_records(path):
    """Bench records as dicts (JSON lines, or CSV rows)."""
    with open(path, newline="") as f:
        if path.endswith(".jsonl") or path.endswith(".json"):
            return [json.loads(line) for line in f if line.strip()]
        return list(csv.DictReader(f))


def hist_of(rec):
    h = rec.get("staleness_hist")
    if h is None or h == "":
        return None
    if isinstance(h, str):  # CSV: space-separated counts
        h = [int(v) for v in h.split()]
    if len(h) != BUCKETS:
        die("staleness_hist has %d buckets, expected %d" % (len(h), BUCKETS))
    return [int(v) for v in h]


def read_hists(path):
    """[(label, counts)] from a bench record file or a CLI F-staleness.csv."""
    with open(path, newline="") as f:
        head = f.readline()
    if head.strip() == "bucket_lo,bucket_hi,count":
        with open(path, newline="") as f:
            counts = [int(row["count"]) for row in csv.DictReader(f)]
        if len(counts) != BUCKETS:
            die("%s: %d buckets, expected %d" % (path, len(counts), BUCKETS))
        return [(os.path.basename(path), counts)]
    out = []
    for rec in read_records(path):
        h = hist_of(rec)
        if h is None:
            continue
        label = "%s T=%s delay=%s" % (rec.get("precision", "?"), rec.get("threads", "?"),
                                       rec.get("delay", "0"))
        out.append((label, h))
    return out


def gnuplot(script):
    if not shutil.which("gnuplot"):
        die("gnuplot not found (Debian: apt-get install gnuplot-nox)")
    probe = subprocess.run(["gnuplot", "-e", "set terminal pngcairo"], capture_output=True)
    term = ("set terminal pngcairo size 900,600 font ',10'" if probe.returncode == 0
            else "set terminal png size 900,600")
    subprocess.run(["gnuplot"], input=(term + "\n" + script).encode(), check=True)


def plot_hist(inp, out):
    hists = [(lab, h) for lab, h in read_hists(inp) if sum(h) > 0]
    if not hists:
        die("%s: no staleness histogram with samples" % inp)
    # the buckets up to the last one used by any series
    last = max(max(k for k in range(BUCKETS) if h[k]) for _, h in hists)
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "hist.dat")
        with open(dat, "w") as f:
            f.write("bucket " + " ".join('"%s"' % lab.replace('"', "'") for lab, _ in hists) + "\n")
            for k in range(last + 1):
                f.write('"%s" ' % bucket_label(k) +
                        " ".join("%.6g" % (h[k] / sum(h)) for _, h in hists) + "\n")
        cols = ", ".join("'%s' using %d:xtic(1) title columnhead(%d)" % (dat, c + 2, c + 2)
                         for c in range(len(hists)))
        gnuplot("""set output '%s'
set title 'staleness of the sampled updates (%s)'
set xlabel 'staleness (updates landed between read and write)'
set ylabel 'share of samples (log scale: the tail shows)'
set logscale y
set yrange [*:1]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -45
set grid ytics
set key outside right top Left reverse samplen 2
plot %s
""" % (out, os.path.basename(inp), cols))


def num(rec, key):
    try:
        v = float(rec.get(key, "nan"))
    except (TypeError, ValueError):
        return math.nan
    return v


def plot_sweep(inp, out):
    recs = [r for r in read_records(inp) if r.get("status", "ok") == "ok"]
    if not recs:
        die("%s: no usable records" % inp)
    steps = {r.get("step") for r in recs}
    series = {}
    for r in recs:  # one line per precision (and per step when several)
        key = r.get("precision", "?")
        if len(steps) > 1:
            key += " step %s" % r.get("step")
        series.setdefault(key, []).append(r)
    with tempfile.TemporaryDirectory() as tmp:
        hz, tt = [], []
        for k, (prec, rs) in enumerate(sorted(series.items())):
            rs.sort(key=lambda r: num(r, "staleness_mean"))
            dat = os.path.join(tmp, "s%d.dat" % k)
            with open(dat, "w") as f:
                for r in rs:
                    # staleness 0 sits at 0.5 on the log axis, labelled 0
                    s = num(r, "staleness_mean")
                    f.write("%.6g %.6g %.6g %s\n" % (max(s, 0.5), num(r, "horizon"),
                                                    num(r, "time_to_target"), r.get("delay")))
            hz.append("'%s' using 1:2 with linespoints lw 2 pt 7 title '%s'" % (dat, prec))
            tt.append("'%s' using 1:($3 == $3 ? $3 : 1/0) with linespoints lw 2 pt 7 "
                      "title '%s'" % (dat, prec))
        target = recs[0].get("target", "?")
        gnuplot("""set output '%s'
set multiplot layout 1,2 title 'delayed writes (%s): measured staleness'
set logscale x 2
set xtics add ('0' 0.5)
set xlabel 'staleness, mean of the samples'
set grid
set key top left
set logscale y
set ylabel 'horizon (||x-x*||^2/||x*||^2 plateau)'
set title 'horizon'
plot %s
set ylabel 'seconds'
set title 'time to ||x-x*||^2/||x*||^2 <= %s'
plot %s
unset multiplot
""" % (out, os.path.basename(inp), ", ".join(hz), target, ", ".join(tt)))


def main(argv):
    if len(argv) < 3 or argv[1] not in ("hist", "sweep"):
        sys.exit(__doc__)
    inp = argv[2]
    if not os.path.exists(inp):
        die("%s: no such file" % inp)
    if argv[1] == "hist":
        plot_hist(inp, argv[3] if len(argv) > 3 else "results/staleness.png")
    else:
        plot_sweep(inp, argv[3] if len(argv) > 3 else "results/delay.png")


if __name__ == "__main__":
    main(sys.argv)
