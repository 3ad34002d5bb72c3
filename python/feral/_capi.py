"""ctypes mirror of include/feral.h: every struct, enum and prototype the
Python package uses lives here, and only here, so that a change to the header
is one edit.  The library is located and loaded by load_library(); a layout
self-check runs at import (check_layout) and raises ImportError on a mismatch.

Library lookup order:
  1. $FERAL_LIBRARY (a path to libferal.so / libferal.so.0);
  2. build/libferal.so.0 or build/libferal.so of the source tree this package
     sits in (../../build from python/feral/), for PYTHONPATH=python after make;
  3. the system loader: libferal.so.0, then libferal.so (make install).
"""
import ctypes
import ctypes.util
import os
import struct as _struct

from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float,
                    c_int, c_long, c_size_t, c_uint32, c_uint64, c_void_p)

# The ABI these mirrors describe (FERAL_ABI_VERSION of include/feral.h); the
# library's feral_abi_version() must match.
ABI_VERSION = 0

# ---- enums (C enums are int on the platforms feral supports) ----------------
c_enum = c_int

OK, USAGE, PARSE, RANGE, CORRUPT, UNSUPPORTED, IO, NOMEM, DIVERGED, INTERRUPTED, INTERNAL = range(11)

PRECISION_F32, PRECISION_F64, PRECISION_I16, PRECISION_I8 = range(4)
LAYOUT_DENSE, LAYOUT_CSR = range(2)
FORMAT_AUTO, FORMAT_LIBSVM, FORMAT_MTX, FORMAT_NPY, FORMAT_IDX, FORMAT_FERAL = range(6)
LOSS_LS, LOSS_LOGISTIC, LOSS_HINGE = range(3)
METHOD_SGD, METHOD_KACZMARZ = range(2)
BIND_COMPACT, BIND_SCATTER, BIND_NONE = range(3)
REPLICAS_MACHINE, REPLICAS_NODE, REPLICAS_CORE, REPLICAS_AUTO = range(4)
UPDATE_RACY, UPDATE_ATOMIC = range(2)
ROUNDING_INDEPENDENT, ROUNDING_SHARED, ROUNDING_NEAREST = range(3)

LOSS_NAMES = ("ls", "logistic", "hinge")
METHOD_NAMES = ("sgd", "kaczmarz", "svrg", "halp", "newton")
BIND_NAMES = ("compact", "scatter", "none")
REPLICAS_NAMES = ("machine", "node", "core", "auto")
UPDATE_NAMES = ("racy", "atomic")
# "shared" (1) was removed: the library rejects it; no name maps to it
ROUNDING_NAMES = ("independent", "-", "nearest")
PRECISION_BITS = {PRECISION_F32: 32, PRECISION_F64: 64, PRECISION_I16: 16, PRECISION_I8: 8}
BITS_PRECISION = {v: k for k, v in PRECISION_BITS.items()}


# ---- structs: field for field as in include/feral.h ---------------------------
class Error(Structure):  # struct feral_error
    _fields_ = [
        ("status", c_enum),
        ("line", c_long),
        ("sys_errno", c_int),
        ("file", c_char * 512),
        ("msg", c_char * 512),
    ]


class Dataset(Structure):  # struct feral_dataset
    _fields_ = [
        ("n", c_uint64),
        ("d", c_uint64),
        ("nnz", c_uint64),
        ("layout", c_enum),
        ("precision", c_enum),
        ("values", c_void_p),
        ("indptr", POINTER(c_uint64)),
        ("indices", POINTER(c_uint32)),
        ("row_scale", POINTER(c_float)),
        ("y", POINTER(c_double)),
        ("row_sq_norm", POINTER(c_double)),
        ("owner", c_void_p),
    ]


class LoadOptions(Structure):  # struct feral_load_options
    _fields_ = [
        ("struct_size", c_size_t),  # set by feral_load_options_init
        ("format", c_enum),
        ("dense", c_int),
        ("min_d", c_uint64),
        ("row_begin", c_uint64),
        ("row_end", c_uint64),
        ("byte_begin", c_uint64),
        ("byte_end", c_uint64),
        ("map_cache", c_int),
    ]


