"""feral.solve and feral.load against the CLI and known solutions."""
import ctypes
import json
import os
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

import feral
from feral import _capi

# The keys of `feral solve --json` (checked against the CLI below too).
CLI_KEYS = {"n", "d", "nnz", "loss", "method", "lambda", "step", "mu", "updates", "seconds",
            "monitor_seconds", "updates_per_s", "objective", "relative_residual",
            "relative_error", "converged", "grad_norm_rel", "grad_seconds", "cpu_seconds",
            "threads", "bind",
            "replicas", "replicas_mode", "oversubscribed",
            "shards", "replica_models", "bind_failures", "precision", "rounding",
            "model_scale", "saturations", "averaged_iterates", "kernel", "delay",
            "staleness_mean", "staleness_p99", "staleness_max", "conflict_rate",
            "staleness_hist", "seed",
            "peak_rss_bytes", "status"}
# Fields that depend on timing or on the process, not on the arithmetic.
TIMING = {"seconds", "monitor_seconds", "grad_seconds", "cpu_seconds", "updates_per_s",
          "peak_rss_bytes"}


def _dense_system(n=600, d=40, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d)).astype(np.float32)
    xs = rng.standard_normal(d)
    return A, A.astype(np.float64) @ xs, xs


def _cli_solve(feral_cli, tmp_path, a_path, b_path, args):
    x_path = tmp_path / "x.npy"
    out = subprocess.run([feral_cli, "solve", str(a_path), str(b_path), "-o", str(x_path),
                          "--json"] + args, check=True, capture_output=True, text=True,
                         env=dict(os.environ, CI="1"))
    return np.load(x_path), json.loads(out.stdout)


@pytest.mark.parametrize("args,opts", [
    # no method: both take feral_default_method's (newton here: not tall)
    (["--threads", "1", "--seed", "7"], dict(threads=1, seed=7)),
    (["--threads", "1", "--seed", "7", "--method", "svrg"], dict(threads=1, seed=7, method="svrg")),
    (["--threads", "1", "--seed", "3", "--epochs", "4", "--tol", "0", "--sampling", "uniform",
      "--step", "0.3"], dict(threads=1, seed=3, epochs=4, tol=0, sampling="uniform", step=0.3)),
    (["--threads", "1", "--precision", "8", "--recenter", "--epochs", "3"],
     dict(threads=1, precision=8, recenter=True, epochs=3)),
    (["--threads", "1", "--precision", "8", "--epochs", "3"],  # both default to halp
     dict(threads=1, precision=8, epochs=3)),
    (["--threads", "1", "--method", "kaczmarz", "--epochs", "2"],
     dict(threads=1, method="kaczmarz", epochs=2)),
])
def test_dense_bit_for_bit_with_cli(feral_cli, tmp_path, args, opts):
    A, b, _ = _dense_system()
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "b.npy", b)
    x_cli, j = _cli_solve(feral_cli, tmp_path, tmp_path / "A.npy", tmp_path / "b.npy", args)
    x, info = feral.solve(A, b, **opts)
    assert x.dtype == np.float64 and x.shape == (40,)
    np.testing.assert_array_equal(x, x_cli)  # bit for bit
    assert set(info) == set(j) == CLI_KEYS | ({"warning"} if "warning" in j else set())
    for k in set(j) - TIMING:
        assert info[k] == j[k] or (isinstance(j[k], float) and info[k] == pytest.approx(
            j[k], rel=1e-9)), k  # the CLI prints %.10g


