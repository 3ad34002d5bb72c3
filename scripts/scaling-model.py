#!/usr/bin/python3
r"""Scaling model: updates/s at T = 1..64 threads for three model placements, from
measured per-update costs, a measured cache-line transfer cost and the data's column
touch probabilities.  "Beyond 2 cores, on paper" (issue #18).

Usage:
  scripts/scaling-model.py [--data data/scaling]               model, checked against results/
  scripts/scaling-model.py --measure [--repeat 3] [--seconds 3]   also run this machine's solves
Inputs: results/pingpong.csv (runs of `build/pingpong --format csv`), the problems in
data/scaling/ (scripts/scaling-default.sh makes them), the 1- and 2-thread rates recorded in
results/scaling-default.csv (and results/scaling-{sparse,dense}.csv, which also give the
bandwidth), and, when present, the solves of --measure (JSON lines, --solves).
Output: tables on stdout (markdown) and results/scaling-model.csv (--out): one row per
(problem, placement, threads) of the prediction, then the 2-thread checks.

Measured inputs (this machine)
  t1      seconds per update at one thread: 1 / the updates/s of `feral solve|train FILE
          --threads 1 --tol 0 --epochs 0 --seconds 3` in results/scaling-default.csv (median
          of 3; the default method, SVRG, whose update touches the same lines as SGD's); a
          check against other measurements takes its t1 from the same source (--measure:
          `--method sgd`, best of the repeats, the least disturbed run).
  kappa   conflict_line_ns of build/pingpong: the extra time per model line that an update
          touches and another core wrote since this core last touched it, measured on a
          Hogwild!-shaped update (read L lines, then write them) by two cores on one array
          against two on private arrays, (shared - private) / L.  It includes the overlap
          of independent misses that a real update gets.  Median over the pingpong runs.
  c1      one_way_ns of build/pingpong: one transfer of one line, ping-pong / 2.
  a       local_atomic_ns (an uncontended atomic add), u = local_rmw_ns (a plain update).
  b1      one core's read bandwidth (the bench's probe, results/scaling-*.csv).

Data
  b       bytes per model coordinate (8: solve/train keep an f64 model by default), so a
          line holds 64/b coordinates; coordinate j lives on line l(j) = floor(j b / 64).
  p_i     sampling probability of row i: lambda/n + (1 - lambda) ||a_i||^2 / sum ||a||^2
          (lambda = 0.5, the default partial sampling).
  P_j     = sum_i p_i [a_ij != 0]: the probability that an update touches coordinate j.
  q_l     = sum_i p_i [row i touches line l]: the probability that it touches line l
          (dense rows: q_l = 1 for every line).  beta: bytes of row data per update
          (dense 4d + 16, CSR 8 nnz_i + 24, the mean).

Conflicts.  T workers run at the same rate.  Let an update of worker w touch line l.
Since w last touched l, w made G updates, G ~ Geometric(q_l) (G >= 1), and the T - 1
others made (T - 1) G, each touching l with probability q_l.  The line is clean only if
none did:  E[(1 - q)^((T-1) G)] = q s / (1 - (1 - q) s),  s = (1 - q)^(T-1).  So
    pi_l(T) = 1 - q_l s_l / (1 - (1 - q_l) s_l)         (pi = 1 for q = 1, ~(T-1)/T for q -> 0)
    C(T)    = sum_l q_l pi_l(T)                          conflicted lines per update
A line moves between cores one owner at a time, so a line that conflicts on a share
q_l pi_l of all updates caps the total rate at 1 / (c1 q_l pi_l).

Placements (ns per update of one worker, and the total rate U(T) in updates/s)
  shared model (Hogwild!):   t_sh(T) = t1 + kappa C(T)
      U_sh(T) = min( T / t_sh(T),  1 / (c1 max_l q_l pi_l(T)),  B(T) / beta )
  per-core replicas, averaged every R updates of each worker (the CLI's default: once,
  at the end, R = inf).  An average: a barrier (T arrivals on one line, T c1), then each
  worker averages d/T coordinates over the T replicas and writes them back (reads L lines
  of other cores, writes L lines: 2 L kappa), d adds (d u):
      t_core(T) = t1 + (T c1 + 2 L kappa + d u) / R
      U_core(T) = min( T / t_core(T),  B(T) / beta )
  hot replicas: the H columns of largest P_j private to each worker (a compact array of
  H b bytes), merged into the shared model every K updates of each worker with atomic
  adds (H atomics, H private resets, and the hot lines L_H = ceil(H b / 64), which the
  other workers' merges wrote: L_H kappa); the other columns stay shared:
      t_hot(T) = t1 + kappa C_cold(T) + (H (a + u) + L_H kappa) / K
      C_cold from q'_l = sum_i p_i [row i touches a COLD coordinate of line l]
      U_hot(T) = min( T / t_hot(T),  1 / (c1 max_l q'_l pi'_l(T)),  K / c1,  B(T) / beta )
  (K / c1: each hot line takes every worker's merge, one at a time.)  H is chosen per T
  from {0, 1, 2, 4, ..., d} to maximise U_hot(T) (H = 0 is the shared model; on dense data
  H = d, so hot replicas are core replicas merged every K).  One worker: every placement
  runs the shared model, U(1) = 1 / t1.
  Memory bandwidth: B(T) = min(T b1, S B_socket) with S = ceil(T / cores_per_socket)
  sockets; the assumption for a 32- or 64-core server is B_socket = 150 GB/s (one socket
  of eight DDR4-3200 channels, 205 GB/s peak, at STREAM's usual ~75 %), 64 cores a socket.

Check.  At T = 2 against every recorded 2-thread rate (speedup over the same source's
1-thread rate), twice: with the median pingpong figures and with those of the run whose
ping-pong was fastest ("nearest pair").  This VM's two vCPUs land on different host cores
from run to run, and the transfer cost is bimodal (about 50 ns or about 240 ns one way):
the two predictions show how much of a 2-thread figure the placement alone can move.

Limits.  kappa and c1 are this VM's pair of vCPUs: on a many-core server a transfer
within a core complex is cheaper and one across complexes or sockets dearer; --kappa and
--c1 override them.  The model counts throughput only, not convergence per update
(stale reads, replicas' slower mixing).  It ignores the shared last-level cache, the
core frequency falling with more active cores, NUMA placement of the shared model, and
the cost of the hot-column lookup (assumed folded into the row's indices at load time).
Conflicts assume independent rows and workers in lock-step (equal rates), and charge
kappa for every conflicted line, even one that the other core has long evicted from its
private caches (a 1-thread run would miss on it too): on sparse data with a model larger
than L2 this overstates the conflicts' price.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBLEMS = [("dense256", "solve"), ("dense1024", "solve"), ("sparse-uniform", "solve"),
            ("sparse-zipf", "solve"), ("logistic", "train")]
THREADS = [1, 2, 4, 8, 16, 32, 64]
LINE = 64


# ---- inputs -------------------------------------------------------------------------

def read_pingpong(path, lines):
    """Median over the runs (of `lines` swept lines, two PUs) of each measure's per-run
    median, the runs' min and max, and the number of runs; and under "nearest" the run
    whose one-way transfer was fastest (the two vCPUs then sat closest on the host)."""
    per, nearest = {}, {}
    runs = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            if row.get("same_pu", "0") == "1" or int(row["lines"]) != lines:
                continue
            per.setdefault(row["measure"], []).append(float(row["median_ns"]))
            runs.setdefault(row["timestamp"], {})[row["measure"]] = float(row["median_ns"])
    if "conflict_line_ns" not in per:
        sys.exit(f"scaling-model: {path}: no conflict_line_ns rows of {lines} lines "
                 "(run build/pingpong --format csv)")
    out = {k: (float(np.median(v)), min(v), max(v), len(v)) for k, v in per.items()}
    full = [r for r in runs.values() if "one_way_ns" in r and "conflict_line_ns" in r]
    nearest = min(full, key=lambda r: r["one_way_ns"])
    out["nearest"] = nearest
    return out


def read_bandwidth():
    """One core's read bandwidth (bytes/s), and two cores', from the bench records."""
    best = {}
    for name in ("scaling-dense.csv", "scaling-sparse.csv"):
        p = os.path.join(ROOT, "results", name)
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for row in csv.DictReader(f):
                try:
                    t, bw = int(row["threads"]), float(row["stream_bytes_per_s"])
                except (KeyError, ValueError):
                    continue
                best[t] = max(best.get(t, 0.0), bw)
    return best


def measure(args):
    """Run each problem at 1 thread and at 2 (shared model, core replicas), --repeat
    times, interleaved; append JSON lines to args.solves."""
    os.makedirs(os.path.dirname(os.path.abspath(args.solves)), exist_ok=True)
    feral = os.path.join(ROOT, "build", "feral")
    with open(args.solves, "a") as out:
        for rep in range(1, args.repeat + 1):
            for prob, cmd in PROBLEMS:
                path = os.path.join(args.data, prob + ".feral")
                for threads, placement in ((1, "machine"), (2, "machine"), (2, "core")):
                    argv = [feral, cmd, path, "--threads", str(threads), "--replicas", placement,
                            "--method", "sgd", "--tol", "0", "--epochs", "0",
                            "--seconds", str(args.seconds), "--seed", str(rep), "--json"]
                    r = subprocess.run(argv, capture_output=True, text=True)
                    if r.returncode != 0:
                        sys.exit(f"scaling-model: {' '.join(argv)}: exit {r.returncode}: {r.stderr}")
                    rec = {"problem": prob, "placement": placement, "rep": rep,
                           "load": os.getloadavg()[0], "r": json.loads(r.stdout)}
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    print(f"  {prob} T={threads} {placement}: "
                          f"{rec['r']['updates_per_s'] / 1e6:.3f} M/s (load {rec['load']:.1f})",
                          file=sys.stderr)


def read_solves(path):
    """{(problem, threads, placement): [updates/s...]}, {problem: one record}, and the
    median load average during the runs."""
    runs, info, loads = {}, {}, []
    with open(path) as f:
        for line in f:
            j = json.loads(line)
            r = j["r"]
            loads.append(float(j.get("load", "nan")))
            key = (j["problem"], int(r["threads"]), j["placement"] if r["threads"] > 1 else "machine")
            runs.setdefault(key, []).append(float(r["updates_per_s"]))
            info[j["problem"]] = r
    return runs, info, float(np.nanmedian(loads)) if loads else float("nan")


# ---- the data's line structure ----------------------------------------------------------

def model_bytes(precision):
    """Bytes per model coordinate from the result's precision string (D32M64G64)."""
    m = precision.split("M")[1].split("G")[0]
    return {"64": 8, "32": 4, "16": 2, "8": 1}[m]


