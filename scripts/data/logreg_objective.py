#!/usr/bin/python3
"""L2-regularised logistic regression objective of a model, liblinear's form
    P(w) = 1/2 ||w||^2 + C sum_i log(1 + exp(-y_i w.[x_i; B]))
(the bias feature B appended when the model has one, and regularised, as
liblinear -B and feral train --bias), with the accuracies on the training
and test files.

    logreg_objective.py TRAIN.svm TEST.svm|- C MODEL...

MODEL: a liblinear model file (liblinear-train) or a feral model file
(feral train -o, binary).  Labels: the larger label of TRAIN is +1.  One
line per model: "objective train_accuracy test_accuracy bias"."""
import sys

import numpy as np
from sklearn.datasets import load_svmlight_file


def read_liblinear(path):
    lines = open(path).read().split("\n")
    i = lines.index("w")
    head = dict(l.split(" ", 1) for l in lines[:i] if " " in l)
    labels = [float(t) for t in head["label"].split()]
    w = np.array([float(l.split()[0]) for l in lines[i + 1:] if l.strip()])
    bias = float(head.get("bias", "-1"))
    # liblinear's w scores its first label: make it score the larger one
    if labels[0] < labels[1]:
        w = -w
    return w, bias if bias > 0 else 0.0


def read_feral(path):
    lines = open(path).read().split("\n")
    if lines[0] != "feral-model 1":
        sys.exit(f"{path}: not a binary feral model")
    i = lines.index("weights")
    bias = 0.0
    for l in lines[:i]:
        if l.startswith("bias "):
            bias = float(l.split()[1])
    neg, pos = (float(t) for t in next(l for l in lines if l.startswith("labels ")).split()[1:3])
    w = np.array([float(l) for l in lines[i + 1:] if l.strip()])
    return (w if pos > neg else -w), bias


def design(X, d, bias):
    X = X.toarray()
    if X.shape[1] < d:
        X = np.hstack([X, np.zeros((X.shape[0], d - X.shape[1]))])
    return np.hstack([X, np.full((X.shape[0], 1), bias)]) if bias > 0 else X


def main():
    tr, te, C = sys.argv[1], sys.argv[2], float(sys.argv[3])
    X, y = load_svmlight_file(tr)
    top = y.max()
    ys = np.where(y == top, 1.0, -1.0)
    Xt = yt = None
    if te != "-":
        Xt, yt = load_svmlight_file(te, n_features=X.shape[1])
        yt = np.where(yt == top, 1.0, -1.0)
    for path in sys.argv[4:]:
        first = open(path).readline()
        w, bias = read_feral(path) if first.startswith("feral-model") else read_liblinear(path)
        d = len(w) - (bias > 0)
        Z = design(X, d, bias)
        m = ys * (Z @ w)
        obj = 0.5 * w @ w + C * np.logaddexp(0.0, -m).sum()
        acc = float(np.mean(m > 0))
        tacc = float("nan")
        if Xt is not None:
            tacc = float(np.mean(yt * (design(Xt, d, bias) @ w) > 0))
        print(f"{obj:.15g} {acc:.6f} {tacc:.6f} {bias:g}")


main()