class TracePoint(Structure):  # struct feral_trace_point
    _fields_ = [
        ("updates", c_uint64),
        ("seconds", c_double),
        ("objective", c_double),
        ("rel_residual", c_double),
        ("rel_error", c_double),
    ]


class Trace(Structure):  # struct feral_trace
    _fields_ = [
        ("len", c_size_t),
        ("cap", c_size_t),
        ("pts", POINTER(TracePoint)),
    ]


CHECKPOINT_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), c_uint64, c_uint64)
PROGRESS_FN = CFUNCTYPE(None, c_void_p, POINTER(TracePoint), c_double)


class Config(Structure):  # struct feral_config
    _fields_ = [
        ("struct_size", c_size_t),  # set by feral_config_init
        ("loss", c_enum),
        ("l2", c_double),
        ("method", c_enum),
        ("relax", c_double),
        ("lambda_", c_double),  # `lambda` in C
        ("step_auto", c_int),
        ("step", c_double),
        ("step_decay", c_double),
        ("tol", c_double),
        ("mu", c_double),
        ("epochs", c_double),
        ("seconds", c_double),
        ("max_updates", c_uint64),
        ("diverge", c_double),
        ("seed", c_uint64),
        ("threads", c_int),
        ("bind", c_enum),
        ("replicas", c_enum),
        ("average_every", c_uint64),
        ("hot_threshold", c_double),
        ("hot_every", c_uint64),
        ("trace_every", c_uint64),
        ("update", c_enum),
        ("model_precision", c_enum),
        ("model_scale", c_double),
        ("rounding", c_enum),
        ("average_iterates", c_int),
        ("recenter", c_int),
        ("recenter_every", c_uint64),
        ("stop_flag", POINTER(c_int)),  # volatile int *
        ("checkpoint_every", c_double),
        ("checkpoint", CHECKPOINT_FN),
        ("checkpoint_arg", c_void_p),
        ("progress", PROGRESS_FN),
        ("progress_arg", c_void_p),
        ("delay", c_uint32),
        ("staleness_hist", POINTER(c_uint64)),  # FERAL_STALENESS_BUCKETS counts, or NULL
    ]


STALENESS_BUCKETS = 23  # FERAL_STALENESS_BUCKETS
NEWTON_PASSES = 1000   # FERAL_NEWTON_PASSES (feral.h)
VR_EPOCHS = 100        # FERAL_VR_EPOCHS
HOT_EVERY_AUTO = 64  # FERAL_HOT_EVERY_AUTO


class Result(Structure):  # struct feral_result
    _fields_ = [
        ("updates", c_uint64),
        ("seconds", c_double),
        ("monitor_seconds", c_double),
        ("updates_per_s", c_double),
        ("objective", c_double),
        ("rel_residual", c_double),
        ("rel_error", c_double),
        ("step", c_double),
        ("mu", c_double),
        ("converged", c_int),
        ("threads", c_int),
        ("saturations", c_uint64),
        ("writes", c_uint64),
        ("avg_seconds", c_double),
        ("averaged", c_uint64),
        ("kernel", c_char_p),
        ("oversubscribed", c_int),
        ("shards", c_int),
        ("replicas", c_int),
        ("replicas_mode", c_enum),
        ("bind_failures", c_int),
        ("model_scale", c_double),
        ("warning", c_char * 256),
        ("grad_norm_rel", c_double),
        ("grad_seconds", c_double),
        ("hot_coords", c_uint64),
        ("hot_nnz_share", c_double),
        ("staleness_mean", c_double),
        ("staleness_p99", c_uint32),
        ("staleness_max", c_uint32),
        ("conflict_rate", c_double),
        ("cpu_seconds", c_double),
    ]


