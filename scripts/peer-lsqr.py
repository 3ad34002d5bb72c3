#!/usr/bin/python3
"""feral solve against scipy's LSQR on one least-squares system, in the same run.

usage: scripts/peer-lsqr.py A.npy B.npy [--threads T] [--spread DECADES] [--target E]
                            [--repeat R] [--out results/lsqr-peers.csv]
       scripts/peer-lsqr.py DATA.feral [...]     (sparse or dense, targets inside)

Both sides start from the same files on disk and their wall time includes
loading: a dense .npy pair with numpy, any other file (a .feral cache from
`feral gen sparse ... -o DATA.feral`, LIBSVM, Matrix Market) with libferal's
own loader through the Python binding (python/feral: a float32 CSR for sparse
layouts).  LSQR also gets the float32 matrix converted to float64 once
(passing float32 makes numpy upcast on every product).  Each side gets the
loosest tolerance of a fixed ladder that reaches ||x - x_LS|| / ||x_LS|| <= E
(default 1e-4, not squared): feral's certified --tol, LSQR's atol = btol.
x_LS is computed once in double on the same float32 data: numpy's lstsq for
dense A; for sparse A, LSQR at atol = btol = 1e-14 on the column-scaled
system A D, D = diag(1/||A e_j||) (1 for an empty column), x = D y: the same
minimiser (empty columns stay 0, as in the minimum-norm solution), reached
in tens of iterations where plain LSQR needs thousands on power-law columns;
its normal-equation residual ||A'(b - Ax)|| / ||A'b|| is printed.  Cached
beside A as A.xls.npy (or in /dev/shm when that directory is read-only).

--lsqr-scaled adds that column-scaled LSQR (Jacobi preconditioning, its
scaling's cost counted) as a second LSQR row; --feral-args "..." passes more
options to every feral run (e.g. "--epochs 1000" when 100 epochs do not
reach the target); --feral-tols / --lsqr-tols "T1,T2,..." replace feral's
ladder / plain LSQR's (the column-scaled one keeps the default); a side that
reaches the target at none of them gets a row with its last error and no
time.

Once every side's tolerance is found, each runs R times more (default 2),
interleaved (LSQR, feral, LSQR, feral, ...: a shared machine's load drifts),
and the median wall time of all runs at that tolerance is reported, with the
1-minute load average.  The rows also give feral's epochs (updates / n) and
solve time per epoch, LSQR's iterations and time per iteration (load
excluded), to explain the ratio.

--spread D scales row i by 10^u_i, u_i uniform on [0, D] (fixed seed), so the
row norms spread over D decades (a different, weighted problem; its x_LS is
computed afresh), and feral runs twice there: SVRG with the default sampling
(weighted by L_i, lambda mix) and with --sampling uniform.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.sparse
from scipy.sparse.linalg import lsqr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
FERAL = os.environ.get("FERAL", os.path.join(ROOT, "build", "feral"))
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"
FERAL_TOLS = [1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7, 3e-8, 1e-8]
LSQR_TOLS = [1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
HEADER = ["problem", "n", "d", "spread_decades", "target", "tool", "options", "median_wall_s",
          "rel_error", "iterations", "lsqr_wall_over_this", "epochs_or_iterations",
          "seconds_per_epoch_or_iteration", "loadavg_1min"]


def rel(x, xls):
    return float(np.linalg.norm(x - xls) / np.linalg.norm(xls))


def load(a_path, b_path):
    """A and b in float64, from a .npy pair (numpy) or one file libferal reads."""
    if b_path is not None:
        return np.load(a_path).astype(np.float64), np.load(b_path).astype(np.float64)
    import feral  # python/feral, on build/libferal.so
    A, b = feral.load(a_path)
    if b is None:
        sys.exit(f"peer-lsqr: {a_path} carries no targets: give B")
    return A.astype(np.float64), np.asarray(b, dtype=np.float64)


def x_ls(a_path, b_path):
    cache = os.path.splitext(a_path)[0] + ".xls.npy"
    if not os.access(os.path.dirname(os.path.abspath(a_path)), os.W_OK):
        cache = os.path.join(SCRATCH, os.path.basename(cache))
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(a_path):
        return np.load(cache)
    A, b = load(a_path, b_path)
    if scipy.sparse.issparse(A):
        r = lsqr_solve(A.copy(), b, 1e-14, True)
        x = r[0]
        ne = np.linalg.norm(A.T @ (b - A @ x)) / np.linalg.norm(A.T @ b)
        print(f"  x_LS: column-scaled LSQR atol=btol=1e-14, {r[2]} iterations, stop {r[1]}, "
              f"||A'(b-Ax)||/||A'b|| = {ne:.1e}", file=sys.stderr)
    else:
        x = np.linalg.lstsq(A, b, rcond=None)[0]
    np.save(cache, x)
    return x


def run_feral(a_path, b_path, xls, threads, extra, target):
    out = os.path.join(SCRATCH, f"peer-lsqr-x-{os.getpid()}.npy")
    data = [a_path] + ([b_path] if b_path is not None else [])
    for tol in FERAL_TOLS:
        cmd = [FERAL, "solve"] + data + ["--threads", str(threads), "--tol", str(tol),
               "-o", out, "--json"] + extra
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"peer-lsqr: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
        j = json.loads(p.stdout)
        err = rel(np.load(out), xls)
        os.unlink(out)
        epochs = j["updates"] / j["n"]
        print(f"  feral {' '.join(extra) or '(defaults)'} --tol {tol:g}: {wall:.2f} s, "
              f"rel error {err:.2e}, {j.get('method')}, converged {j.get('converged')}, "
              f"{epochs:.3g} epochs, solve {j['seconds']:.2f} s "
              f"({j['seconds'] / max(epochs, 1e-9):.3f} s/epoch), "
              f"grad passes {j.get('grad_seconds') or 0:.2f} s", file=sys.stderr)
        row = dict(tool="feral", options=" ".join(["--threads", str(threads), "--tol",
                                                   f"{tol:g}"] + extra),
                   walls=[], rel_error=err, iterations=j.get("updates"), steps=epochs,
                   per_step=j["seconds"] / max(epochs, 1e-9))
        if err <= target:
            def again(cmd=cmd):
                t0 = time.perf_counter()
                subprocess.run(cmd, capture_output=True, text=True, check=True)
                wall = time.perf_counter() - t0
                os.path.exists(out) and os.unlink(out)
                return wall
            row.update(walls=[wall], again=again)
            return row
    return row  # not reached: the last error, no time


def lsqr_solve(A, b, tol, scaled):
    """scipy's LSQR; scaled: on A D, D = diag(1/||A e_j||) (A scaled in place),
    then x = D y."""
    if not scaled:
        return lsqr(A, b, atol=tol, btol=tol, iter_lim=1000000)
    if scipy.sparse.issparse(A):
        norms = np.sqrt(np.asarray(A.multiply(A).sum(axis=0)).ravel())
    else:
        norms = np.linalg.norm(A, axis=0)
    dscale = 1.0 / np.where(norms > 0, norms, 1.0)
    if scipy.sparse.issparse(A):  # in place: A is this call's float64 copy
        A = A.tocsr()
        A.data *= dscale[A.indices]
    else:
        A *= dscale
    r = lsqr(A, b, atol=tol, btol=tol, iter_lim=1000000)
    return (dscale * r[0],) + tuple(r[1:])


def lsqr_once(a_path, b_path, tol, scaled):
    t0 = time.perf_counter()
    A, b = load(a_path, b_path)
    t1 = time.perf_counter()
    r = lsqr_solve(A, b, tol, scaled)
    t2 = time.perf_counter()
    return r, t2 - t0, t2 - t1


def run_lsqr(a_path, b_path, xls, target, scaled=False, tols=None):
    name = "scipy lsqr" + (", column-scaled" if scaled else "")
    for tol in tols or LSQR_TOLS:
        r, wall, it_s = lsqr_once(a_path, b_path, tol, scaled)
        err = rel(r[0], xls)
        print(f"  {name} atol=btol={tol:g}: {wall:.2f} s, {r[2]} iterations, rel error "
              f"{err:.2e}, iterations {it_s:.2f} s ({it_s / max(r[2], 1):.3f} s each)",
              file=sys.stderr)
        row = dict(tool=name, options=f"atol=btol={tol:g}", walls=[], rel_error=err,
                   iterations=int(r[2]), steps=int(r[2]), per_step=it_s / max(r[2], 1))
        if err <= target:
            row.update(walls=[wall],
                       again=lambda tol=tol: lsqr_once(a_path, b_path, tol, scaled)[1])
            return row
    return row  # not reached: the last error, no time


def spread_copy(a_path, b_path, decades):
    if b_path is None:
        sys.exit("peer-lsqr: --spread needs a dense A.npy B.npy pair")
    A = np.load(a_path)
    b = np.load(b_path)
    s = (10.0 ** np.random.default_rng(12345).uniform(0, decades, A.shape[0])).astype(np.float32)
    base = os.path.join(SCRATCH, f"peer-lsqr-spread{decades:g}")
    np.save(base + ".npy", A * s[:, None])
    np.save(base + ".b.npy", b * s)
    return base + ".npy", base + ".b.npy"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spread", type=float, default=0)
    ap.add_argument("--target", type=float, default=1e-4)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--lsqr-scaled", action="store_true")
    ap.add_argument("--feral-args", default="")
    ap.add_argument("--feral-tols")
    ap.add_argument("--lsqr-tols")
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "lsqr-peers.csv"))
    o = ap.parse_args()
    global FERAL_TOLS
    if o.feral_tols:
        FERAL_TOLS = [float(t) for t in o.feral_tols.split(",")]
    plain_tols = [float(t) for t in o.lsqr_tols.split(",")] if o.lsqr_tols else None
    a, b = o.a, o.b
    if o.spread > 0:
        a, b = spread_copy(a, b, o.spread)
    xls = x_ls(a, b)
    shape = (np.load(a, mmap_mode="r").shape if b is not None
             else (load(a, None)[0].shape))
    extra = o.feral_args.split()
    rows = [run_lsqr(a, b, xls, o.target, tols=plain_tols)]
    if o.lsqr_scaled:
        rows.append(run_lsqr(a, b, xls, o.target, scaled=True))
    rows.append(run_feral(a, b, xls, o.threads, extra, o.target))
    if o.spread > 0:
        rows.append(run_feral(a, b, xls, o.threads, extra + ["--sampling", "uniform"],
                              o.target))
    # the repeats interleaved (LSQR, feral, LSQR, feral ...): on a shared
    # machine the load drifts, and both sides should see the same drift
    for _ in range(max(0, o.repeat)):
        for r in rows:
            if r["walls"]:
                r["walls"].append(r["again"]())
    load1 = os.getloadavg()[0]
    for r in rows:
        r["wall_s"] = statistics.median(r["walls"]) if r["walls"] else float("nan")
        print(f"  {r['tool']} {r['options']}: walls "
              f"{', '.join(f'{w:.2f}' for w in r['walls'])}", file=sys.stderr)
    print(f"  load average (1 min) at the end: {load1:.2f}", file=sys.stderr)
    lw = rows[0]["wall_s"]
    if os.path.exists(o.out):
        with open(o.out, newline="") as f:
            if next(csv.reader(f), None) != HEADER:
                sys.exit(f"peer-lsqr: {o.out} has another header than {HEADER}")
    else:
        with open(o.out, "w", newline="") as f:
            csv.writer(f).writerow(HEADER)
    with open(o.out, "a", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([os.path.basename(o.a), shape[0], shape[1], o.spread, o.target,
                        r["tool"], r["options"], f"{r['wall_s']:.3f}", f"{r['rel_error']:.3e}",
                        r["iterations"], f"{lw / r['wall_s']:.2f}",
                        f"{r['steps']:.3g}" if "steps" in r else "",
                        f"{r['per_step']:.4f}" if "per_step" in r else "", f"{load1:.2f}"])
    print(f"| tool | options | wall (load included) | ‖x−x_LS‖/‖x_LS‖ | LSQR wall / this |")
    print("|---|---|---|---|---|")
    for r in rows:
        wall = f"{r['wall_s']:.2f} s" if r["walls"] else "not reached"
        print(f"| {r['tool']} | {r['options']} | {wall} | {r['rel_error']:.1e} | "
              f"{lw / r['wall_s']:.2f}× |")
    if o.spread > 0:
        for p in (a, b, a[:-4] + ".xls.npy"):
            if p.startswith(SCRATCH) and os.path.exists(p):
                os.unlink(p)


if __name__ == "__main__":
    main()
