#!/usr/bin/python3
"""feral solve against scipy's LSQR on one least-squares system, in the same run.

usage: scripts/peer-lsqr.py A.npy B.npy [--threads T] [--spread DECADES] [--target E]
                            [--repeat R] [--out results/lsqr-peers.csv]

Both sides start from the files on disk and their wall time includes loading
(LSQR also gets the float32 matrix converted to float64 once: passing float32
makes numpy upcast on every product).  Each side gets the loosest tolerance
of a fixed ladder that reaches ||x - x_LS|| / ||x_LS|| <= E (default 1e-4, not
squared): feral's certified --tol, LSQR's atol = btol.  x_LS comes from
numpy's lstsq in double on the same float32 data (cached beside A as
A.xls.npy).  Once a side's tolerance is found, it runs R times more (default
2) and the median wall time of all its runs at that tolerance is reported.

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
from scipy.sparse.linalg import lsqr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERAL = os.environ.get("FERAL", os.path.join(ROOT, "build", "feral"))
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"
FERAL_TOLS = [1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 1e-7]
LSQR_TOLS = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8]
REPEAT = 2


def rel(x, xls):
    return float(np.linalg.norm(x - xls) / np.linalg.norm(xls))


def x_ls(a_path, b_path):
    cache = a_path[:-4] + ".xls.npy"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(a_path):
        return np.load(cache)
    A = np.load(a_path).astype(np.float64)
    b = np.load(b_path).astype(np.float64)
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    np.save(cache, x)
    return x


def run_feral(a_path, b_path, xls, threads, extra, target):
    out = os.path.join(SCRATCH, f"peer-lsqr-x-{os.getpid()}.npy")
    for tol in FERAL_TOLS:
        cmd = [FERAL, "solve", a_path, b_path, "--threads", str(threads), "--tol", str(tol),
               "-o", out, "--json"] + extra
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"peer-lsqr: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
        j = json.loads(p.stdout)
        err = rel(np.load(out), xls)
        os.unlink(out)
        print(f"  feral {' '.join(extra) or '(defaults)'} --tol {tol:g}: {wall:.2f} s, "
              f"rel error {err:.2e}, {j.get('method')}, converged {j.get('converged')}",
              file=sys.stderr)
        if err <= target:
            walls = [wall]
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                subprocess.run(cmd, capture_output=True, text=True, check=True)
                walls.append(time.perf_counter() - t0)
            os.path.exists(out) and os.unlink(out)
            print(f"    walls {', '.join(f'{w:.2f}' for w in walls)}", file=sys.stderr)
            return dict(tool="feral", options=" ".join(["--threads", str(threads), "--tol",
                                                        f"{tol:g}"] + extra),
                        wall_s=statistics.median(walls), rel_error=err,
                        iterations=j.get("updates"))
    return dict(tool="feral", options=" ".join(extra), wall_s=float("nan"), rel_error=err,
                iterations=None)


def lsqr_once(a_path, b_path, tol):
    t0 = time.perf_counter()
    A = np.load(a_path).astype(np.float64)
    b = np.load(b_path).astype(np.float64)
    r = lsqr(A, b, atol=tol, btol=tol, iter_lim=100000)
    return r, time.perf_counter() - t0


def run_lsqr(a_path, b_path, xls, target):
    for tol in LSQR_TOLS:
        r, wall = lsqr_once(a_path, b_path, tol)
        err = rel(r[0], xls)
        print(f"  lsqr atol=btol={tol:g}: {wall:.2f} s, {r[2]} iterations, rel error {err:.2e}",
              file=sys.stderr)
        if err <= target:
            walls = [wall] + [lsqr_once(a_path, b_path, tol)[1] for _ in range(REPEAT)]
            print(f"    walls {', '.join(f'{w:.2f}' for w in walls)}", file=sys.stderr)
            return dict(tool="scipy lsqr", options=f"atol=btol={tol:g}",
                        wall_s=statistics.median(walls), rel_error=err, iterations=int(r[2]))
    return dict(tool="scipy lsqr", options="", wall_s=float("nan"), rel_error=err,
                iterations=None)


def spread_copy(a_path, b_path, decades):
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
    ap.add_argument("b")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spread", type=float, default=0)
    ap.add_argument("--target", type=float, default=1e-4)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "lsqr-peers.csv"))
    o = ap.parse_args()
    global REPEAT
    REPEAT = max(0, o.repeat)
    a, b = o.a, o.b
    if o.spread > 0:
        a, b = spread_copy(a, b, o.spread)
    xls = x_ls(a, b)
    shape = np.load(a, mmap_mode="r").shape
    rows = [run_lsqr(a, b, xls, o.target),
            run_feral(a, b, xls, o.threads, [], o.target)]
    if o.spread > 0:
        rows.append(run_feral(a, b, xls, o.threads, ["--sampling", "uniform"], o.target))
    lw = rows[0]["wall_s"]
    new = not os.path.exists(o.out)
    with open(o.out, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["problem", "n", "d", "spread_decades", "target", "tool", "options",
                        "median_wall_s", "rel_error", "iterations", "lsqr_wall_over_this"])
        for r in rows:
            w.writerow([os.path.basename(o.a), shape[0], shape[1], o.spread, o.target,
                        r["tool"], r["options"], f"{r['wall_s']:.3f}", f"{r['rel_error']:.3e}",
                        r["iterations"], f"{lw / r['wall_s']:.2f}"])
    print(f"| tool | options | wall (load included) | ‖x−x_LS‖/‖x_LS‖ | LSQR wall / this |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['tool']} | {r['options']} | {r['wall_s']:.2f} s | {r['rel_error']:.1e} | "
              f"{lw / r['wall_s']:.2f}× |")
    if o.spread > 0:
        for p in (a, b, a[:-4] + ".xls.npy"):
            if p.startswith(SCRATCH) and os.path.exists(p):
                os.unlink(p)


if __name__ == "__main__":
    main()
