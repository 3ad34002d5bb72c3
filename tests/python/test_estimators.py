"""scikit-learn API of FeralClassifier / FeralRegressor.

check_estimator runs on n_jobs=1 instances: with more than one worker the
solver is Hogwild! (racy by design), so two fits with the same seed may
differ in the last bits and the reproducibility checks (check_fit_idempotent,
check_supervised_y_2d, ...) would depend on the core count.  The only
expected failures are the sample-weight checks (the library has no per-sample
weights), declared in the estimators' _xfail_checks."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

import feral


@parametrize_with_checks([feral.FeralClassifier(n_jobs=1), feral.FeralRegressor(n_jobs=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _blobs(n=600, d=8, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((k, d)) * 4
    y = rng.integers(0, k, n)
    X = centers[y] + rng.standard_normal((n, d))
    return X.astype(np.float32), y


def test_multiclass_ovr_shapes_and_accuracy():
    X, y = _blobs()
    labels = np.array(["a", "b", "c"])[y]
    clf = feral.FeralClassifier(n_jobs=1, random_state=3).fit(X, labels)
    assert list(clf.classes_) == ["a", "b", "c"]
    assert clf.coef_.shape == (3, 8) and clf.intercept_.shape == (3,)
    assert clf.decision_function(X).shape == (600, 3)
    p = clf.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert clf.score(X, labels) > 0.95
    assert len(clf.info_) == 3 and all(i["status"] == "ok" for i in clf.info_)
    # class c uses seed + c, like `feral train --ovr`
    assert [i["seed"] for i in clf.info_] == [3, 4, 5]


def test_binary_matches_sign_convention_and_hinge_has_no_proba():
    X, y = _blobs(k=2)
    clf = feral.FeralClassifier(n_jobs=1).fit(X, y)
    s = clf.decision_function(X)
    assert s.shape == (600,)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(s > 0).astype(int)])
    hinge = feral.FeralClassifier(loss="hinge", n_jobs=1).fit(X, y)
    assert not hasattr(hinge, "predict_proba")
    assert hinge.score(X, y) > 0.95


def test_intercept_is_bias_feature():
    # y = 3 + x: the intercept is the weight of the bias column times bias
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 1)).astype(np.float32)
    y = 3.0 + X[:, 0].astype(np.float64)
    reg = feral.FeralRegressor(n_jobs=1, tol=1e-8, max_iter=200, bias=2.0).fit(X, y)
    assert abs(reg.intercept_ - 3.0) < 1e-3 and abs(reg.coef_[0] - 1.0) < 1e-3
    flat = feral.FeralRegressor(n_jobs=1, fit_intercept=False, tol=1e-8).fit(X, y)
    assert flat.intercept_ == 0.0


def test_classifier_intercept_separates_a_threshold():
    # one feature in (0, 1), label x > 0.7: sign(w x) is constant without an
    # intercept (at most the majority, 0.7); with one the threshold is found
    X = ((np.arange(1000) + 0.5) / 1000).astype(np.float32)[:, None]
    y = (X[:, 0] > 0.7).astype(int)
    clf = feral.FeralClassifier(n_jobs=1, alpha=1e-4, method="svrg", tol=1e-8,
                                max_iter=200).fit(X, y)
    assert clf.score(X, y) >= 0.97
    assert clf.intercept_.shape == (1,) and clf.intercept_[0] < 0
    # intercept_ is the bias weight times bias: the scores are X coef + intercept
    np.testing.assert_allclose(clf.decision_function(X),
                               X[:, 0] * clf.coef_[0, 0] + clf.intercept_[0], atol=1e-5)
    # another bias: the same model up to the bias weight's regularisation
    clf5 = feral.FeralClassifier(n_jobs=1, alpha=1e-4, method="svrg", tol=1e-8, max_iter=200,
                                 bias=5.0).fit(X, y)
    assert clf5.score(X, y) >= 0.97
    flat = feral.FeralClassifier(n_jobs=1, alpha=1e-4, fit_intercept=False).fit(X, y)
    assert flat.score(X, y) <= 0.71 and np.all(flat.intercept_ == 0)


def test_sparse_and_dense_fits_agree():
    X, y = _blobs(k=2)
    a = feral.FeralClassifier(n_jobs=1).fit(X, y)
    b = feral.FeralClassifier(n_jobs=1).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(a.predict(X), b.predict(sp.csr_matrix(X)))


def test_C_is_alpha_over_n():
    X, y = _blobs(n=500, k=2)
    a = feral.FeralClassifier(n_jobs=1, C=0.1).fit(X, y)
    b = feral.FeralClassifier(n_jobs=1, alpha=1.0 / (500 * 0.1)).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    with pytest.raises(ValueError, match="alpha or C"):
        feral.FeralClassifier(C=1.0, alpha=0.1).fit(X, y)


def test_sample_weight_not_implemented():
    X, y = _blobs(k=2)
    for est in (feral.FeralClassifier(), feral.FeralRegressor()):
        with pytest.raises(NotImplementedError, match="no per-sample weights"):
            est.fit(X, y.astype(float), sample_weight=np.ones(len(y)))


def test_options_reach_the_library():
    X, y = _blobs(k=2)
    clf = feral.FeralClassifier(n_jobs=1, precision=8, recenter=True, sampling="uniform",
                                max_iter=3, random_state=9).fit(X, y)
    i = clf.info_
    assert i["precision"] == "D8M8G32+centre" and i["lambda"] == 1.0 and i["seed"] == 9
    assert i["threads"] == 1 and clf.n_iter_ == 3
    assert clf.score(X, y) > 0.9
    with pytest.raises(feral.FeralUsageError):
        feral.FeralClassifier(method="kaczmarz").fit(X, y)  # least squares only


def _model_weights(path):
    lines = open(path).read().split("\n")
    at = lines.index("weights")
    return np.array([float(v) for v in lines[at + 1:] if v])


@pytest.mark.parametrize("k", [2, 3])
def test_classifier_equals_feral_train_bit_for_bit(feral_cli, tmp_path, k):
    # values k/16 are exact in float32 and in the LIBSVM text
    X, y = _blobs(n=500, d=6, k=k, seed=4)
    X = np.round(X * 16) / 16
    with open(tmp_path / "t.svm", "w") as f:
        for row, lab in zip(X, y):
            f.write(f"{lab} " + " ".join(f"{j + 1}:{v:g}" for j, v in enumerate(row) if v)
                    + "\n")
    import subprocess
    info = subprocess.run([feral_cli, "info", str(tmp_path / "t.svm")], check=True,
                          capture_output=True, text=True).stdout
    if "sparse" in info or "CSR" in info:
        X = sp.csr_matrix(X)  # the layout the CLI chose: same kernels, same sums
    args = [feral_cli, "train", str(tmp_path / "t.svm"), "-o", str(tmp_path / "m"),
            "--threads", "1", "--epochs", "5", "--seed", "4", "--loss", "hinge", "--no-bias"]
    subprocess.run(args + (["--ovr"] if k > 2 else []), check=True, capture_output=True)
    w = _model_weights(tmp_path / "m").reshape(-1, 6)
    clf = feral.FeralClassifier(loss="hinge", n_jobs=1, max_iter=5, random_state=4,
                                fit_intercept=False).fit(X, y)
    np.testing.assert_array_equal(clf.coef_, w)


@pytest.mark.filterwarnings("ignore:overflow encountered")  # numpy's, on the float32 copy
def test_float64_overflowing_float32_is_rejected():
    # finite in float64 (check_array passes), infinite in the float32 copy:
    # the library's own check still runs for float64 input
    X = np.ones((20, 3))
    X[3, 1] = 1e300
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="not finite"):
        feral.FeralClassifier(n_jobs=1).fit(X, y)


def test_small_fit_runs_on_one_thread_by_default():
    # n_jobs=None: at most one worker per 2^24 nonzero-updates of the budget
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5)).astype(np.float32)
    y = X[:, 0] > 0
    assert feral.FeralClassifier().fit(X, y).info_["threads"] == 1
