#!/usr/bin/python3
r"""Scaling model: updates/s at T = 1..64 threads for the model placements (shared,
per-core replicas, the implemented two-tier hot set), from measured per-update costs, a
measured cache-line transfer cost and the data's column touch probabilities.  "Beyond 2
cores, on paper" (issue #18).

Usage:
  scripts/scaling-model.py [--data data/scaling]               model, checked against results/
  scripts/scaling-model.py --measure [--repeat 3] [--seconds 3]   also run this machine's solves
Inputs: results/pingpong.csv (runs of `build/pingpong --format csv`), the problems in
data/scaling/ (scripts/scaling-default.sh makes them), the 1- and 2-thread rates recorded in
results/scaling-default.csv (and results/scaling-{sparse,dense}.csv, which also give the
bandwidth), and, when present, the solves of --measure (JSON lines, --solves).
Output: tables on stdout (markdown) and results/scaling-model.csv (--out): one row per
(problem, placement, threads) of the prediction, then the 2-thread checks (hot_columns and
hot_fast: the hot set and its fast tier; measured_hot: the run's hot set).

Measured inputs (the development VMs; see Check for which)
  t1      seconds per update at one thread: 1 / the updates/s of `feral solve|train FILE
          --threads 1 --tol 0 --epochs 0 --seconds 3` in results/scaling-default.csv (median
          of 3; SVRG, whose update touches the same lines as SGD's: the default on dense
          rows, `--method svrg` on sparse rows, whose default Newton-CG is no Hogwild!
          update); a check against other measurements takes its t1 from the same source
          (--measure: `--method sgd`, best of the repeats, the least disturbed run).
  v, mlp, sigma   the hot merge's cost a slot a pass, the lines a core keeps in flight,
          and the split update's extra cost (see Placements; --slot-ns, --mlp,
          --split-cost).
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
    C_s(T)  = sum_l q_l pi_l(T) (1 - s_l)                of them, lines another worker
                                                         writes again within one update
A line moves between cores one owner at a time, so a line that conflicts on a share
q_l pi_l of all updates caps the total rate at 1 / (c1 q_l pi_l).
What a conflicted line costs, X(C):
  dense rows: kappa C (every line is written by every update: pingpong's regime).
  CSR rows: the engine prefetches the next update's cold model lines with write intent,
  one update ahead (src/prefetch.h, PF_MODEL = 1; docs/design.md section 4).  A line
  another worker writes again within that update is stolen back (kappa each, C_s of
  them); the others (C - C_s, lines that sat in the other core's cache) are requested
  together, take c1 max(1, (C - C_s) / mlp) and travel while the current update runs:
      X(C) = kappa C_s + min(C - C_s, 1) max(0, c1 max(1, (C - C_s) / mlp) - t)
  (mlp = 10 lines in flight, a core's fill buffers; --no-prefetch: kappa C, the model's
  form before the engine prefetched.)

Placements (s per update of one worker, and the total rate U(T) in updates/s)
  shared model (Hogwild!):   t_sh(T) = t1 + X(C(T))
      U_sh(T) = min( T / t_sh(T),  1 / (c1 max_l q_l pi_l(T)),  B(T) / beta )
  per-core replicas, averaged every R updates of each worker (the CLI's default: once,
  at the end, R = inf).  An average: a barrier (T arrivals on one line, T c1), then each
  worker averages d/T coordinates over the T replicas and writes them back (reads L lines
  of other cores, writes L lines: 2 L kappa), d adds (d u):
      t_core(T) = t1 + (T c1 + 2 L kappa + d u) / R
      U_core(T) = min( T / t_core(T),  B(T) / beta )
  hot: the hot set as implemented (src/hot.c, src/policy.c, docs/math.md section 6), CSR
  rows with the shared model only.  The set: the columns with P_j >= 2 / (16 K), at most
  FERAL_HOT_MAX = 4096 (the most probable), K = FERAL_HOT_EVERY_AUTO = 64; the fast tier,
  H_f of them, has P_j >= 2 / K.  (The constants are read from include/feral.h and
  src/engine.h.)  Each worker updates them in a private copy; a worker merges the fast
  tier's slots [0, H_f) every K own updates and all H slots every 16 K (FERAL_HOT_TIER;
  that merge replaces the fast one).  A merge of the first h slots (float model, f64
  accumulators, L_h = ceil(8 h / 64) lines of each worker's accumulator, a worker's on
  lines of its own): acc_w += priv - base (plain stores on its L_h lines, which the
  others read since: re-acquired), then priv = base = x0 + sum over the T accumulators
  (x0 is written only at folds: local; the T - 1 others' L_h lines were each written by
  their owner since w's last merge, at equal rates: transfers).  T L_h lines, requested
  together, and T + 3 passes over h slots:
      M(h, T) = (T + 3) h v + c1 max(1, T L_h / mlp)      (M(0, T) = 0)
  v = 0.43 ns a slot a pass (docs/math.md section 6: 74 slots merged in about 160 ns at
  T = 2 with the other worker idle; --slot-ns).  The shared values are folded into the
  model at round ends only (once an epoch: not counted).  Per update:
      t_hot(T) = t1 (1 + sigma) + X(C_cold(T)) + ((16 - 1) M(H_f, T) + M(H, T)) / (16 K)
      C_cold from q'_l = sum_i p_i [row i touches a COLD coordinate of line l]
      U_hot(T) = min( T / t_hot(T),  1 / (c1 max_l q'_l pi'_l(T)),  K / c1,  B(T) / beta )
  sigma = 0.04: the split update (two kernel calls) at one thread, 240 against 231 ns
  (results/README.md; --split-cost).  No atomic: every accumulator line has one writer.
  What serializes is the line's coherence: per K updates of its owner it takes one write
  (invalidating T - 1 copies) and T - 1 reads.  If the home agent handled them one at a
  time, each taking c1, a worker's period K t >= T c1, so U <= K / c1 in total, (s) in the
  tables; reads of a line in shared state need not wait for each other, so this bounds
  the serialization from above (it binds nowhere here).  What grows is the merge: it moves
  T L_h lines, so per update the merges cost ~ c1 T (L_f + L / 16) / (mlp K), linear in T.
  hot-best: the same two tiers with the H hottest columns (fast: P_j >= 2/K among
  them), H from {0, 1, 2, 4, ..., d} and the rule's, for the best U_hot(T).
  hot1, kept for comparison, is this script's earlier model and was never implemented:
  one tier of H columns in a compact shared array, merged every K1 = 256 updates with
  atomic adds (H (a + u), and the L_H = ceil(H b / 64) lines the others' merges wrote,
  L_H kappa); each hot line takes every worker's merge in turn, so U <= K1 / c1 ((m)):
      t_hot1(T) = t1 (1 + sigma) + X(C_cold(T)) + (H (a + u) + L_H kappa) / K1,  best H.
  Its merge costs the same at any T; the implemented one moves T L lines.  (It prices an
  f64 add as one uncontended atomic; hardware has none, so it is a compare-and-swap loop,
  and the implemented version of 2026-11, a CAS into the model's scattered columns every
  64, measured slower at T = 2 than the accumulators: docs/math.md section 6.)  Dense rows get
  no hot set (policy.c: core replicas), so the hot rows are left out there.  One worker:
  every placement runs the shared model (auto builds no hot set), U(1) = 1 / t1.
  Memory bandwidth: B(T) = min(T b1, S B_socket) with S = ceil(T / cores_per_socket)
  sockets; the assumption for a 32- or 64-core server is B_socket = 150 GB/s (one socket
  of eight DDR4-3200 channels, 205 GB/s peak, at STREAM's usual ~75 %), 64 cores a socket.

Check.  At T = 2 against every recorded 2-thread rate (speedup over the same source's
1-thread rate), twice: with the median pingpong figures and with those of the run whose
ping-pong was fastest ("nearest pair").  The VMs' two vCPUs land on different host cores
from run to run, and the transfer cost is bimodal (about 50 ns or about 240 ns one way):
the two predictions show how much of a 2-thread figure the placement alone can move.
scaling-default.csv's rows of the Hogwild! methods (svrg, sgd) are used; a 2-thread row of
the shared model with hot_coords > 0 is checked against "hot" (and the rule's H against the
run's).  The inputs come from two VMs: results/pingpong.csv from the AMD EPYC VM of
2026-11-30, scaling-default.csv (t1) from the Intel Xeon VM of 2026-12-07, and
scaling-{sparse,dense}.csv from the AMD VM of 2026-11-23.

Limits.  kappa and c1 are a VM's pair of vCPUs: on a many-core server a transfer
within a core complex is cheaper and one across complexes or sockets dearer; --kappa and
--c1 override them, and at large T the hot merges cost nearly in proportion to c1.  The model counts
throughput only, not convergence per update: core replicas' averaging divides a sparse
coordinate's progress by about T, and staleness is a separate axis that it ignores.  The
hot set's write delay is bounded by 2 16 K (T - 1) updates (2048 (T - 1); 129024 at T = 64,
0.13 of an epoch of sparse-zipf; docs/math.md section 6, measured as staleness by
src/async.c: docs/design.md section 9), against about T for a cold coordinate.  It ignores
the shared last-level cache, the core frequency falling with more active cores, NUMA
placement of the shared model and of the accumulators, the coherence traffic's bandwidth
(at T = 64 the hot merges move ~15 lines an update a worker), the round ends' folds and
barriers, and the cost of the hot-column lookup (folded into the rows at load time in the
engine: the hot-first copy).  Conflicts assume independent rows and workers in lock-step
(equal rates).  The prefetch form X(C) for CSR rows assumes the lines arrive within one
update when uncontended; --no-prefetch charges kappa for each (an upper bound).  Fixed
point models (int8/int16) merge by compare-and-swap into one shared array: not modelled.
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
PLACEMENTS = ("shared", "core", "hot", "hot-best", "hot1")
LINE = 64


def header_define(rel, name, default):
    """The value of `#define name N` in ROOT/rel (the library's constant), else default."""
    try:
        with open(os.path.join(ROOT, rel)) as f:
            for line in f:
                w = line.split()
                if len(w) >= 3 and w[0] == "#define" and w[1] == name:
                    return int(w[2])
    except (OSError, ValueError):
        pass
    return default


HOT_EVERY = header_define("include/feral.h", "FERAL_HOT_EVERY_AUTO", 64)  # K
HOT_MAX = header_define("include/feral.h", "FERAL_HOT_MAX", 4096)
HOT_TIER = header_define("src/engine.h", "FERAL_HOT_TIER", 16)  # the slow tier: every 16 K


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
    """Run each problem at 1 thread and at 2 (shared model, core replicas, and the
    automatic placement: the hot set on Zipf rows), --repeat times, interleaved; append
    JSON lines to args.solves."""
    os.makedirs(os.path.dirname(os.path.abspath(args.solves)), exist_ok=True)
    feral = os.path.join(ROOT, "build", "feral")
    with open(args.solves, "a") as out:
        for rep in range(1, args.repeat + 1):
            for prob, cmd in PROBLEMS:
                path = os.path.join(args.data, prob + ".feral")
                for threads, placement in ((1, "machine"), (2, "machine"), (2, "core"),
                                           (2, "auto")):
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
    """{(problem, threads, placement): [updates/s...]} (placement shared, core or hot: an
    automatic run with a hot set; an automatic run that picked core replicas counts as
    core, one without a hot set as shared), {problem: {threads: hot columns}}, and the
    median load average during the runs."""
    runs, hots, loads = {}, {}, []
    with open(path) as f:
        for line in f:
            j = json.loads(line)
            r = j["r"]
            loads.append(float(j.get("load", "nan")))
            T, hot, pl = int(r["threads"]), int(r.get("hot_coords") or 0), j["placement"]
            if pl == "auto":
                pl = "hot" if hot else "core" if r.get("replicas_mode") == "core" else "machine"
            pl = "shared" if T == 1 or pl == "machine" else pl
            runs.setdefault((j["problem"], T, pl), []).append(float(r["updates_per_s"]))
            if pl == "hot":
                hots.setdefault(j["problem"], {})[T] = hot
    return runs, hots, float(np.nanmedian(loads)) if loads else float("nan")


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

    def shared_lines(self, b):
        """policy.c's rule for AUTO: two concurrent updates share l^2 / L lines (l the
        distinct lines an update writes); from 1 on, AUTO gives each worker a replica."""
        L = self.nlines(b)
        r = self.nnz_row
        lw = L if self.dense else (1.0 if L == 1 else -L * math.expm1(r * math.log1p(-1.0 / L)))
        return lw * lw / L

    def n_above(self, thr):
        """Columns with P_j >= thr (> 0)."""
        return 0 if self.dense else int(np.count_nonzero((self.P >= thr) & (self.P > 0)))

    def hot_rule(self, K):
        """The automatic hot set (policy.c, hot.c): H = the columns with
        P_j >= 2 / (FERAL_HOT_TIER K), at most FERAL_HOT_MAX (the most probable), and
        nfast of them with P_j >= 2 / K (the fast tier).  Dense rows: none."""
        if self.dense:
            return 0, 0
        H = min(self.n_above(2.0 / (HOT_TIER * K)), HOT_MAX)
        return H, min(H, self.n_above(2.0 / K))

    def hot_share(self, H):
        """Share of the (sampled) nonzeros that fall on the H hottest columns."""
        if self.dense:
            return H / self.d
        return float(self.P[self.order[:H]].sum() / self.P.sum())


def conflicts(q, T):
    """C(T) = sum_l q_l pi_l(T); max_l q_l pi_l(T); and the part of C whose line another
    worker writes again within one update of ours: sum_l q_l pi_l(T) (1 - (1 - q_l)^(T-1))."""
    if T <= 1 or len(q) == 0:
        return 0.0, 0.0, 0.0
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    s = (1.0 - q) ** (T - 1)
    den = 1.0 - (1.0 - q) * s
    with np.errstate(divide="ignore", invalid="ignore"):
        clean = np.where(den > 0, q * s / den, 1.0)
    pi = 1.0 - clean
    qp = q * pi
    return float(qp.sum()), float(qp.max()), float((qp * (1.0 - s)).sum())


# ---- the model ------------------------------------------------------------------------

def bandwidth(T, b1, args):
    sockets = math.ceil(T / args.cores_per_socket)
    return min(T * b1, sockets * args.socket_bw)


def cold_ns(lines, C, Cs, lead, pp, args):
    """Seconds per update that C conflicted model lines cost.  Dense rows (and
    --no-prefetch): kappa each, as build/pingpong measured them.  CSR rows: the engine
    prefetches the next update's cold model lines with write intent (prefetch_model,
    PF_MODEL = 1), one update (lead seconds) ahead.  Of the C lines, Cs are written again
    by another worker within that update (contended: the prefetched copy is stolen back),
    kappa each; the other C - Cs, requested together, take c1 max(1, (C - Cs) / mlp) and
    travel while the current update runs: only what exceeds lead shows."""
    if C <= 0:
        return 0.0
    if lines.dense or args.no_prefetch:
        return pp["kappa"] * C
    idle = C - Cs
    return (pp["kappa"] * Cs +
            min(idle, 1.0) * max(0.0, pp["c1"] * max(1.0, idle / args.mlp) - lead))


def merge_cost(h, T, pp, args):
    """(seconds, lines moved) of one merge of the slots [0, h) by one of T workers
    (hot.c, float model): the slots' lines L = ceil(8 h / 64) of each accumulator (f64,
    each worker's on lines of its own); T - 1 others' accumulators read (each written by
    its owner since: (T - 1) L transfers) and its own L lines re-acquired (the others
    read them since), all requested together: c1 max(1, T L / mlp); and T + 3 passes over
    the h slots (own accumulator, x0, T accumulators, priv and base) at slot_ns each."""
    if h <= 0 or T <= 1:
        return 0.0, 0
    n = T * math.ceil(h * 8 / LINE)
    return (T + 3) * h * args.slot_ns * 1e-9 + pp["c1"] * max(1.0, n / args.mlp), n


def pick(rate, caps):
    """The smallest of the compute rate and the caps, and the name of the bound."""
    name, val = "compute", rate
    for k, v in caps:
        if v < val:
            name, val = k, v
    return val, name


def hot_two_tier(lines, b, t1, pp, T, args, H, nfast, cap_bw):
    """(s per update, updates/s, bound, conflicted cold lines) of the implemented hot set
    of the H hottest columns, nfast of them in the fast tier."""
    K, tier = args.hot_every, HOT_TIER
    C, worst, Cs = conflicts(lines.q_cold(b, H), T)
    base = t1 * (1 + args.split_cost) if H > 0 else t1
    mf, _ = merge_cost(nfast, T, pp, args)
    ma, _ = merge_cost(H, T, pp, args)
    t = base + cold_ns(lines, C, Cs, base, pp, args) + ((tier - 1) * mf + ma) / (tier * K)
    caps = [("bandwidth", cap_bw)]
    if worst > 0:
        caps.append(("line", 1.0 / (pp["c1"] * worst)))
    if H > 0:  # an accumulator line: 1 write and T - 1 reads a period, one at a time at worst
        caps.append(("serial", (K if nfast > 0 else tier * K) / pp["c1"]))
    U, bound = pick(T / t, caps)
    return t, U, bound, C


def ladder(d, extra=()):
    return sorted({0, d} | set(extra) | {1 << k for k in range(int(math.log2(max(d, 1))) + 1)
                                         if (1 << k) < d})


def predict(lines, b, t1, pp, b1, T, args, R=None):
    """[(placement, s per update, updates/s, bound, H, fast slots, hot share, conflicted
    lines)] for a model of b bytes a coordinate; R: core replicas' averaging period.
    Placements: shared, core, and on CSR rows hot (the implemented rule), hot-best (the
    two tiers with the best H) and hot1 (the earlier model: one tier, atomic adds)."""
    kappa, c1, a, u = pp["kappa"], pp["c1"], pp["a"], pp["u"]
    R = args.average_every if R is None else R
    L = lines.nlines(b)
    cap_bw = bandwidth(T, b1, args) / lines.beta
    out = []
    # shared model
    C, worst, Cs = conflicts(lines.q_cold(b, 0), T)
    t = t1 + cold_ns(lines, C, Cs, t1, pp, args)
    caps = [("bandwidth", cap_bw)]
    if worst > 0:
        caps.append(("line", 1.0 / (c1 * worst)))
    U, bound = pick(T / t, caps)
    out.append(("shared", t, U, bound, 0, 0, 0.0, C))
    # per-core replicas, averaged every R updates per worker
    if T == 1:
        out.append(("core", t1, 1.0 / t1, "compute", 0, 0, 0.0, 0.0))
    else:
        t = t1 + ((T * c1 + 2 * L * kappa + lines.d * u) / R if R > 0 else 0.0)
        U, bound = pick(T / t, [("bandwidth", cap_bw)])
        out.append(("core", t, U, bound, lines.d, 0, 1.0, 0.0))
    if lines.dense:  # no hot set on dense rows (policy.c): core replicas
        return out
    if T == 1:  # one worker: no hot set under auto, the plain update
        for pl in ("hot", "hot-best", "hot1"):
            out.append((pl, t1, 1.0 / t1, "compute", 0, 0, 0.0, 0.0))
        return out
    # hot, the implemented rule: P_j >= 2 / (16 K), at most FERAL_HOT_MAX
    H, nfast = lines.hot_rule(args.hot_every)
    t, U, bound, C = hot_two_tier(lines, b, t1, pp, T, args, H, nfast, cap_bw)
    out.append(("hot", t, U, bound, H, nfast, lines.hot_share(H), C))
    # hot-best: the H hottest columns, the same tiers (P_j >= 2/K fast), H for the best rate
    nf_all = lines.n_above(2.0 / args.hot_every)
    choice = None
    for h in ladder(lines.d, (H,)):
        t, U, bound, C = hot_two_tier(lines, b, t1, pp, T, args, h, min(h, nf_all), cap_bw)
        if choice is None or U > choice[2] * (1 + 1e-9):
            choice = ("hot-best", t, U, bound, h, min(h, nf_all), lines.hot_share(h), C)
    out.append(choice)
    # hot1, the earlier model (not implemented): one tier of H columns, atomic adds into
    # the shared model every K1 updates; each hot line takes every worker's merge in turn
    K1 = args.merge_every_1tier
    choice = None
    for h in ladder(lines.d):
        C, worst, Cs = conflicts(lines.q_cold(b, h), T)
        LH = math.ceil(h * b / LINE)
        base = t1 * (1 + args.split_cost) if h else t1
        merge = (h * (a + u) + LH * kappa) / K1 if h else 0.0
        t = base + cold_ns(lines, C, Cs, base, pp, args) + merge
        caps = [("bandwidth", cap_bw)]
        if worst > 0:
            caps.append(("line", 1.0 / (c1 * worst)))
        if h > 0:
            caps.append(("merge", K1 / c1))
        U, bound = pick(T / t, caps)
        if choice is None or U > choice[2] * (1 + 1e-9):
            choice = ("hot1", t, U, bound, h, h, lines.hot_share(h), C)
    out.append(choice)
    return out


def read_recorded():
    """Measurements already in results/: [(problem, source, model bytes, R of core,
    {(threads, placement): updates/s}, {threads: hot columns})].  scaling-default.csv: the
    five problems of data/scaling at 1 thread and at 2 in the automatic placement
    (solve/train, f64 model, core replicas averaged at the end; on sparse rows the shared
    model, with the hot set where hot_coords > 0), Hogwild! methods only (svrg, sgd: a
    newton row's "updates" are rows visited by its gradient passes); where a problem has
    rows with and without options, the rows with options (`--method svrg`) are kept.
    scaling-{sparse,dense}.csv: bench's uniform sparse and dense d = 1024 problems (f32
    model) in both placements, no hot set (bench sets the replica mode)."""
    obs = []
    p = os.path.join(ROOT, "results", "scaling-default.csv")
    if os.path.exists(p):
        per = {}
        with open(p) as f:
            for row in csv.DictReader(f):
                if row.get("method", "") not in ("svrg", "sgd"):
                    continue
                T, hot = int(row["threads"]), int(row.get("hot_coords") or 0)
                pl = ("shared" if T == 1 else row["replicas"] if row["replicas"] != "machine"
                      else "hot" if hot > 0 else "shared")
                key = (row["problem"], row.get("options", ""))
                m, hc = per.setdefault(key, ({}, {}))
                m[(T, pl)] = float(row["updates_per_s"])
                hc[T] = hot
        for (prob, opt), (m, hc) in per.items():
            if not opt and any(k[0] == prob and k[1] for k in per):
                continue
            obs.append((prob, "scaling-default.csv" + (f" ({opt})" if opt else ""), 8, 0, m, hc))
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
        obs.append((prob, name, int(row["model_bits"]) // 8, R, m, {}))
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
    ap.add_argument("--hot-every", type=int, default=HOT_EVERY,
                    help=f"the hot set's fast merge period K (default {HOT_EVERY}, the library's)")
    ap.add_argument("--merge-every-1tier", type=int, default=256,
                    help="K of the one-tier atomic variant hot1 (default 256)")
    ap.add_argument("--slot-ns", type=float, default=0.43,
                    help="ns per slot and pass of a merge (default 0.43: docs/math.md section 6, "
                         "74 slots merged in 160 ns with the other worker idle, 5 passes)")
    ap.add_argument("--mlp", type=float, default=10.0,
                    help="line transfers a core keeps in flight (default 10: its fill buffers)")
    ap.add_argument("--split-cost", type=float, default=0.04,
                    help="extra share of t1 for the split hot/cold update (default 0.04: "
                         "results/README.md, 240 against 231 ns at one thread)")
    ap.add_argument("--no-prefetch", action="store_true",
                    help="charge kappa for every conflicted line on CSR rows too (the model "
                         "before the engine's write prefetch of the next update's model lines)")
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
        runs, hots, load = read_solves(args.solves)
        per = {}
        for (prob, T, pl), v in runs.items():
            per.setdefault(prob, {})[(T, pl)] = max(v)
        for prob, m in per.items():
            obs.append((prob, f"--measure, load {load:.0f} on {os.cpu_count()} CPUs", 8, 0, m,
                        hots.get(prob, {})))
    t1s = {}  # the main table's t1: scaling-default.csv, else this session's runs
    for prob, src, b, R, m, _ in obs:
        if (1, "shared") in m and (prob not in t1s or src.startswith("scaling-default.csv")):
            t1s[prob] = (1.0 / m[(1, "shared")], src)

    print(f"# pingpong ({ppr['one_way_ns'][3]} runs of {args.pingpong_lines} lines; median "
          f"[min max] of the runs' medians): one-way {ppr['one_way_ns'][0]:.0f} ns "
          f"[{ppr['one_way_ns'][1]:.0f} {ppr['one_way_ns'][2]:.0f}], conflicted line "
          f"{ppr['conflict_line_ns'][0]:.0f} ns [{ppr['conflict_line_ns'][1]:.0f} "
          f"{ppr['conflict_line_ns'][2]:.0f}], atomic {ppr['local_atomic_ns'][0]:.1f} ns, "
          f"plain update {ppr['local_rmw_ns'][0]:.1f} ns")
    print(f"# used: kappa {pp['kappa'] * 1e9:.0f} ns, c1 {pp['c1'] * 1e9:.0f} ns, {args.mlp:g} "
          f"lines in flight, merge {args.slot_ns:g} ns a slot a pass; bandwidth "
          f"{b1 / 1e9:.1f} GB/s a core, {args.socket_bw / 1e9:.0f} GB/s a socket of "
          f"{args.cores_per_socket} cores; f64 model (8 bytes a coordinate); hot set: fast tier "
          f"every K = {args.hot_every}, all slots every {HOT_TIER * args.hot_every}, at most "
          f"{HOT_MAX} columns; hot1 every {args.merge_every_1tier}; core replicas averaged "
          f"{'every %d' % args.average_every if args.average_every else 'at the end'}; cold "
          f"conflicts on CSR rows {'charged kappa' if args.no_prefetch else 'prefetched'}")
    for name, p in (("median", pp), ("nearest", pp_near)):
        cost = [(h, *merge_cost(h, 2, p, args)) for h in (74, 753)]
        print(f"# merge at T = 2, {name} c1 {p['c1'] * 1e9:.0f} ns: " + ", ".join(
            f"{h} slots {s * 1e9:.0f} ns ({n} lines)" for h, s, n in cost))
    rows, checks, lines_of = [], [], {}
    for prob, _ in PROBLEMS:
        path = os.path.join(args.data, prob + ".feral")
        if prob not in t1s or not os.path.exists(path):
            print(f"# {prob}: no 1-thread rate or no {path}: skipped", file=sys.stderr)
            continue
        t1, src = t1s[prob]
        lines = lines_of[prob] = Lines(path, args.lam)
        q = lines.q_cold(8, 0)
        H, nfast = lines.hot_rule(args.hot_every)
        auto = ("core replicas" if lines.dense or lines.shared_lines(8) >= 1 else
                f"shared + hot set of {H} ({nfast} fast, {100 * lines.hot_share(H):.0f} % of "
                f"the nonzeros)" if H else "shared, no hot column")
        print(f"# {prob}: n {lines.n} d {lines.d}, {lines.nnz_row:.0f} nonzeros a row, "
              f"{lines.nlines(8)} model lines of 8 coordinates, {q.sum():.1f} touched an "
              f"update, max q_l {q.max():.3f}; t1 {t1 * 1e9:.0f} ns ({src}); auto: {auto}")
        for T in THREADS:
            for pl, t, U, bound, h, nf, share, C in predict(lines, 8, t1, pp, b1, T, args):
                rows.append({"kind": "prediction", "problem": prob, "placement": pl,
                             "threads": T, "source": src, "model_bytes": 8,
                             "conflicted_lines": round(C, 3), "hot_columns": h,
                             "hot_fast": nf, "hot_nnz_share": round(share, 4),
                             "ns_per_update": round(t * 1e9, 1), "bound": bound,
                             "updates_per_s": round(U), "speedup": round(U * t1, 3),
                             "measured_speedup": "", "error_pct": "", "measured_hot": ""})
    # the check: 2 threads against 1, source by source
    for prob, src, b, R, m, hc in obs:
        if prob not in lines_of or (1, "shared") not in m:
            continue
        t1 = 1.0 / m[(1, "shared")]
        for (T, pl), u in sorted(m.items()):
            if T == 1:
                continue
            for regime, p in (("median", pp), ("nearest", pp_near)):
                pred = {r[0]: r for r in predict(lines_of[prob], b, t1, p, b1, T, args, R)}
                if pl not in pred:
                    continue
                pred = pred[pl]
                sp, msp = pred[2] * t1, u * t1
                checks.append({"kind": "check-" + regime, "problem": prob, "placement": pl,
                               "threads": T, "source": src, "model_bytes": b,
                               "conflicted_lines": round(pred[7], 3), "hot_columns": pred[4],
                               "hot_fast": pred[5], "hot_nnz_share": round(pred[6], 4),
                               "ns_per_update": round(pred[1] * 1e9, 1),
                               "bound": pred[3], "updates_per_s": round(pred[2]),
                               "speedup": round(sp, 3), "measured_speedup": round(msp, 3),
                               "error_pct": round(100 * (sp - msp) / msp, 1),
                               "measured_hot": hc.get(T, "")})
    if not rows:
        sys.exit("scaling-model: nothing to model")
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows + checks)
    print("\n| problem | placement | " + " | ".join(f"T={T}" for T in THREADS) + " |")
    print("|---|---|" + "---|" * len(THREADS))
    for prob, _ in PROBLEMS:
        for pl in PLACEMENTS:
            rs = [r for r in rows if r["problem"] == prob and r["placement"] == pl]
            if not rs:
                continue
            cells = []
            for r in rs:
                c = f"{r['speedup']:.2f}×"
                if r["bound"] != "compute":
                    c += f" ({r['bound'][0]})"
                if pl.startswith("hot") and r["threads"] > 1:
                    c += f" H={r['hot_columns']}"
                    if pl != "hot1":
                        c += f"/{r['hot_fast']}"
                cells.append(c)
            print(f"| {prob} | {pl} | " + " | ".join(cells) + " |")
    print("\n(speedup = predicted updates/s over the 1-thread rate; (b) bandwidth-, (l) line-, "
          "(s) serial- (an accumulator line's transactions one at a time), (m) merge-bound; "
          "H = hot columns/of them in the fast tier)")
    print(f"\n| check: 2 threads | placement | source | model | measured | predicted, median "
          f"pingpong (kappa {pp['kappa'] * 1e9:.0f}, c1 {pp['c1'] * 1e9:.0f} ns) | predicted, "
          f"nearest pair (kappa {pp_near['kappa'] * 1e9:.0f}, c1 {pp_near['c1'] * 1e9:.0f} ns) |")
    print("|---|---|---|---|---|---|---|")
    for c, n in zip(checks[0::2], checks[1::2]):
        pl = c["placement"]
        if pl == "hot":
            pl += f" (H {c['hot_columns']}/{c['hot_fast']}; run: {c['measured_hot']})"
        print(f"| {c['problem']} | {pl} | {c['source']} | f{8 * c['model_bytes']} | "
              f"{c['measured_speedup']:.2f}× | {c['speedup']:.2f}× ({c['error_pct']:+.0f} %) | "
              f"{n['speedup']:.2f}× ({n['error_pct']:+.0f} %) |")
    print(f"\n({args.out})")


if __name__ == "__main__":
    main()