# ---- prototypes --------------------------------------------------------------------
_PROTOTYPES = {
    # name: (restype, argtypes)
    "feral_version": (c_char_p, []),
    "feral_abi_version": (c_int, []),
    "feral_struct_size": (c_size_t, [c_char_p]),
    "feral_default_threads": (c_int, []),
    "feral_staleness_bucket_lo": (c_uint64, [c_int]),
    "feral_strerror": (c_char_p, [c_enum]),
    "feral_error_format": (c_char_p, [POINTER(Error), c_char_p, c_size_t]),
    "feral_precision_size": (c_size_t, [c_enum]),
    "feral_dataset_create": (c_enum, [c_uint64, c_uint64, c_uint64, c_enum, c_enum,
                                      POINTER(POINTER(Dataset)), POINTER(Error)]),
    "feral_dataset_destroy": (None, [POINTER(POINTER(Dataset))]),
    "feral_dataset_update_norms": (None, [POINTER(Dataset)]),
    "feral_dense_append_column": (None, [c_void_p, c_uint64, c_uint64, c_uint64, c_float,
                                      c_void_p, c_void_p]),
    "feral_dataset_check": (c_enum, [POINTER(Dataset), POINTER(Error)]),
    "feral_dataset_quantize": (c_enum, [POINTER(Dataset), c_enum, c_uint64,
                                        POINTER(POINTER(Dataset)), POINTER(Error)]),
    "feral_format_from_path": (c_enum, [c_char_p]),
    "feral_load_options_init": (None, [c_void_p]),  # c_void_p: see check_layout
    "feral_dataset_load": (c_enum, [c_char_p, POINTER(LoadOptions),
                                    POINTER(POINTER(Dataset)), POINTER(Error)]),
    "feral_dataset_load_targets": (c_enum, [POINTER(Dataset), c_char_p, POINTER(Error)]),
    "feral_config_init": (None, [c_void_p]),  # c_void_p: the self-check passes a raw buffer
    "feral_config_validate": (c_enum, [POINTER(Config), POINTER(Error)]),
    "feral_default_method": (c_enum, [POINTER(Dataset), POINTER(Config), c_int]),
    "feral_trace_free": (None, [POINTER(Trace)]),
    "feral_solve": (c_enum, [POINTER(Dataset), POINTER(Config), POINTER(c_double),
                             POINTER(c_double), POINTER(Result), POINTER(Trace),
                             POINTER(Error)]),
}


def _candidates():
    env = os.environ.get("FERAL_LIBRARY")
    if env:
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.path.normpath(os.path.join(here, "..", "..", "build"))
    names = [os.path.join(build, n) for n in ("libferal.so.0", "libferal.so")]
    names = [p for p in names if os.path.exists(p)]
    for n in ("libferal.so.0", "libferal.so"):
        names.append(n)
    found = ctypes.util.find_library("feral")
    if found:
        names.append(found)
    return names, False


def load_library():
    """Load libferal and set the prototypes; ImportError saying where it looked."""
    names, forced = _candidates()
    errors = []
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as e:
            errors.append(f"{name}: {e}")
    else:
        hint = ("FERAL_LIBRARY is set but cannot be loaded" if forced else
                "run `make` (for build/libferal.so next to python/), `make install`, "
                "or set FERAL_LIBRARY=/path/to/libferal.so")
        raise ImportError("feral: cannot load libferal (" + hint + "):\n  " + "\n  ".join(errors))
    for fname, (res, args) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, fname)
        except AttributeError:
            raise ImportError(f"feral: {lib._name} has no {fname}: the library is older "
                              "than this package (rebuild it)") from None
        fn.restype = res
        fn.argtypes = args
    return lib


