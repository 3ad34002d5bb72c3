#!/usr/bin/python3
"""scikit-learn SGDClassifier peer for scripts/data/*.sh.

usage: sk_sgd.py TRAIN.svm TEST.svm LOSS [N_FEATURES]
Loads LIBSVM files with load_svmlight_file, fits SGDClassifier(loss=LOSS)
(one-vs-rest when there are more than two labels, n_jobs=1), and prints one
line: "<load_s> <fit_s> <test_accuracy>", where load_s is the training file's
load time (the test file is loaded outside the timing) and fit_s the fit.
Uses /usr/bin/python3 (Debian's python3-sklearn), standard settings:
alpha=1e-4, max_iter=1000, tol=1e-3, random_state=1."""
import sys
import time

from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import SGDClassifier


def main():
    train, test, loss = sys.argv[1], sys.argv[2], sys.argv[3]
    nf = int(sys.argv[4]) if len(sys.argv) > 4 else None
    t0 = time.perf_counter()
    X, y = load_svmlight_file(train, n_features=nf)
    t1 = time.perf_counter()
    clf = SGDClassifier(loss=loss, alpha=1e-4, max_iter=1000, tol=1e-3, random_state=1, n_jobs=1)
    clf.fit(X, y)
    t2 = time.perf_counter()
    Xt, yt = load_svmlight_file(test, n_features=X.shape[1])
    acc = float((clf.predict(Xt) == yt).mean())
    print("%.4f %.4f %.6f" % (t1 - t0, t2 - t1, acc))


if __name__ == "__main__":
    main()