class Lines:
    """Touch probabilities of the model's lines (b bytes a coordinate), for every
    hot-set size asked."""

    def __init__(self, path, lam):
        sys.path.insert(0, os.path.join(ROOT, "python"))
        os.environ.setdefault("FERAL_LIBRARY", os.path.join(ROOT, "build", "libferal.so"))
        import feral  # the binding (python/feral) over build/libferal.so
        X, _ = feral.load(path)
        self._q = {}
        if isinstance(X, np.ndarray):
            self.dense = True
            self.n, self.d = X.shape
            self.nnz_row = float(self.d)
            self.beta = 4.0 * self.d + 16
            self.P = np.ones(self.d)
            return
        self.dense = False
        X = X.tocsr()
        self.n, self.d = X.shape
        indptr = np.asarray(X.indptr, dtype=np.int64)
        cols = np.asarray(X.indices, dtype=np.int64)
        vals = np.asarray(X.data, dtype=np.float64)
        counts = np.diff(indptr)
        self.nnz_row = float(counts.mean())
        self.beta = 8.0 * self.nnz_row + 24
        norm2 = np.add.reduceat(vals * vals, indptr[:-1]) if len(vals) else np.zeros(self.n)
        norm2[counts == 0] = 0
        p = lam / self.n + (1 - lam) * norm2 / norm2.sum()
        self.row = np.repeat(np.arange(self.n), counts)
        self.cols = cols
        self.p_nnz = p[self.row]
        self.P = np.bincount(cols, weights=self.p_nnz, minlength=self.d)
        self.order = np.argsort(-self.P, kind="stable")  # hottest first

    def nlines(self, b):
        return math.ceil(self.d * b / LINE)

    def q_cold(self, b, H):
        """q'_l over the lines, with the H hottest columns taken out (H = 0: q_l)."""
        if self.dense:
            return np.ones(math.ceil((self.d - H) * b / LINE) if H < self.d else 0)
        if (b, H) in self._q:
            return self._q[(b, H)]
        keep = np.ones(self.d, dtype=bool)
        keep[self.order[:H]] = False
        m = keep[self.cols]
        row, line, pw = self.row[m], self.cols[m] * b // LINE, self.p_nnz[m]
        # columns are sorted within a row, so a row's lines are too: count each once
        first = np.ones(len(line), dtype=bool)
        first[1:] = (line[1:] != line[:-1]) | (row[1:] != row[:-1])
        q = np.bincount(line[first], weights=pw[first], minlength=self.nlines(b))
        self._q[(b, H)] = q
        return q

    def hot_share(self, H):
        """Share of the (sampled) nonzeros that fall on the H hottest columns."""
        if self.dense:
            return H / self.d
        return float(self.P[self.order[:H]].sum() / self.P.sum())


