"""feral from Python: numpy / scipy.sparse / scikit-learn over libferal.so (ctypes).

    import feral
    x, info = feral.solve(A, b, threads=1, seed=1)   # least squares; info as `feral solve --json`
    X, y = feral.load("data.svm")                    # any format the library reads
    clf = feral.FeralClassifier(max_iter=10).fit(X, y)

The library is found through $FERAL_LIBRARY, else build/libferal.so(.0) of the
source tree (PYTHONPATH=python after make), else the system loader.
"""
from ._core import (FeralDataError, FeralDivergedError, FeralError, FeralIOError,  # noqa: F401
                    FeralMemoryError, FeralUnsupportedError, FeralUsageError, Problem,
                    default_threads, load, solve)
from ._capi import load_library as _load_library  # noqa: F401

__version__ = "0.1.0"
__all__ = ["solve", "load", "FeralClassifier", "FeralRegressor", "FeralError",
           "FeralUsageError", "FeralDataError", "FeralUnsupportedError", "FeralIOError",
           "FeralMemoryError", "FeralDivergedError", "default_threads"]


def __getattr__(name):  # scikit-learn is imported only when the estimators are used
    if name in ("FeralClassifier", "FeralRegressor"):
        from . import _sklearn
        return getattr(_sklearn, name)
    raise AttributeError(f"module 'feral' has no attribute {name!r}")
