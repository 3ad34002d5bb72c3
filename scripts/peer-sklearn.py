#!/usr/bin/env python3
"""Peer for build/bench --peers (classification): scikit-learn's SGDClassifier.

    scripts/peer-sklearn.py DATA.svm D LOSS ALPHA MAX_ITER SEED

LOSS is "log_loss" or "hinge"; ALPHA the L2 weight (the objective
(1/n) sum loss + alpha/2 |w|^2, no intercept).  Only the fit is timed.
Prints one line: RESULT <fit seconds> <training accuracy> <epochs run>.
"""
import sys
import time
import warnings


def main(argv):
    if len(argv) != 7:
        sys.stderr.write(__doc__)
        return 2
    path, d, loss, alpha, max_iter, seed = argv[1:]
    warnings.simplefilter("ignore")
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


if __name__ == "__main__":
    sys.exit(main(sys.argv))