def conflicts(q, T):
    """C(T) = sum_l q_l pi_l(T), and max_l q_l pi_l(T)."""
    if T <= 1 or len(q) == 0:
        return 0.0, 0.0
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    s = (1.0 - q) ** (T - 1)
    den = 1.0 - (1.0 - q) * s
    with np.errstate(divide="ignore", invalid="ignore"):
        clean = np.where(den > 0, q * s / den, 1.0)
    pi = 1.0 - clean
    qp = q * pi
    return float(qp.sum()), float(qp.max())


# ---- the model ------------------------------------------------------------------------

def bandwidth(T, b1, args):
    sockets = math.ceil(T / args.cores_per_socket)
    return min(T * b1, sockets * args.socket_bw)


def predict(lines, b, t1, pp, b1, T, args, R=None):
    """[(placement, s per update, updates/s, bound, H, hot share, conflicted lines)]
    for a model of b bytes a coordinate; R: core replicas' averaging period."""
    kappa, c1, a, u = pp["kappa"], pp["c1"], pp["a"], pp["u"]
    R = args.average_every if R is None else R
    L = lines.nlines(b)
    cap_bw = bandwidth(T, b1, args) / lines.beta
    out = []

    def best(rate, caps):
        name, val = "compute", rate
        for k, v in caps:
            if v < val:
                name, val = k, v
        return val, name

    # shared model
    C, worst = conflicts(lines.q_cold(b, 0), T)
    t = t1 + kappa * C
    caps = [("bandwidth", cap_bw)]
    if worst > 0:
        caps.append(("line", 1.0 / (c1 * worst)))
    U, bound = best(T / t, caps)
    out.append(("shared", t, U, bound, 0, 0.0, C))
    # per-core replicas, averaged every R updates per worker
    if T == 1:
        out.append(("core", t1, 1.0 / t1, "compute", 0, 0.0, 0.0))
    else:
        t = t1 + ((T * c1 + 2 * L * kappa + lines.d * u) / R if R > 0 else 0.0)
        U, bound = best(T / t, [("bandwidth", cap_bw)])
        out.append(("core", t, U, bound, lines.d, 1.0, 0.0))
    # hot replicas: the best H
    if T == 1:
        out.append(("hot", t1, 1.0 / t1, "compute", 0, 0.0, 0.0))
        return out
    K = args.merge_every
    cands = sorted({0, lines.d} | {1 << k for k in range(int(math.log2(max(lines.d, 1))) + 1)
                                   if (1 << k) < lines.d})
    choice = None
    for H in cands:
        C, worst = conflicts(lines.q_cold(b, H), T)
        LH = math.ceil(H * b / LINE)
        t = t1 + kappa * C + ((H * (a + u) + LH * kappa) / K if H > 0 else 0.0)
        caps = [("bandwidth", cap_bw)]
        if worst > 0:
            caps.append(("line", 1.0 / (c1 * worst)))
        if H > 0:
            caps.append(("merge", K / c1))
        U, bound = best(T / t, caps)
        if choice is None or U > choice[2] * (1 + 1e-9):
            choice = ("hot", t, U, bound, H, lines.hot_share(H), C)
    out.append(choice)
    return out


