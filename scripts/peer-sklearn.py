#!/usr/bin/env python3
"""scikit-learn's SGDClassifier as a peer of feral, two ways.

1. Peer for build/bench --peers (classification):

    scripts/peer-sklearn.py DATA.svm D LOSS ALPHA MAX_ITER SEED

   LOSS is "log_loss" or "hinge"; ALPHA the L2 weight (the objective
   (1/n) sum loss + alpha/2 |w|^2, no intercept).  Only the fit is timed.
   Prints one line: RESULT <fit seconds> <training accuracy> <epochs run>.

2. FeralClassifier against SGDClassifier in one process (after make):

    PYTHONPATH=python /usr/bin/python3 scripts/peer-sklearn.py compare \\
        [--data fashion|digits|synthetic] [--repeat R] [--cache DIR] [--csv FILE]
        [--ref-iter K] [--ref-only 1]

   Defaults against defaults, on the same float32 training array and the
   same held-out test set: FeralClassifier() (and with n_jobs=1: one
   thread, bit-reproducible), SGDClassifier(n_jobs=-1)
   (hinge, alpha 1e-4) and SGDClassifier(loss="log_loss", n_jobs=-1).  The
   R repeats are interleaved (A B C A B C ...) so that a loaded machine
   slows all alike; seed r for repeat r (random_state=r for both).  For each:
   the median wall time of fit() (whatever conversion it does inside, e.g.
   sklearn's float32 -> float64 copy, FeralClassifier's copy with the bias
   column, is in it), the median test accuracy, and the training objective
   (1/n) sum log(1 + exp(-y (x.w + b))) + alpha/2 |w|^2 (intercept not
   penalised, scikit-learn's convention) at alpha = 0 and alpha = 1e-4,
   each minus its optimum F*, which L-BFGS (scipy, float64, at most K
   iterations, default 5000; the relative gradient norm reached is printed)
   computes once and keeps in DIR (default /tmp/feral-peer-sklearn);
   --ref-only 1 computes them (or goes on from the cached points, K more
   iterations) and stops (run it under nice first).  Where
   L-BFGS stops short of the optimum (alpha = 0 is ill-conditioned), F* is
   an upper bound of the optimum and the gaps are lower bounds.  FeralClassifier's
   own objective is alpha = 0 (its default), SGDClassifier's log_loss
   alpha = 1e-4; hinge has neither.  For FeralClassifier the fit is also
   broken down: sklearn validation, the design copy, the solve call and the
   library's own solver/monitor seconds.  Also checked: FeralClassifier
   with n_jobs=1 gives the accuracy of `feral train` with the same options
   (1 thread, same seed: the same iterate).

   Data: fashion = Fashion-MNIST (Debian dataset-fashion-mnist), labels
   0, 2, 4, 6 (T-shirt, pullover, coat, shirt) against the rest, pixels / 255
   (as scripts/data/fashion-mnist.sh), the standard 60000/10000 split;
   digits = sklearn's 8x8 digits, label < 5 against >= 5, pixels / 16, a
   70/30 split (random_state 0); synthetic = make_classification(60000, 200,
   random_state 0), a 50000/10000 split.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION = "/usr/share/datasets/fashion-mnist"


def bench_peer(argv):
    path, d, loss, alpha, max_iter, seed = argv[1:]
    from sklearn.datasets import load_svmlight_file
    from sklearn.linear_model import SGDClassifier

    X, y = load_svmlight_file(path, n_features=int(d))
    c = SGDClassifier(loss=loss, penalty="l2", alpha=float(alpha), fit_intercept=False,
                      max_iter=int(max_iter), tol=1e-4, random_state=int(seed))
    t = time.perf_counter()
    c.fit(X, y)
    t = time.perf_counter() - t
    print("RESULT %.6f %.6f %d" % (t, c.score(X, y), c.n_iter_))
    return 0


# ---- compare -----------------------------------------------------------------------
def load_data(name):
    """(X, y, Xt, yt): float32 C arrays, boolean labels."""
    import numpy as np
    if name == "fashion":
        import feral
        X, y = feral.load(f"{FASHION}/train-images-idx3-ubyte.gz",
                          targets=f"{FASHION}/train-labels-idx1-ubyte.gz")
        Xt, yt = feral.load(f"{FASHION}/t10k-images-idx3-ubyte.gz",
                            targets=f"{FASHION}/t10k-labels-idx1-ubyte.gz")
        pos = [0, 2, 4, 6]
        return X, np.isin(y, pos), Xt, np.isin(yt, pos)
    from sklearn.model_selection import train_test_split
    if name == "digits":
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        X, y = (X / 16.0).astype(np.float32), y < 5
        X, Xt, y, yt = train_test_split(X, y, test_size=0.3, random_state=0)
    elif name == "synthetic":
        from sklearn.datasets import make_classification
        X, y = make_classification(n_samples=60000, n_features=200, n_informative=50,
                                   random_state=0)
        X, y = X.astype(np.float32), y == 1
        X, Xt, y, yt = train_test_split(X, y, test_size=10000, random_state=0)
    else:
        raise SystemExit(f"--data {name}: expected fashion, digits or synthetic")
    return np.ascontiguousarray(X), y, np.ascontiguousarray(Xt), yt


def objective(A, s, w, b, alpha):
    """(1/n) sum log(1 + exp(-s (A w + b))) + alpha/2 |w|^2 in float64."""
    import numpy as np
    z = s * (A @ w + b)
    return float(np.logaddexp(0, -z).mean() + 0.5 * alpha * (w @ w))


def reference(A, s, alpha, cache, maxiter, refine=False):
    """argmin of objective() by L-BFGS (float64, at most maxiter iterations),
    cached in cache (.npy); refine: go on from the cached point."""
    import numpy as np
    import scipy.optimize as so
    n, d = A.shape
    x0 = np.zeros(d + 1)
    if os.path.exists(cache):
        x0 = np.load(cache)
        if not refine:
            return x0[:-1], x0[-1]

    def fg(wb):
        w, b = wb[:-1], wb[-1]
        z = s * (A @ w + b)
        r = -s * 0.5 * (1 - np.tanh(0.5 * z)) / n  # -s sigmoid(-z) / n
        return (np.logaddexp(0, -z).mean() + 0.5 * alpha * (w @ w),
                np.append(A.T @ r + alpha * w, r.sum()))

    t = time.perf_counter()
    res = so.minimize(fg, x0, jac=True, method="L-BFGS-B",
                      options=dict(maxiter=maxiter, maxfun=2 * maxiter, gtol=1e-9, ftol=1e-16))
    g = np.linalg.norm(res.jac) / np.linalg.norm(fg(np.zeros(d + 1))[1])
    print(f"# reference alpha={alpha:g}: L-BFGS {res.nit} iterations{' more' if refine else ''}, {time.perf_counter() - t:.0f} s, "
          f"relative gradient norm {g:.1e}", flush=True)
    np.save(cache, res.x)
    return res.x[:-1], res.x[-1]


def feral_train_accuracy(X, y, Xt, yt, seed, tol, max_iter):
    """Test accuracy of `feral train` on the same arrays (.npy + a label
    file, converted to .feral), with FeralClassifier(n_jobs=1)'s options."""
    import numpy as np
    cli = os.environ.get("FERAL", os.path.join(ROOT, "build", "feral"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, A, lab in (("train", X, y), ("test", Xt, yt)):
            np.save(f"{tmp}/{name}.npy", A)
            np.savetxt(f"{tmp}/{name}.lab", np.where(lab, 1, -1), fmt="%d")
            subprocess.run([cli, "convert", f"{tmp}/{name}.npy", f"{tmp}/{name}.feral",
                            "--targets", f"{tmp}/{name}.lab"], check=True, capture_output=True)
        out = subprocess.run([cli, "train", f"{tmp}/train.feral", "--test", f"{tmp}/test.feral",
                              "--method", "sgd", "--epochs", str(max_iter), "--tol", str(tol),
                              "--threads", "1", "--seed", str(seed), "--json"],
                             check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["test_accuracy"]


def compare(args):
    import numpy as np
    from sklearn.linear_model import SGDClassifier
    import feral

    opt = {"--data": "fashion", "--repeat": "3", "--cache": "/tmp/feral-peer-sklearn",
           "--csv": None, "--ref-iter": "5000", "--ref-only": None}
    it = iter(args)
    for a in it:
        if a not in opt:
            raise SystemExit(f"unknown option {a}\n{__doc__}")
        opt[a] = next(it)
    name, R = opt["--data"], int(opt["--repeat"])
    X, y, Xt, yt = load_data(name)
    s, st = np.where(y, 1.0, -1.0), np.where(yt, 1.0, -1.0)
    A = X.astype(np.float64)
    os.makedirs(opt["--cache"], exist_ok=True)
    ref = {a: reference(A, s, a, f"{opt['--cache']}/{name}-{a:g}.npy", int(opt["--ref-iter"]),
                        refine=bool(opt["--ref-only"]))
           for a in (0.0, 1e-4)}
    if opt["--ref-only"]:
        return 0
    fstar = {a: objective(A, s, *ref[a], a) for a in ref}
    refacc = {a: float(np.mean(np.sign(Xt.astype(np.float64) @ ref[a][0] + ref[a][1]) == st))
              for a in ref}
    load = open("/proc/loadavg").read().split()[0]
    print(f"# {name}: train {X.shape} {X.dtype}, test {Xt.shape}; {os.cpu_count()} CPUs, "
          f"load {load}; F*(0) {fstar[0.0]:.8f} (test acc {refacc[0.0]:.4f}), "
          f"F*(1e-4) {fstar[1e-4]:.8f} (test acc {refacc[1e-4]:.4f})", flush=True)

    contenders = {
        "FeralClassifier()": lambda r: feral.FeralClassifier(random_state=r),
        "FeralClassifier(n_jobs=1)": lambda r: feral.FeralClassifier(n_jobs=1, random_state=r),
        # like for like with SGDClassifier's default loss
        "FeralClassifier(loss='hinge')":
            lambda r: feral.FeralClassifier(loss="hinge", random_state=r),
        "SGDClassifier(n_jobs=-1)": lambda r: SGDClassifier(n_jobs=-1, random_state=r),
        "SGDClassifier(loss='log_loss', n_jobs=-1)":
            lambda r: SGDClassifier(loss="log_loss", n_jobs=-1, random_state=r),
    }
    rows = {k: [] for k in contenders}
    warnings.simplefilter("ignore")  # SGDClassifier's ConvergenceWarning on tiny sets
    for r in range(1, R + 1):
        for k, make in contenders.items():
            est = make(r)
            t = time.perf_counter()
            est.fit(X, y)
            wall = time.perf_counter() - t
            w, b = est.coef_.ravel().astype(np.float64), float(est.intercept_[0])
            row = {"wall": wall, "acc": est.score(Xt, yt), "epochs": est.n_iter_,
                   "gap0": objective(A, s, w, b, 0.0) - fstar[0.0],
                   "gap4": objective(A, s, w, b, 1e-4) - fstar[1e-4]}
            if hasattr(est, "info_"):
                i = est.info_
                row.update(solver=i["seconds"], monitor=i["monitor_seconds"],
                           threads=i["threads"], method=i["method"])
            rows[k].append(row)
    # the breakdown of one more FeralClassifier fit, step by step
    fc = feral.FeralClassifier(random_state=1)
    T = {}
    t = time.perf_counter()
    Xv, yv = fc._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64))
    T["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    Z = fc._design(Xv)
    T["design copy"] = time.perf_counter() - t
    del Z
    t = time.perf_counter()
    fc.fit(X, y)
    T["fit"] = time.perf_counter() - t
    T["solver"], T["monitor"] = fc.info_["seconds"], fc.info_["monitor_seconds"]

    load = open("/proc/loadavg").read().split()[0]
    med = statistics.median
    base = {k: med(x["wall"] for x in v) for k, v in rows.items()}
    lines = []
    print(f"# median of {R} (interleaved), load {load} at the end")
    print(f"{'estimator':44s} {'fit s':>7s} {'test acc':>8s} {'epochs':>6s} "
          f"{'F0-F*0':>9s} {'F4-F*4':>9s}  Feral's speed-up")
    for k, v in rows.items():
        fw = base["FeralClassifier()"]
        line = (f"{k:44s} {base[k]:7.3f} {med(x['acc'] for x in v):8.4f} "
                f"{med(x['epochs'] for x in v):6.0f} {med(x['gap0'] for x in v):9.2e} "
                f"{med(x['gap4'] for x in v):9.2e}  {base[k] / fw:.2f}x")
        print(line)
        lines.append((k, v))
    f = rows["FeralClassifier()"][-1]
    print(f"# FeralClassifier(): method {f['method']}, {f['threads']} threads; last fit: "
          + ", ".join(f"{k} {v:.3f} s" for k, v in T.items()))
    print("# per-run accuracies: " + "; ".join(
        f"{k}: " + " ".join(f"{x['acc']:.4f}" for x in v) for k, v in rows.items()))
    one = feral.FeralClassifier(n_jobs=1, random_state=1).fit(X, y)
    ta = feral_train_accuracy(X, y, Xt, yt, 1, one.tol, one.max_iter)
    print(f"# FeralClassifier(n_jobs=1) {one.score(Xt, yt):.4f} vs feral train --threads 1 "
          f"--method sgd --epochs {one.max_iter} --tol {one.tol}: {ta:.4f}")
    if opt["--csv"]:
        with open(opt["--csv"], "a") as fh:
            if fh.tell() == 0:
                fh.write("data,estimator,repeat,fit_s,test_acc,epochs,gap_alpha0,gap_alpha1e-4,load\n")
            for k, v in lines:
                for r, x in enumerate(v, 1):
                    fh.write(f"{name},\"{k}\",{r},{x['wall']:.4f},{x['acc']:.4f},{x['epochs']},"
                             f"{x['gap0']:.3e},{x['gap4']:.3e},{load}\n")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "compare":
        return compare(argv[2:])
    if len(argv) != 7:
        sys.stderr.write(__doc__)
        return 2
    warnings.simplefilter("ignore")
    return bench_peer(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