def test_sparse_bit_for_bit_with_cli(feral_cli, tmp_path):
    # values k/8 are exact in float32 and in the LIBSVM text
    rng = np.random.default_rng(5)
    A = sp.random(800, 60, density=0.1, format="csr", random_state=5, dtype=np.float64)
    A.data = np.round(A.data * 64) / 8 + 0.125
    y = np.round(rng.standard_normal(800) * 8) / 8
    with open(tmp_path / "A.svm", "w") as f:
        for i in range(A.shape[0]):
            row = A.getrow(i)
            f.write(f"{y[i]:g} " + " ".join(f"{j + 1}:{v:g}" for j, v in
                                            zip(row.indices, row.data)) + "\n")
    np.save(tmp_path / "y.npy", y)
    x_cli, j = _cli_solve(feral_cli, tmp_path, tmp_path / "A.svm", tmp_path / "y.npy",
                          ["--threads", "1", "--seed", "11", "--epochs", "5", "--method", "svrg"])
    assert j["nnz"] == A.nnz
    x, info = feral.solve(A.astype(np.float32), y, threads=1, seed=11, epochs=5, method="svrg")
    np.testing.assert_array_equal(x, x_cli)
    assert info["updates"] == j["updates"]


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sparse_reaches_x_star(index_dtype):
    n, d = 3000, 150
    rng = np.random.default_rng(2)
    A = sp.random(n, d, density=0.05, format="csr", random_state=2, dtype=np.float32)
    A = (A + sp.eye(n, d, dtype=np.float32, format="csr")).tocsr()  # full column rank
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    xs = rng.standard_normal(d)
    b = A.astype(np.float64) @ xs
    x, info = feral.solve(A, b, x_star=xs, tol=1e-12, epochs=400, threads=1)
    err = np.linalg.norm(x - xs) / np.linalg.norm(xs)
    assert err <= 1e-4, (err, info)
    assert info["relative_error"] == pytest.approx(err ** 2, rel=1e-6)
    assert info["nnz"] == A.nnz


def test_float64_input_is_converted_once_to_the_same_data():
    A, b, _ = _dense_system()
    x32, _ = feral.solve(A, b, threads=1, epochs=3)
    x64, _ = feral.solve(A.astype(np.float64), b, threads=1, epochs=3)
    xf, _ = feral.solve(np.asfortranarray(A), b, threads=1, epochs=3)
    np.testing.assert_array_equal(x32, x64)
    np.testing.assert_array_equal(x32, xf)


def test_wrapping_is_zero_copy_and_read_only():
    A, b, _ = _dense_system()
    before = A.copy()
    p = feral.Problem(A, b)
    assert not p.copied and p._ds.values == A.ctypes.data
    assert p._ds.owner is None
    np.testing.assert_allclose(p.row_sq_norm, (A.astype(np.float64) ** 2).sum(axis=1),
                               rtol=1e-12)
    feral.solve(A, b, threads=1)
    np.testing.assert_array_equal(A, before)
    assert feral.Problem(A.astype(np.float64), b).copied


def test_library_errors_become_exceptions_with_its_message():
    A, b, _ = _dense_system()
    bad = A.copy()
    bad[3, 2] = np.nan
    with pytest.raises(feral.FeralDataError) as e:
        feral.solve(bad, b)
    assert "finite" in str(e.value) and e.value.reason
    with pytest.raises(feral.FeralUsageError, match="relax"):
        feral.solve(A, b, method="kaczmarz", relax=3.0)
    with pytest.raises(feral.FeralUsageError, match="budget"):
        feral.solve(A, b, epochs=0)
    with pytest.raises(TypeError, match="unknown option"):
        feral.solve(A, b, epoch=3)
    with pytest.raises(ValueError, match="shape"):
        feral.solve(A, b[:-1])
    # removed (results/README.md, "Kernels alone"): the error names the alternative
    with pytest.raises(ValueError, match="use 'independent'"):
        feral.solve(A, b, model_precision=8, rounding="shared")


def test_progress_callback_and_its_exceptions():
    A, b, _ = _dense_system()
    seen = []
    # svrg: a trace point per epoch (Newton-CG, the default here, records
    # one per accepted step and solves this system in one)
    _, info = feral.solve(A, b, method="svrg", threads=1, tol=0, epochs=3,
                          progress=lambda f, p: seen.append(f), trace=True)
    assert seen and 0 < seen[-1] <= 1 and len(info["trace"]) >= 3

    class Stop(Exception):
        pass

    def boom(fraction, point):
        raise Stop("from the callback")
    with pytest.raises(Stop):
        feral.solve(A, b, threads=1, tol=0, epochs=50, progress=boom)