def check_layout(lib):
    """Compare this module's mirrors with what the library writes.

    feral_config_init is run into an oversized buffer filled with 0xAB: its
    defaults must land at the offsets mirrored here, every byte of the mirror
    must be written (memset to 0 covers the whole C struct), and no byte past
    it may be touched (the C struct must not be larger).  A dataset made by
    feral_dataset_create and an error from feral_config_validate check those
    two structs.  ImportError on any mismatch."""
    def fail(what):
        raise ImportError(
            f"feral: {lib._name} does not match feral/_capi.py ({what}); the header "
            "include/feral.h changed: update the ctypes mirrors in python/feral/_capi.py")

    abi = lib.feral_abi_version()
    if abi != ABI_VERSION:
        fail(f"library ABI {abi} ({lib.feral_version().decode()}), mirrors ABI {ABI_VERSION}")

    mirrors = {"feral_config": Config, "feral_load_options": LoadOptions,
               "feral_result": Result, "feral_error": Error, "feral_dataset": Dataset,
               "feral_trace": Trace, "feral_trace_point": TracePoint}
    for cname, mirror in mirrors.items():
        csize = lib.feral_struct_size(cname.encode())
        if csize != ctypes.sizeof(mirror):
            fail(f"struct {cname}: {csize} bytes in C, {ctypes.sizeof(mirror)} mirrored")

    size = ctypes.sizeof(Config)
    pad = 4096
    buf = (ctypes.c_ubyte * (size + pad))(*([0xAB] * (size + pad)))
    lib.feral_config_init(ctypes.addressof(buf))
    raw = bytes(buf)

    def dbl(field):
        return _struct.unpack_from("=d", raw, getattr(Config, field).offset)[0]

    def i32(field):
        return _struct.unpack_from("=i", raw, getattr(Config, field).offset)[0]

    if _struct.unpack_from("@N", raw, Config.struct_size.offset)[0] != size:
        fail(f"struct feral_config: struct_size is not {size}")
    expect = {"lambda_": 0.5, "relax": 1.0, "diverge": 1e8, "step": 0.5}
    for f, v in expect.items():
        if dbl(f) != v:
            fail(f"struct feral_config: default {f.rstrip('_')} {v} not at offset "
                 f"{getattr(Config, f).offset}")
    if i32("model_precision") != PRECISION_F64 or i32("step_auto") != 1:
        fail("struct feral_config: model_precision/step_auto defaults not where expected")
    last = Config.progress_arg
    if raw[last.offset:last.offset + last.size] != b"\0" * last.size:
        fail("struct feral_config is smaller in C than mirrored (progress_arg not zeroed)")
    if raw[size:] != b"\xab" * pad:
        fail("struct feral_config is larger in C than mirrored")

    lsize = ctypes.sizeof(LoadOptions)
    lbuf = (ctypes.c_ubyte * (lsize + pad))(*([0xAB] * (lsize + pad)))
    lib.feral_load_options_init(ctypes.addressof(lbuf))
    lraw = bytes(lbuf)
    if _struct.unpack_from("@N", lraw, LoadOptions.struct_size.offset)[0] != lsize \
            or _struct.unpack_from("=i", lraw, LoadOptions.dense.offset)[0] != -1 \
            or lraw[lsize:] != b"\xab" * pad:
        fail("struct feral_load_options (struct_size, dense = -1, size)")

    ds = POINTER(Dataset)()
    err = Error()
    if lib.feral_dataset_create(3, 5, 7, LAYOUT_CSR, PRECISION_F32, ctypes.byref(ds),
                                ctypes.byref(err)) != OK:
        fail("feral_dataset_create failed: " + err.msg.decode(errors="replace"))
    try:
        d = ds.contents
        if (d.n, d.d, d.nnz, d.layout, d.precision) != (3, 5, 7, LAYOUT_CSR, PRECISION_F32) \
                or not d.values or not d.indptr or not d.indices or not d.y \
                or not d.row_sq_norm or d.row_scale:
            fail("struct feral_dataset fields")
    finally:
        lib.feral_dataset_destroy(ctypes.byref(ds))

    cfg = Config()
    lib.feral_config_init(ctypes.addressof(cfg))
    cfg.lambda_ = 2.0
    err = Error()
    st = lib.feral_config_validate(ctypes.byref(cfg), ctypes.byref(err))
    if st != USAGE or err.status != USAGE or b"lambda" not in err.msg:
        fail("struct feral_error (status/msg of a failed feral_config_validate)")