def read_recorded():
    """Measurements already in results/: [(problem, source, model bytes, R of core,
    {(threads, placement): updates/s})].  scaling-default.csv: the five problems of
    data/scaling at 1 thread and at 2 in the default placement (solve/train, f64 model,
    core replicas averaged at the end); scaling-{sparse,dense}.csv: bench's uniform sparse
    and dense d = 1024 problems (f32 model) in both placements."""
    obs = []
    p = os.path.join(ROOT, "results", "scaling-default.csv")
    if os.path.exists(p):
        per = {}
        with open(p) as f:
            for row in csv.DictReader(f):
                pl = "shared" if row["replicas"] == "machine" else row["replicas"]
                per.setdefault(row["problem"], {})[(int(row["threads"]), pl)] = \
                    float(row["updates_per_s"])
        for prob, m in per.items():
            obs.append((prob, "scaling-default.csv", 8, 0, m))
    for name, prob, R in (("scaling-sparse.csv", "sparse-uniform", 20000),
                          ("scaling-dense.csv", "dense1024", 5000)):
        p = os.path.join(ROOT, "results", name)
        if not os.path.exists(p):
            continue
        m = {}
        with open(p) as f:
            for row in csv.DictReader(f):
                pl = "shared" if row["replicas"] == "machine" else row["replicas"]
                if int(row["threads"]) == 1:
                    pl = "shared"
                m[(int(row["threads"]), pl)] = max(m.get((int(row["threads"]), pl), 0),
                                                   float(row["updates_per_s"]))
        obs.append((prob, name, int(row["model_bits"]) // 8, R, m))
    return obs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--measure", action="store_true", help="run the solves first")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--solves", default="/tmp/feral-scaling-model/solves.jsonl")
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "scaling"))
    ap.add_argument("--pingpong", default=os.path.join(ROOT, "results", "pingpong.csv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "scaling-model.csv"))
    ap.add_argument("--pingpong-lines", type=int, default=16,
                    help="use the pingpong runs of this many swept lines (default 16)")
    ap.add_argument("--kappa", type=float, help="ns per conflicted line (default: pingpong)")
    ap.add_argument("--c1", type=float, help="ns per one-way transfer (default: pingpong)")
    ap.add_argument("--merge-every", type=int, default=256, help="hot replicas' K (default 256)")
    ap.add_argument("--average-every", type=int, default=0,
                    help="core replicas' R (default 0: once, at the end, as the CLI)")
    ap.add_argument("--socket-bw", type=float, default=150e9, help="bytes/s a socket (150e9)")
    ap.add_argument("--cores-per-socket", type=int, default=64)
    ap.add_argument("--lambda", dest="lam", type=float, default=0.5)
    args = ap.parse_args()

    if args.measure:
        measure(args)
    ppr = read_pingpong(args.pingpong, args.pingpong_lines)
    pp = {"kappa": (args.kappa if args.kappa is not None else ppr["conflict_line_ns"][0]) * 1e-9,
          "c1": (args.c1 if args.c1 is not None else ppr["one_way_ns"][0]) * 1e-9,
          "a": ppr["local_atomic_ns"][0] * 1e-9, "u": ppr["local_rmw_ns"][0] * 1e-9}
    near = ppr["nearest"]
    pp_near = dict(pp, kappa=near["conflict_line_ns"] * 1e-9, c1=near["one_way_ns"] * 1e-9)
    bw = read_bandwidth()
    b1 = bw.get(1, 20e9)
    obs = read_recorded()
    if os.path.exists(args.solves):  # this session's runs: best of the repeats
        runs, _, load = read_solves(args.solves)
        per = {}
        for (prob, T, pl), v in runs.items():
            per.setdefault(prob, {})[(T, "shared" if pl == "machine" else pl)] = max(v)
        for prob, m in per.items():
            obs.append((prob, f"--measure, load {load:.0f} on {os.cpu_count()} CPUs", 8, 0, m))
    t1s = {}  # the main table's t1: scaling-default.csv, else this session's runs
    for prob, src, b, R, m in obs:
        if (1, "shared") in m and (prob not in t1s or src == "scaling-default.csv"):
            t1s[prob] = (1.0 / m[(1, "shared")], src)

    print(f"# pingpong ({ppr['one_way_ns'][3]} runs of {args.pingpong_lines} lines; median "
          f"[min max] of the runs' medians): one-way {ppr['one_way_ns'][0]:.0f} ns "
          f"[{ppr['one_way_ns'][1]:.0f} {ppr['one_way_ns'][2]:.0f}], conflicted line "
          f"{ppr['conflict_line_ns'][0]:.0f} ns [{ppr['conflict_line_ns'][1]:.0f} "
          f"{ppr['conflict_line_ns'][2]:.0f}], atomic {ppr['local_atomic_ns'][0]:.1f} ns, "
          f"plain update {ppr['local_rmw_ns'][0]:.1f} ns")
    print(f"# used: kappa {pp['kappa'] * 1e9:.0f} ns, c1 {pp['c1'] * 1e9:.0f} ns; bandwidth "
          f"{b1 / 1e9:.1f} GB/s a core, {args.socket_bw / 1e9:.0f} GB/s a socket of "
          f"{args.cores_per_socket} cores; f64 model (8 bytes a coordinate); hot merge every "
          f"{args.merge_every}; core replicas averaged "
          f"{'every %d' % args.average_every if args.average_every else 'at the end'}")
    rows, checks, lines_of = [], [], {}
    for prob, _ in PROBLEMS:
        path = os.path.join(args.data, prob + ".feral")
        if prob not in t1s or not os.path.exists(path):
            print(f"# {prob}: no 1-thread rate or no {path}: skipped", file=sys.stderr)
            continue
        t1, src = t1s[prob]
        lines = lines_of[prob] = Lines(path, args.lam)
        q = lines.q_cold(8, 0)
        print(f"# {prob}: n {lines.n} d {lines.d}, {lines.nnz_row:.0f} nonzeros a row, "
              f"{lines.nlines(8)} model lines of 8 coordinates, {q.sum():.1f} touched an "
              f"update, max q_l {q.max():.3f}; t1 {t1 * 1e9:.0f} ns ({src})")
        for T in THREADS:
            for pl, t, U, bound, H, share, C in predict(lines, 8, t1, pp, b1, T, args):
                rows.append({"kind": "prediction", "problem": prob, "placement": pl,
                             "threads": T, "source": src, "model_bytes": 8,
                             "conflicted_lines": round(C, 3), "hot_columns": H,
                             "hot_nnz_share": round(share, 4),
                             "ns_per_update": round(t * 1e9, 1), "bound": bound,
                             "updates_per_s": round(U), "speedup": round(U * t1, 3),
                             "measured_speedup": "", "error_pct": ""})
    # the check: 2 threads against 1, source by source
    for prob, src, b, R, m in obs:
        if prob not in lines_of or (1, "shared") not in m:
            continue
        t1 = 1.0 / m[(1, "shared")]
        for (T, pl), u in sorted(m.items()):
            if T == 1:
                continue
            for regime, p in (("median", pp), ("nearest", pp_near)):
                pred = {r[0]: r for r in predict(lines_of[prob], b, t1, p, b1, T, args, R)}[pl]
                sp, msp = pred[2] * t1, u * t1
                checks.append({"kind": "check-" + regime, "problem": prob, "placement": pl,
                               "threads": T, "source": src, "model_bytes": b,
                               "conflicted_lines": round(pred[6], 3), "hot_columns": "",
                               "hot_nnz_share": "", "ns_per_update": round(pred[1] * 1e9, 1),
                               "bound": pred[3], "updates_per_s": round(pred[2]),
                               "speedup": round(sp, 3), "measured_speedup": round(msp, 3),
                               "error_pct": round(100 * (sp - msp) / msp, 1)})
    if not rows:
        sys.exit("scaling-model: nothing to model")
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows + checks)
    print("\n| problem | placement | " + " | ".join(f"T={T}" for T in THREADS) + " |")
    print("|---|---|" + "---|" * len(THREADS))
    for prob, _ in PROBLEMS:
        for pl in ("shared", "core", "hot"):
            rs = [r for r in rows if r["problem"] == prob and r["placement"] == pl]
            if not rs:
                continue
            cells = []
            for r in rs:
                c = f"{r['speedup']:.2f}×"
                if r["bound"] != "compute":
                    c += f" ({r['bound'][0]})"
                if pl == "hot" and r["threads"] > 1:
                    c += f" H={r['hot_columns']}"
                cells.append(c)
            print(f"| {prob} | {pl} | " + " | ".join(cells) + " |")
    print("\n(speedup = predicted updates/s over the 1-thread rate; (b) bandwidth-, (l) line-, "
          "(m) merge-bound; H = hot columns chosen)")
    print(f"\n| check: 2 threads | placement | source | model | measured | predicted, median "
          f"pingpong (kappa {pp['kappa'] * 1e9:.0f}, c1 {pp['c1'] * 1e9:.0f} ns) | predicted, "
          f"nearest pair (kappa {pp_near['kappa'] * 1e9:.0f}, c1 {pp_near['c1'] * 1e9:.0f} ns) |")
    print("|---|---|---|---|---|---|---|")
    for c, n in zip(checks[0::2], checks[1::2]):
        print(f"| {c['problem']} | {c['placement']} | {c['source']} | f{8 * c['model_bytes']} | "
              f"{c['measured_speedup']:.2f}× | {c['speedup']:.2f}× ({c['error_pct']:+.0f} %) | "
              f"{n['speedup']:.2f}× ({n['error_pct']:+.0f} %) |")
    print(f"\n({args.out})")


if __name__ == "__main__":
    main()