def test_load_formats(tmp_path, feral_cli):
    A, b, _ = _dense_system(n=50, d=7)
    np.save(tmp_path / "A.npy", A)
    X, y = feral.load(tmp_path / "A.npy")
    assert y is None and X.dtype == np.float32
    np.testing.assert_array_equal(X, A)
    np.save(tmp_path / "b.npy", b)
    X, y = feral.load(tmp_path / "A.npy", targets=tmp_path / "b.npy")
    np.testing.assert_array_equal(y, b)
    (tmp_path / "s.svm").write_text("1 1:0.5 3:2\n-1 2:1.5\n1 3:-4\n")
    X, y = feral.load(tmp_path / "s.svm", dense=False)
    assert sp.issparse(X) and X.shape == (3, 3)
    np.testing.assert_array_equal(X.toarray(), [[0.5, 0, 2], [0, 1.5, 0], [0, 0, -4]])
    np.testing.assert_array_equal(y, [1, -1, 1])
    Xd, _ = feral.load(tmp_path / "s.svm", dense=True)
    np.testing.assert_array_equal(Xd, X.toarray())
    # an 8-bit cache comes back dequantized
    subprocess.run([feral_cli, "convert", str(tmp_path / "s.svm"), str(tmp_path / "s8.feral"),
                    "--precision", "8"], check=True, capture_output=True)
    X8, y8 = feral.load(tmp_path / "s8.feral")
    X8 = X8.toarray() if sp.issparse(X8) else X8
    np.testing.assert_allclose(X8, X.toarray(), atol=4 / 127)
    np.testing.assert_array_equal(y8, y)


def test_load_errors_name_file_and_line(tmp_path):
    (tmp_path / "bad.svm").write_text("1 1:0.5\n1 2:zz\n")
    with pytest.raises(feral.FeralDataError, match=r"bad\.svm:2"):
        feral.load(tmp_path / "bad.svm")
    with pytest.raises(feral.FeralIOError):
        feral.load(tmp_path / "missing.svm")


def test_loaded_arrays_outlive_their_names(tmp_path):
    A, _, _ = _dense_system(n=30, d=5)
    np.save(tmp_path / "A.npy", A)
    X, _ = feral.load(tmp_path / "A.npy")
    view = X[2:5]
    del X
    import gc
    gc.collect()
    np.testing.assert_array_equal(view, A[2:5])


class _ShiftedConfig(ctypes.Structure):
    """struct feral_config with one more field first (an ABI change the mirror missed)."""
    _fields_ = [("struct_size", ctypes.c_size_t)] + _capi.Config._fields_


def test_layout_self_check_catches_a_mismatch(monkeypatch):
    lib = feral._core._lib
    _capi.check_layout(lib)  # the real mirror passes
    monkeypatch.setattr(_capi, "Config", _ShiftedConfig)
    with pytest.raises(ImportError, match="_capi.py"):
        _capi.check_layout(lib)


def test_library_found_through_FERAL_LIBRARY(tmp_path):
    import sys
    lib = feral._core._lib._name
    code = "import feral._capi as c; print(c.load_library()._name)"
    env = dict(os.environ, FERAL_LIBRARY=str(lib), PYTHONPATH=os.path.dirname(
        os.path.dirname(feral.__file__)))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(lib)
    env["FERAL_LIBRARY"] = str(tmp_path / "nope.so")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "FERAL_LIBRARY" in out.stderr


def test_divergence_raises_with_the_last_good_iterate():
    A, b, _ = _dense_system()
    with pytest.raises(feral.FeralDivergedError, match="diverged") as e:
        feral.solve(A, b, step=50, tol=0, epochs=5, threads=1)
    assert e.value.info["status"] == "diverged" and np.all(np.isfinite(e.value.x))
    assert isinstance(e.value, ArithmeticError)


def test_hot_coordinates_options_and_info():
    """hot_threshold / hot_every reach the library; info carries the hot set as
    the CLI's --json does (only with one), and an explicit replica mode with a
    threshold is refused with the library's message."""
    rng = np.random.default_rng(3)
    n, d, r = 4000, 500, 8
    cols = np.minimum(rng.zipf(1.3, size=n * r) - 1, d - 1)
    A = sp.csr_matrix((rng.standard_normal(n * r).astype(np.float32),
                       (np.repeat(np.arange(n), r), cols)), shape=(n, d))
    A.sum_duplicates()
    b = (A @ rng.standard_normal(d)).astype(np.float32)
    _, info = feral.solve(A, b, threads=2, method="sgd", epochs=1, hot_threshold=0.05,
                          hot_every=32)
    assert info["hot_coords"] > 0 and 0 < info["hot_nnz_share"] <= 1
    assert info["hot_every"] == 32
    _, plain = feral.solve(A, b, threads=2, method="sgd", epochs=1, hot_threshold=-1)
    assert "hot_coords" not in plain
    with pytest.raises(feral.FeralError, match="hot_threshold"):
        feral.solve(A, b, threads=2, replicas="core", hot_threshold=0.05)
