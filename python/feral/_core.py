"""Datasets over numpy / scipy.sparse buffers, feral.solve and feral.load."""
import ctypes
import math
import os
import threading

import numpy as np

from . import _capi as C
from ._capi import POINTER

byref = ctypes.byref

_lib = C.load_library()
C.check_layout(_lib)


# ---- errors -----------------------------------------------------------------------
class FeralError(Exception):
    """A failure reported by libferal; .status is the enum feral_status value,
    .reason its name (feral_strerror), str() the library's message."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status
        self.reason = _lib.feral_strerror(status).decode() if status is not None else None


class FeralUsageError(FeralError, ValueError):
    """Bad option or argument (FERAL_STATUS_USAGE)."""


class FeralDataError(FeralError, ValueError):
    """Malformed, out-of-range or corrupt input data (PARSE, RANGE, CORRUPT)."""


class FeralUnsupportedError(FeralError, NotImplementedError):
    """Valid input the library does not handle (UNSUPPORTED)."""


class FeralIOError(FeralError, OSError):
    """open/read/write/mmap failed (IO)."""


class FeralMemoryError(FeralError, MemoryError):
    """Allocation failed (NOMEM)."""


class FeralDivergedError(FeralError, ArithmeticError):
    """The iterate blew up (DIVERGED).  .x holds the last good iterate, .info
    the result of the solve."""

    def __init__(self, message, status=None, x=None, info=None):
        super().__init__(message, status)
        self.x = x
        self.info = info


_ERROR_CLASS = {
    C.USAGE: FeralUsageError, C.PARSE: FeralDataError, C.RANGE: FeralDataError,
    C.CORRUPT: FeralDataError, C.UNSUPPORTED: FeralUnsupportedError, C.IO: FeralIOError,
    C.NOMEM: FeralMemoryError, C.DIVERGED: FeralDivergedError,
}


def _message(st, err):
    if err.status == st and (err.msg[:1] or err.file[:1]):
        buf = ctypes.create_string_buffer(1200)
        return _lib.feral_error_format(byref(err), buf, len(buf)).decode(errors="replace")
    return _lib.feral_strerror(st).decode()


def _raise(st, err, **extra):
    cls = _ERROR_CLASS.get(st, FeralError)
    if extra and cls is FeralDivergedError:
        raise cls(_message(st, err), st, **extra)
    raise cls(_message(st, err), st)


# ---- defaults ----------------------------------------------------------------------
_DEFAULT_THREADS = []


def default_threads():
    """Every physical core, as the CLI's default (the library's
    feral_default_threads: hwloc, SMT siblings counted once).  Asked once
    per process: each call loads the hwloc topology (35 ms here, more than
    a whole fit on a small data set)."""
    if not _DEFAULT_THREADS:
        _DEFAULT_THREADS.append(int(_lib.feral_default_threads()))
    return _DEFAULT_THREADS[0]


# ---- datasets over caller buffers ----------------------------------------------------
def _is_sparse(A):
    try:
        import scipy.sparse as sp
    except ImportError:
        return False
    return sp.issparse(A)


def dense_with_column(X, value):
    """(Z, norms): float32 C-contiguous X (n x d) with the constant `value`
    appended to each row (n x (d + 1)), and Z's squared row norms as the
    library computes them, in one parallel pass of the library; None when X
    is not float32 with unit column stride (the caller copies with numpy)."""
    if X.dtype != np.float32 or X.ndim != 2 or X.strides[1] != 4 or X.strides[0] < 0 or X.strides[0] % 4:
        return None
    n, d = X.shape
    Z = np.empty((n, d + 1), dtype=np.float32)
    norms = np.empty(n, dtype=np.float64)
    if n:
        _lib.feral_dense_append_column(X.ctypes.data, n, d, X.strides[0] // 4, float(value),
                                       Z.ctypes.data, norms.ctypes.data)
    return Z, norms


class Problem:
    """A struct feral_dataset over numpy buffers (zero-copy where possible).

    Holds references to every buffer the struct points at for as long as it
    lives.  Copies happen only when the input's layout does not match:
      dense: float32 C-contiguous rows are wrapped as they are; any other dtype
        or order is converted once to float32 C order (one n*d*4 copy);
      CSR: float32 data wrapped; other dtypes converted once.  int32 indices
        are reinterpreted as uint32 (no copy); int64 indices copied once to
        uint32.  int64 indptr is reinterpreted as uint64; int32 copied (n+1).
        Non-canonical CSR (unsorted or duplicate indices) is canonicalised on a
        copy; other sparse formats are converted with tocsr().
      y: float64 contiguous wrapped, else converted (n doubles).
    Row norms are computed by the library into an n-vector owned here (or
    given: row_sq_norm from dense_with_column).
    finite=True skips the library's finiteness pass over dense A (for
    callers that checked it already).  A
    fixed point data precision (16 or 8 bits) is a quantized copy owned by the
    library (freed in close())."""

    def __init__(self, A, y=None, data_precision=32, seed=1, finite=False, row_sq_norm=None):
        self._keep = []
        self._quantized = None
        ds = C.Dataset()
        if _is_sparse(A):
            self._wrap_csr(A, ds)
        else:
            self._wrap_dense(A, ds)
        n = int(ds.n)
        if y is None:
            y = np.zeros(n)
        y = np.ascontiguousarray(y, dtype=np.float64)
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"feral: b/y has shape {y.shape}, expected ({n},)")
        self.y = y
        if row_sq_norm is None:
            self.row_sq_norm = np.empty(n, dtype=np.float64)
        else:  # computed with A by the caller (dense_with_column): the library's bits
            if row_sq_norm.dtype != np.float64 or row_sq_norm.shape != (n,):
                raise ValueError(f"feral: row_sq_norm must be float64 of shape ({n},)")
            self.row_sq_norm = np.ascontiguousarray(row_sq_norm)
        ds.y = y.ctypes.data_as(POINTER(ctypes.c_double))
        ds.row_sq_norm = self.row_sq_norm.ctypes.data_as(POINTER(ctypes.c_double))
        ds.row_scale = None
        ds.owner = None  # wrapped: never feral_dataset_destroy this struct
        ds.precision = C.PRECISION_F32
        self._ds = ds
        err = C.Error()
        # finite=True: the caller (the estimators, after scikit-learn's
        # check_array) vouches that dense A and y are finite, the only thing
        # feral_dataset_check tests on a dense matrix: skip its pass
        if not (finite and ds.layout == C.LAYOUT_DENSE):
            st = _lib.feral_dataset_check(byref(ds), byref(err))
            if st != C.OK:
                _raise(st, err)
        if row_sq_norm is None:
            _lib.feral_dataset_update_norms(byref(ds))
        if data_precision not in (32, 16, 8):
            raise ValueError(f"feral: data precision {data_precision}: expected 32, 16 or 8")
        if data_precision != 32:
            q = POINTER(C.Dataset)()
            st = _lib.feral_dataset_quantize(byref(ds), C.BITS_PRECISION[data_precision],
                                             seed, byref(q), byref(err))
            if st != C.OK:
                _raise(st, err)
            self._quantized = q
            # the quantized copy has its own y: point it at ours so that
            # set_y reaches it; close() puts the library's pointer back
            # (an address, not the field object: that one aliases the field)
            self._q_y = ctypes.cast(q.contents.y, ctypes.c_void_p).value
            q.contents.y = ds.y

    @property
    def n(self):
        return int(self._ds.n)

    @property
    def d(self):
        return int(self._ds.d)

    def _wrap_dense(self, A, ds):
        A = orig = np.asarray(A)
        if A.ndim != 2:
            raise ValueError(f"feral: A must be 2-D, got shape {A.shape}")
        if A.dtype != np.float32 or not A.flags.c_contiguous:
            A = np.ascontiguousarray(A, dtype=np.float32)  # the one copy
        self.copied = A is not orig
        self._keep.append(A)
        n, d = A.shape
        ds.n, ds.d, ds.nnz = n, d, n * d
        ds.layout = C.LAYOUT_DENSE
        ds.values = A.ctypes.data
        ds.indptr = None
        ds.indices = None

    def _wrap_csr(self, A, ds):
        import scipy.sparse as sp
        if A.format != "csr":
            A = sp.csr_matrix(A)  # tocsr: a copy
        if not A.has_canonical_format:
            A = A.copy()
            A.sum_duplicates()  # sorts too
        n, d = A.shape
        data = A.data
        if data.dtype != np.float32 or not data.flags.c_contiguous:
            data = np.ascontiguousarray(data, dtype=np.float32)
        idx = A.indices
        if idx.dtype == np.int32 and idx.flags.c_contiguous:
            idx = idx.view(np.uint32)
        else:
            idx = np.ascontiguousarray(idx, dtype=np.uint32)
        ptr = A.indptr
        if ptr.dtype == np.int64 and ptr.flags.c_contiguous:
            ptr = ptr.view(np.uint64)
        else:
            ptr = np.ascontiguousarray(ptr, dtype=np.uint64)
        self._keep += [A, data, idx, ptr]
        ds.n, ds.d, ds.nnz = n, d, int(ptr[-1]) if n else 0
        ds.layout = C.LAYOUT_CSR
        ds.values = data.ctypes.data
        ds.indptr = ptr.ctypes.data_as(POINTER(ctypes.c_uint64))
        ds.indices = idx.ctypes.data_as(POINTER(ctypes.c_uint32))

    def set_y(self, y):
        """Replace the targets in place (the struct keeps pointing at self.y)."""
        self.y[:] = y

    def dataset_ptr(self):
        if self._quantized:
            return self._quantized
        return ctypes.pointer(self._ds)

    def close(self):
        if self._quantized:
            self._quantized.contents.y = ctypes.cast(self._q_y, POINTER(ctypes.c_double))
            _lib.feral_dataset_destroy(byref(self._quantized))
            self._quantized = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# ---- options ---------------------------------------------------------------------
_SAMPLING = {"weighted": 0.0, "partial": 0.5, "uniform": 1.0}


def _pick(name, value, names):
    if name == "rounding" and str(value).lower() in ("shared", "1"):
        raise ValueError("feral: rounding='shared' was removed (slower than 'independent' on "
                         "every kernel measured); use 'independent' (the default) or 'nearest'")
    if isinstance(value, int) and 0 <= value < len(names):
        return value
    try:
        if str(value) == "-":  # a removed value's placeholder
            raise ValueError
        return names.index(str(value).lower())
    except ValueError:
        shown = ", ".join(n for n in names if n != "-")
        raise ValueError(f"feral: {name}={value!r}: expected one of {shown}") from None


def make_config(options, default_loss=C.LOSS_LS):
    """struct feral_config from keyword options (names as the config fields;
    see feral.solve).  Returns (cfg, data_precision)."""
    o = dict(options)
    cfg = C.Config()
    _lib.feral_config_init(ctypes.addressof(cfg))
    cfg.loss = default_loss
    cfg.threads = default_threads()
    data_precision = 32
    if "lambda" in o:
        o["lambda_"] = o.pop("lambda")
    if "sampling" in o:
        s = o.pop("sampling")
        if s not in _SAMPLING:
            raise ValueError(f"feral: sampling={s!r}: expected weighted, partial or uniform")
        if "lambda_" in o and s != "partial" and o["lambda_"] != _SAMPLING[s]:
            raise ValueError(f"feral: lambda={o['lambda_']} conflicts with sampling={s!r}")
        o.setdefault("lambda_", _SAMPLING[s])
    if "precision" in o:
        p = int(o.pop("precision"))
        if p not in (32, 16, 8):
            raise ValueError(f"feral: precision={p}: expected 32, 16 or 8")
        data_precision = p
        o.setdefault("model_precision", p)
    if "data_precision" in o:
        data_precision = int(o.pop("data_precision"))
    if "updates" in o:
        o["max_updates"] = o.pop("updates")
    if "step" in o:
        s = o.pop("step")
        if isinstance(s, str) and s == "auto":
            cfg.step_auto = 1
        else:
            cfg.step_auto = 0
            cfg.step = float(s)
    if "recenter_every" in o and o["recenter_every"]:
        o.setdefault("recenter", 1)
    enums = {"loss": C.LOSS_NAMES, "method": C.METHOD_NAMES, "bind": C.BIND_NAMES,
             "replicas": C.REPLICAS_NAMES, "update": C.UPDATE_NAMES,
             "rounding": C.ROUNDING_NAMES}
    for k, v in o.items():
        if k in enums:
            v = _pick(k, "hinge" if v == "svm" else v, enums[k])
        elif k == "model_precision":
            if int(v) not in C.BITS_PRECISION:
                raise ValueError(f"feral: model_precision={v}: expected 64, 32, 16 or 8")
            v = C.BITS_PRECISION[int(v)]
        elif k == "threads":
            v = default_threads() if v is None or v == -1 else int(v)
        elif k in ("average_iterates", "recenter"):
            v = int(bool(v))
        elif k not in _SETTABLE:
            raise TypeError(f"feral: unknown option {k!r}")
        setattr(cfg, k, v)
    # as `feral solve`/`feral train`: no method given -> the library's
    # default for the loss, model and options (solve() asks again with the
    # data's shape)
    if "method" not in o:
        default_method(cfg, options, None)
    err = C.Error()
    st = _lib.feral_config_validate(byref(cfg), byref(err))
    if st != C.OK:
        _raise(st, err)
    return cfg, data_precision


# options only a stochastic method reads: given one, the default method is
# SVRG, not Newton-CG (feral_default_method's `stochastic`)
_STOCHASTIC = {"step", "step_decay", "sampling", "lambda", "lambda_", "delay", "replicas",
               "average_every", "hot_threshold", "hot_every", "average_iterates",
               "trace_every"}


def default_method(cfg, options, ds):
    """cfg.method = feral_default_method(ds, cfg, stochastic) and the budget
    that goes with it when none is given: FERAL_NEWTON_PASSES passes of
    newton, FERAL_VR_EPOCHS epochs of svrg/halp.  ds: a POINTER(Dataset) or
    None (shape unknown)."""
    stochastic = any(k in options for k in _STOCHASTIC)
    if "step" in options and options["step"] == "auto":
        stochastic = any(k in options for k in _STOCHASTIC - {"step"})
    cfg.method = _lib.feral_default_method(ds, byref(cfg), int(stochastic))
    if not any(k in options for k in ("epochs", "seconds", "updates", "max_updates")):
        name = C.METHOD_NAMES[cfg.method]
        if name == "newton":
            cfg.epochs = C.NEWTON_PASSES
        elif name in ("svrg", "halp"):
            cfg.epochs = C.VR_EPOCHS


_SETTABLE = {"l2", "relax", "lambda_", "step_decay", "tol", "mu", "epochs", "seconds",
             "max_updates", "diverge", "seed", "average_every", "trace_every", "model_scale",
             "recenter_every", "checkpoint_every", "delay", "hot_threshold", "hot_every"}


# ---- the solve ---------------------------------------------------------------------
def _num(v):
    return v if math.isfinite(v) else None


def _dmg(data_prec, model_prec, recenter):
    m = C.PRECISION_BITS[model_prec]
    return f"D{data_prec}M{m}G{64 if m == 64 else 32}{'+centre' if recenter else ''}"


def _peak_rss():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def result_info(prob, cfg, data_precision, r, status):
    """The dict `feral solve --json` prints, from the result struct."""
    info = {
        "n": prob.n, "d": prob.d, "nnz": int(prob.dataset_ptr().contents.nnz),
        "loss": C.LOSS_NAMES[cfg.loss],
        "method": C.METHOD_NAMES[cfg.method],
        "lambda": _num(cfg.lambda_), "step": _num(r.step), "mu": _num(r.mu),
        "updates": int(r.updates), "seconds": _num(r.seconds),
        "monitor_seconds": _num(r.monitor_seconds), "updates_per_s": _num(r.updates_per_s),
        "objective": _num(r.objective), "relative_residual": _num(r.rel_residual),
        "relative_error": _num(r.rel_error), "converged": bool(r.converged),
        "grad_norm_rel": _num(r.grad_norm_rel), "grad_seconds": _num(r.grad_seconds),
        "cpu_seconds": _num(r.cpu_seconds),
        "threads": int(r.threads), "bind": C.BIND_NAMES[cfg.bind],
        "replicas": C.REPLICAS_NAMES[cfg.replicas],
        "replicas_mode": C.REPLICAS_NAMES[r.replicas_mode],
        "oversubscribed": bool(r.oversubscribed),
        "shards": int(r.shards), "replica_models": int(r.replicas),
        "bind_failures": int(r.bind_failures),
        "precision": _dmg(data_precision, cfg.model_precision, cfg.recenter),
        "rounding": C.ROUNDING_NAMES[cfg.rounding], "model_scale": _num(r.model_scale),
        "saturations": int(r.saturations), "averaged_iterates": int(r.averaged),
        "kernel": (r.kernel or b"").decode(),
        "delay": int(cfg.delay), "staleness_mean": _num(r.staleness_mean),
        "staleness_p99": int(r.staleness_p99), "staleness_max": int(r.staleness_max),
        "conflict_rate": _num(r.conflict_rate),
        "staleness_hist": ([int(cfg.staleness_hist[k]) for k in range(C.STALENESS_BUCKETS)]
                           if cfg.staleness_hist else [0] * C.STALENESS_BUCKETS),
        "seed": int(cfg.seed),
        "peak_rss_bytes": _peak_rss(),
    }
    if r.hot_coords:  # only with a hot set, as the CLI's JSON
        info["hot_coords"] = int(r.hot_coords)
        info["hot_nnz_share"] = _num(r.hot_nnz_share)
        info["hot_every"] = int(cfg.hot_every) if cfg.hot_every else C.HOT_EVERY_AUTO
    if r.warning:
        info["warning"] = r.warning.decode(errors="replace")
    info["status"] = _lib.feral_strerror(status).decode()
    return info


def run_solve(prob, cfg, data_precision, x, x_star=None, progress=None, trace=False):
    """feral_solve on prob into x (float64, length d, x0 on entry) in a worker
    thread; Ctrl-C in the calling (main) thread sets the stop flag, waits for
    the workers and re-raises KeyboardInterrupt.  Returns (info, trace_list)."""
    stop = ctypes.c_int(0)
    cfg.stop_flag = ctypes.pointer(stop)
    cb_error = []
    if progress is not None:
        def _cb(arg, pt, fraction):
            try:
                p = pt.contents
                progress(fraction, {"updates": int(p.updates), "seconds": p.seconds,
                                    "objective": p.objective,
                                    "relative_residual": p.rel_residual,
                                    "relative_error": p.rel_error})
            except BaseException as e:  # stop the solve, re-raise in the caller
                cb_error.append(e)
                stop.value = 1
        cb = C.PROGRESS_FN(_cb)
        cfg.progress = cb
    if x_star is not None:
        x_star = np.ascontiguousarray(x_star, dtype=np.float64)
        if x_star.shape != (prob.d,):
            raise ValueError(f"feral: x_star has shape {x_star.shape}, expected ({prob.d},)")
        xs_ptr = x_star.ctypes.data_as(POINTER(ctypes.c_double))
    else:
        xs_ptr = None
    res = C.Result()
    err = C.Error()
    tr = C.Trace()
    hist = (ctypes.c_uint64 * C.STALENESS_BUCKETS)()  # lives as long as cfg points at it
    cfg.staleness_hist = ctypes.cast(hist, POINTER(ctypes.c_uint64))
    out = {}
    ds = prob.dataset_ptr()
    xp = x.ctypes.data_as(POINTER(ctypes.c_double))

    done = threading.Event()

    def work():  # ctypes releases the GIL for the call
        try:
            out["st"] = _lib.feral_solve(ds, byref(cfg), xs_ptr, xp, byref(res),
                                         byref(tr) if trace else None, byref(err))
        finally:
            done.set()

    # Wait on an Event, not on Thread.join: a KeyboardInterrupt that lands
    # inside join() can leave the thread looking finished while it still
    # runs.  The solve always ends before we return: the buffers it reads
    # belong to the caller.
    t = threading.Thread(target=work, name="feral_solve", daemon=True)
    t.start()
    interrupted = False
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            stop.value = 1
            interrupted = True
    t.join()
    points = []
    if trace:
        for k in range(tr.len):
            p = tr.pts[k]
            points.append({"updates": int(p.updates), "seconds": p.seconds,
                           "objective": p.objective, "relative_residual": p.rel_residual,
                           "relative_error": p.rel_error})
        _lib.feral_trace_free(byref(tr))
    st = out["st"]
    if interrupted:
        raise KeyboardInterrupt
    if cb_error:
        raise cb_error[0]
    if st == C.INTERRUPTED:
        raise KeyboardInterrupt("feral: solve interrupted (stop flag)")
    if st == C.DIVERGED:
        _raise(st, err, x=x, info=result_info(prob, cfg, data_precision, res, st))
    if st != C.OK:
        _raise(st, err)
    return result_info(prob, cfg, data_precision, res, st), points


def solve(A, b, *, x0=None, x_star=None, progress=None, trace=False, **options):
    """Minimise (1/n) sum_i f_i(x) + l2/2 ||x||^2 over the rows of A with
    targets b; least squares by default.  Returns (x, info): x a float64
    vector of length d, info the dict `feral solve --json` prints (same keys;
    NaN/Inf as None), plus info["trace"] (list of trace points) if trace=True.

    A: a numpy 2-D array (float32 C-contiguous is used in place; anything
    else is converted once to float32) or a scipy.sparse matrix (CSR used in
    place when its data is float32).  b: n targets (labels +1/-1 for the
    classification losses).

    Options (the struct feral_config fields; CLI option names in brackets):
      loss='ls'|'logistic'|'hinge', l2, method='svrg'|'halp'|'sgd'|'kaczmarz'|
      'newton' (default: as the CLI, feral_default_method: for ls/logistic
      with a float model newton (trust-region Newton-CG, up to 1000 passes
      over the data unless a budget is given), or svrg (100 epochs) on tall
      dense data (n >= 128 d) or when an option only a stochastic method
      reads is given (step, sampling, lambda, replicas, delay, hot_*,
      average_*, trace_every); halp with an 8/16-bit model unless recenter;
      sgd for hinge),
      relax,
      sampling='weighted'|'partial'|'uniform' or lambda (or lambda_),
      step='auto' or a number, step_decay, tol, mu, epochs, seconds,
      updates (max_updates), seed, threads (default: the physical cores, as
      the CLI), bind, replicas, average_every, trace_every, update,
      precision=32|16|8 (data and model), data_precision, model_precision
      (64|32|16|8), model_scale, rounding, average_iterates, recenter,
      recenter_every, diverge.
    x0: starting point (default zeros).  x_star: known solution (enables
    relative_error and the tol test on it; without it tol is the certified
    relative gradient norm, info["grad_norm_rel"]).  progress: callable(fraction,
    point) called from the library's monitor thread at every trace point;
    an exception raised in it stops the solve and is re-raised here.
    Ctrl-C stops the solve and raises KeyboardInterrupt."""
    cfg, dp = make_config(options)
    prob = Problem(A, b, data_precision=dp, seed=cfg.seed)
    try:
        if "method" not in options:  # the data's shape known: tall dense -> svrg
            default_method(cfg, options, prob.dataset_ptr())
        x = np.zeros(prob.d) if x0 is None else np.array(x0, dtype=np.float64, copy=True)
        if x.shape != (prob.d,):
            raise ValueError(f"feral: x0 has shape {x.shape}, expected ({prob.d},)")
        info, points = run_solve(prob, cfg, dp, x, x_star=x_star, progress=progress,
                                 trace=trace)
    finally:
        prob.close()
    if trace:
        info["trace"] = points
    return x, info


# ---- loading ---------------------------------------------------------------------
class _Owned:
    """Keeps a library-allocated dataset alive for the numpy arrays that view
    its buffers (numpy keeps this object as their base)."""

    def __init__(self, ptr):
        self.ptr = ptr

    def array(self, address, dtype, shape):
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if nbytes == 0:
            return np.zeros(shape, dtype=dtype)
        buf = (ctypes.c_char * nbytes).from_address(address)
        buf._owner = self  # the ctypes buffer keeps us, numpy keeps the buffer
        return np.frombuffer(buf, dtype=dtype).reshape(shape)

    def __del__(self):
        if self.ptr:
            _lib.feral_dataset_destroy(byref(self.ptr))


def load(path, targets=None, dense=None):
    """Load a data file in any format the library reads (LIBSVM .svm/.txt,
    .mtx, .npy, IDX, .feral, and .gz) with feral_dataset_load.

    Returns (X, y): X a float32 numpy array (dense layouts) or a
    scipy.sparse.csr_matrix (CSR layouts); y a float64 vector of targets, or
    None when the format carries none (.npy, .mtx, IDX images) and no
    `targets` file (.npy/.mtx/IDX labels/text) is given.  dense: LIBSVM/MTX
    storage, True/False/None (auto).  f32 values are not copied (the arrays
    view the library's buffers and keep them alive); fixed point caches are
    dequantized into a new float32 array."""
    p = os.fsencode(path)
    opt = C.LoadOptions()
    _lib.feral_load_options_init(ctypes.addressof(opt))
    if dense is not None:
        opt.dense = 1 if dense else 0
    ds = POINTER(C.Dataset)()
    err = C.Error()
    st = _lib.feral_dataset_load(p, byref(opt), byref(ds), byref(err))
    if st != C.OK:
        _raise(st, err)
    own = _Owned(ds)
    if targets is not None:
        st = _lib.feral_dataset_load_targets(ds, os.fsencode(targets), byref(err))
        if st != C.OK:
            _raise(st, err)
    d = ds.contents
    n, m, nnz = int(d.n), int(d.d), int(d.nnz)
    esize = _lib.feral_precision_size(d.precision)
    vdtype = {C.PRECISION_F32: np.float32, C.PRECISION_I16: np.int16,
              C.PRECISION_I8: np.int8}[d.precision]
    count = n * m if d.layout == C.LAYOUT_DENSE else nnz
    assert esize == np.dtype(vdtype).itemsize
    vals = own.array(d.values, vdtype, (count,))
    if d.precision != C.PRECISION_F32:
        scale = own.array(ctypes.addressof(d.row_scale.contents), np.float32, (n,))
        if d.layout == C.LAYOUT_DENSE:
            rows = np.repeat(scale, m)
        else:
            ptr = own.array(ctypes.addressof(d.indptr.contents), np.uint64, (n + 1,))
            rows = np.repeat(scale, np.diff(ptr.astype(np.int64)))
        vals = (vals.astype(np.float32) * rows).astype(np.float32)
    if d.layout == C.LAYOUT_DENSE:
        X = vals.reshape(n, m)
    else:
        import scipy.sparse as sp
        ptr = own.array(ctypes.addressof(d.indptr.contents), np.uint64, (n + 1,)).view(np.int64)
        idx = own.array(ctypes.addressof(d.indices.contents), np.uint32, (nnz,))
        small = m < 2**31 and nnz < 2**31  # scipy wants one index dtype for both
        idx = idx.astype(np.int32 if small else np.int64)
        ptr = ptr.astype(np.int32) if small else ptr
        X = sp.csr_matrix((vals, idx, ptr), shape=(n, m), copy=False)
    fmt = _lib.feral_format_from_path(p)
    has_y = targets is not None or fmt in (C.FORMAT_LIBSVM, C.FORMAT_FERAL)
    y = own.array(ctypes.addressof(d.y.contents), np.float64, (n,)).copy() if has_y and n \
        else (np.zeros(0) if has_y else None)
    return X, y
