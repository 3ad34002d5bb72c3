"""scikit-learn estimators over feral_solve: FeralClassifier, FeralRegressor."""
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from . import _capi as C
from ._core import Problem, default_threads, dense_with_column, make_config, run_solve

_NO_WEIGHTS = ("sample_weight: feral has no per-sample weights (the library's sampling "
               "distribution is fixed by `sampling`); resample or duplicate rows instead")


# n_jobs=None: a worker for every WORK_PER_THREAD nonzero-updates of the
# budget (nnz x epochs), at most the physical cores: about 10 ms of updates
# each on one core; below it a team's start and its barriers cost more than
# they save (digits, 1257 x 64, 10 epochs: 1 thread 0.001 s, 2 threads
# 0.04-0.07 s of solver time on a loaded 2-core machine).
WORK_PER_THREAD = 1 << 24


def _threads(n_jobs, work=None):
    if n_jobs is None:
        if work is None:
            return default_threads()
        return max(1, min(default_threads(), int(work // WORK_PER_THREAD)))
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs=0: expected None, a positive count or -1 (all cores)")
    if n_jobs < 0:  # joblib's convention: -1 all, -2 all but one, ...
        return max(1, default_threads() + 1 + n_jobs)
    return n_jobs


def _seed(random_state):
    if random_state is None:
        return 1  # the library's default seed: fits are reproducible
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state={random_state}: expected an integer >= 0")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(f"random_state={random_state!r}: expected None, an int or a RandomState")


class _FeralLinear(BaseEstimator):
    """Shared parts: options -> struct feral_config, the design matrix with the
    bias column (liblinear -B style: the intercept is the weight of a constant
    feature `bias`, so it is regularised like the others), and scores."""

    def _config(self, loss, X):
        n = X.shape[0]
        nnz = X.nnz if hasattr(X, "nnz") else n * (X.shape[1] + self._use_bias())
        if self.C is not None and self.alpha:
            raise ValueError("give alpha or C, not both")
        if self.C is not None:
            if not self.C > 0:
                raise ValueError(f"C={self.C}: expected a number > 0")
            l2 = 1.0 / (n * self.C)  # (1/2)||w||^2 + C sum f_i  ==  n C (F + l2/2 ||w||^2)
        else:
            l2 = float(self.alpha)
        opts = dict(loss=loss, l2=l2, tol=float(self.tol), epochs=float(self.max_iter),
                    threads=_threads(self.n_jobs, nnz * float(self.max_iter)),
                    sampling=self.sampling, method=self.method, step=self.step,
                    average_iterates=self.average_iterates, recenter=self.recenter,
                    seed=_seed(self.random_state))
        if self.precision is not None:  # as --precision: data and model
            opts["precision"] = int(self.precision)
        if not self.tol > 0 and n:
            # No certified stop to test once an epoch: the monitor's trace
            # points (the library's default: one an epoch, each an evaluation
            # on up to 16384 rows by worker 0, 0.15-0.3 s of a 10-epoch fit on
            # Fashion-MNIST) buy the estimator nothing but the objective-based
            # divergence stop; keep one halfway through the budget for that.
            # A non-finite step stops any worker at once regardless, and the
            # returned model is still evaluated on all rows (info_).  The
            # model's updates, hence a 1-thread fit, are the same.
            opts["trace_every"] = max(1, int(np.ceil(n * float(self.max_iter) / 2)))
        return make_config(opts)

    def _use_bias(self):
        return self.fit_intercept and self.bias > 0

    def _design(self, X):
        return self._design_norms(X)[0]

    def _design_norms(self, X):
        """(Z, row norms or None): X with the constant column appended when
        fitting an intercept, one float32 copy (n x (d+1)); for float32 dense
        X the library writes it and its row norms in one parallel pass
        (numpy's copy then the library's norms took 2.5x as long on
        Fashion-MNIST).  Without an intercept float32 C-contiguous X is used
        in place."""
        if not self._use_bias():
            return X, None
        n, d = X.shape
        if hasattr(X, "tocsr"):
            import scipy.sparse as sp
            col = sp.csr_matrix(np.full((n, 1), self.bias, dtype=np.float32))
            return sp.hstack([X, col], format="csr", dtype=np.float32), None
        zn = dense_with_column(X, self.bias)
        if zn is not None:
            return zn
        Z = np.empty((n, d + 1), dtype=np.float32)
        Z[:, :d] = X
        Z[:, d] = self.bias
        return Z, None

    def _checked_finite(self, X):
        """True when check_array's finiteness test covers the design matrix:
        float32 X (a float64 X may overflow in its float32 copy: the library
        checks that one) and a finite bias."""
        return X.dtype == np.float32 and bool(np.isfinite(self.bias))

    def _split(self, w):
        """Weights (k, d[+1]) -> coef (k, d), intercept (k,)."""
        if self._use_bias():
            return w[:, :-1].copy(), w[:, -1] * self.bias
        return w.copy(), np.zeros(w.shape[0])

    def _validate_X(self, X, reset):
        return self._validate_data(X, accept_sparse="csr", dtype=(np.float32, np.float64),
                                   reset=reset)

    def _scores(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_

    def _solve(self, prob, cfg, dp, y):
        prob.set_y(y)
        x = np.zeros(prob.d)
        info, _ = run_solve(prob, cfg, dp, x)
        return x, info


_COMMON_DOC = """
    alpha : float, default 0.0
        L2 coefficient: the objective is (1/n) sum_i f_i(w) + alpha/2 ||w||^2
        (feral's l2; SGDClassifier's alpha).
    C : float or None
        liblinear's C instead of alpha: alpha = 1 / (n C).  Give one of the two.
    fit_intercept : bool, default True
    bias : float, default 1.0
        Value of the constant feature appended to fit the intercept
        (liblinear -B); the intercept is regularised with the weights.
    tol : float
        The solver's certified stop: end when ||grad F(w)|| <= tol ||grad F(0)||
        (least squares, logistic; hinge has no certificate), tested once an
        epoch at the cost of one full gradient pass each.  0: run max_iter
        epochs (FeralClassifier's default: with the SGD method the test
        seldom fires within 10 epochs and the passes cost about as much as
        the epochs).  With step='auto' on least squares it also sets the
        step (smaller tol, smaller step): FeralRegressor's default 1e-2 suits
        noisy regression; use ~1e-6 for consistent systems.
    max_iter : float
        Budget in epochs (passes of n updates); FeralClassifier 10,
        FeralRegressor 50.
    n_jobs : int or None
        Worker threads.  None (default): the physical cores (the CLI's
        default), but no more than one per 2^24 nonzero-updates of the
        budget (nnz x max_iter; about 10 ms of work each), so small fits run
        on one thread; -1: all physical cores; -2 all but one, ...  More than one thread is Hogwild!: fits are then
        not bit-reproducible.
    precision : None, 32, 16 or 8
        Storage precision of data and model (fixed point at 16/8 bits), as
        the CLI's --precision; None (default): f32 data, f64 model.
    sampling : 'weighted', 'partial' or 'uniform'
    method : 'sgd', 'kaczmarz' (least squares only) or 'svrg' (smooth losses,
        float models: converges to the optimum; see docs/math.md)
    step : 'auto' or float
    average_iterates, recenter : bool
    random_state : None or int
        The seed (None: the library's default seed 1).
"""


class FeralClassifier(ClassifierMixin, _FeralLinear):
    __doc__ = """Linear classifier trained by feral (weighted asynchronous SGD).

    Binary or one-vs-rest multiclass (classes_ sorted; class c against the
    rest, seed + c, as `feral train --ovr`).

    loss : 'logistic' (default; predict_proba available) or 'hinge'
    """ + _COMMON_DOC

    def __init__(self, loss="logistic", *, alpha=0.0, C=None, fit_intercept=True, bias=1.0,
                 tol=0.0, max_iter=10, n_jobs=None, precision=None, sampling="partial",
                 method="sgd", step="auto", average_iterates=False, recenter=False,
                 random_state=None):
        self.loss = loss
        self.alpha = alpha
        self.C = C
        self.fit_intercept = fit_intercept
        self.bias = bias
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.precision = precision
        self.sampling = sampling
        self.method = method
        self.step = step
        self.average_iterates = average_iterates
        self.recenter = recenter
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        if sample_weight is not None:
            raise NotImplementedError(_NO_WEIGHTS)
        if self.loss not in ("logistic", "hinge"):
            raise ValueError(f"loss={self.loss!r}: expected 'logistic' or 'hinge'")
        X, y = self._validate_data(X, y, accept_sparse="csr",
                                   dtype=(np.float32, np.float64))
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        k = len(self.classes_)
        if k < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; "
                             f"got 1 class ({self.classes_[0]!r})")
        cfg, dp = self._config(self.loss, X)
        base_seed = cfg.seed
        Z, norms = self._design_norms(X)
        prob = Problem(Z, None, data_precision=dp, seed=base_seed,
                       finite=self._checked_finite(X), row_sq_norm=norms)
        try:
            targets = [1] if k == 2 else range(k)
            W, infos = [], []
            for c in targets:
                cfg.seed = base_seed + (c if k > 2 else 0)
                w, info = self._solve(prob, cfg, dp, np.where(yi == c, 1.0, -1.0))
                W.append(w)
                infos.append(info)
        finally:
            prob.close()
        self.coef_, self.intercept_ = self._split(np.array(W))
        self.n_iter_ = max(int(np.ceil(i["updates"] / max(1, X.shape[0]))) for i in infos)
        self.info_ = infos[0] if k == 2 else infos
        return self

    def decision_function(self, X):
        s = self._scores(X)
        return s.ravel() if s.shape[1] == 1 else s

    def predict(self, X):
        s = self.decision_function(X)
        if s.ndim == 1:
            return self.classes_[(s > 0).astype(int)]
        return self.classes_[np.argmax(s, axis=1)]

    def _has_proba(self):
        return self.loss == "logistic"

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Logistic model probabilities; one-vs-rest sigmoids normalised to 1."""
        s = self.decision_function(X)
        p = 1.0 / (1.0 + np.exp(-np.clip(s, -700, 700)))
        if s.ndim == 1:
            return np.column_stack([1.0 - p, p])
        tot = p.sum(axis=1, keepdims=True)
        return np.divide(p, tot, out=np.full_like(p, 1.0 / p.shape[1]), where=tot > 0)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def _more_tags(self):
        return {"_xfail_checks": _SAMPLE_WEIGHT_XFAIL}


class FeralRegressor(RegressorMixin, _FeralLinear):
    __doc__ = """Least-squares linear regression solved by feral (weighted SGD or
    randomized Kaczmarz).
    """ + _COMMON_DOC

    def __init__(self, *, alpha=0.0, C=None, fit_intercept=True, bias=1.0, tol=1e-2,
                 max_iter=50, n_jobs=None, precision=None, sampling="partial", method="sgd",
                 step="auto", average_iterates=False, recenter=False, random_state=None):
        self.alpha = alpha
        self.C = C
        self.fit_intercept = fit_intercept
        self.bias = bias
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.precision = precision
        self.sampling = sampling
        self.method = method
        self.step = step
        self.average_iterates = average_iterates
        self.recenter = recenter
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        if sample_weight is not None:
            raise NotImplementedError(_NO_WEIGHTS)
        X, y = self._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64),
                                   y_numeric=True)
        cfg, dp = self._config("ls", X)
        Z, norms = self._design_norms(X)
        prob = Problem(Z, None, data_precision=dp, seed=cfg.seed,
                       finite=self._checked_finite(X), row_sq_norm=norms)
        try:
            w, info = self._solve(prob, cfg, dp, y)
        finally:
            prob.close()
        coef, icpt = self._split(w[None, :])
        self.coef_, self.intercept_ = coef[0], float(icpt[0])
        self.n_iter_ = int(np.ceil(info["updates"] / max(1, X.shape[0])))
        self.info_ = info
        return self

    def predict(self, X):
        return self._scores(X)

    def _more_tags(self):
        return {"_xfail_checks": _SAMPLE_WEIGHT_XFAIL}


_SW_REASON = "feral has no per-sample weights: fit(sample_weight=...) raises NotImplementedError"
_SAMPLE_WEIGHT_XFAIL = {c: _SW_REASON for c in (
    "check_sample_weights_pandas_series", "check_sample_weights_not_an_array",
    "check_sample_weights_list", "check_sample_weights_shape",
    "check_sample_weights_not_overwritten", "check_sample_weights_invariance",
    "check_classifiers_one_label_sample_weights")}
