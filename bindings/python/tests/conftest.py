"""Test helpers: import the package from the source tree, bound every test in
time, run dangerous snippets in a subprocess."""
from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

PKG_ROOT = Path(__file__).resolve().parent.parent  # bindings/python
REPO = PKG_ROOT.parent.parent
sys.path.insert(0, str(PKG_ROOT))

TEST_TIMEOUT = float(os.environ.get("EDDY_TEST_TIMEOUT", "60"))


def pytest_configure(config):
    # A hard dependency: the property tests must run, not be skipped.
    try:
        import hypothesis  # noqa: F401
    except ImportError as e:
        raise pytest.UsageError(f"the Python tests need hypothesis (pip install hypothesis): {e}") from e


@pytest.fixture(autouse=True)
def _bounded_in_time():
    """Per-test time limit without plugins: faulthandler dumps every thread's
    stack and exits the process if a test hangs (no signal is raised into the
    code under test, which may be inside a ctypes callback)."""
    faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PKG_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_snippet(code: str, timeout: float = 30.0, args: Optional[list] = None) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter; never hangs the suite."""
    return subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(code)] + (args or []),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_not_killed(p: subprocess.CompletedProcess) -> None:
    assert p.returncode >= 0, f"child killed by signal {-p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))
