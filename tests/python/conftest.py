"""pytest setup for the Python bindings: run with PYTHONPATH=python after make
(`make test-python`).  FERAL_BUILD_DIR names the build directory (default build)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYDIR = os.path.join(ROOT, "python")
if PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)
BUILD = os.path.join(ROOT, os.environ.get("FERAL_BUILD_DIR", "build"))


@pytest.fixture(scope="session")
def feral_cli():
    path = os.path.join(BUILD, "feral")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: run make")
    return path


def child_env():
    """Environment for a child Python that imports feral like this process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PYDIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
