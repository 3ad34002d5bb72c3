#!/usr/bin/python3
"""Fashion-MNIST binary task (T-shirt/top, pullover, coat, shirt = 0,2,4,6 vs
the rest) from Python: FeralClassifier against `feral train` and against
scikit-learn's SGDClassifier.

usage: PYTHONPATH=python python/examples/fashion_binary.py [REPEAT]   (after make)

Reads Debian's dataset-fashion-mnist IDX files with feral.load (pixels / 255,
as the CLI).  Prints one line per contender: test accuracy and the median
fit wall time over REPEAT runs (default 3) on data already in memory; for
`feral train` the solver's own seconds (its JSON) and the process wall
(load included).  Run it on an idle machine for timings that mean much;
scripts/peer-sklearn.py compare is the interleaved comparison with
objectives."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import SGDClassifier

import feral

SRC = "/usr/share/datasets/fashion-mnist"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("FERAL", os.path.join(ROOT, "build", "feral"))
POS = [0, 2, 4, 6]


def timed(fn, repeat):
    walls, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
    return out, statistics.median(walls)


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    X, y = feral.load(f"{SRC}/train-images-idx3-ubyte.gz",
                      targets=f"{SRC}/train-labels-idx1-ubyte.gz")
    Xt, yt = feral.load(f"{SRC}/t10k-images-idx3-ubyte.gz",
                        targets=f"{SRC}/t10k-labels-idx1-ubyte.gz")
    yb, ytb = np.isin(y, POS), np.isin(yt, POS)
    print(f"train {X.shape} {X.dtype}, test {Xt.shape}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory() as tmp:
        for s, imgs, labs in (("train", "train-images", "train-labels"),
                              ("test", "t10k-images", "t10k-labels")):
            subprocess.run([CLI, "convert", f"{SRC}/{imgs}-idx3-ubyte.gz",
                            f"{tmp}/{s}.feral", "--targets", f"{SRC}/{labs}-idx1-ubyte.gz"],
                           check=True, capture_output=True)
        # FeralClassifier's defaults as CLI options (the CLI's own default
        # method is SVRG to 1e-6, 100 epochs)
        cmd = [CLI, "train", f"{tmp}/train.feral", "--test", f"{tmp}/test.feral",
               "--positive", ",".join(map(str, POS)), "--method", "sgd", "--epochs", "10",
               "--tol", "0", "--threads", "1", "--json"]
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
            runs.append((time.perf_counter() - t0, json.loads(out.stdout)))
        wall = statistics.median(r[0] for r in runs)
        j = runs[-1][1]
        print(f"feral train --method sgd --epochs 10 --tol 0 --threads 1  acc {j['test_accuracy']:.4f}  "
              f"solve {statistics.median(r[1]['seconds'] for r in runs):.3f} s, "
              f"process {wall:.3f} s")

    same = feral.FeralClassifier(n_jobs=1)
    _, t = timed(lambda: same.fit(X, yb), repeat)
    acc = same.score(Xt, ytb)
    print(f"FeralClassifier(n_jobs=1)                  acc {acc:.4f}  fit {t:.3f} s "
          f"(solver {same.info_['seconds']:.3f} s; same problem as feral train: "
          f"{'equal' if acc == j['test_accuracy'] else 'DIFFERENT'} accuracy)")

    clf = feral.FeralClassifier()
    _, t = timed(lambda: clf.fit(X, yb), repeat)
    print(f"FeralClassifier() defaults ({clf.info_['threads']} threads)   "
          f"acc {clf.score(Xt, ytb):.4f}  fit {t:.3f} s (solver {clf.info_['seconds']:.3f} s)")

    sgd = SGDClassifier(loss="log_loss", random_state=1, n_jobs=-1)
    _, t = timed(lambda: sgd.fit(X, yb), repeat)
    print(f"SGDClassifier(log_loss, n_jobs=-1)         acc {sgd.score(Xt, ytb):.4f}  "
          f"fit {t:.3f} s  ({sgd.n_iter_} epochs)")


if __name__ == "__main__":
    main()
