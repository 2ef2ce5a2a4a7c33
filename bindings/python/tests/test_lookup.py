"""Where the package finds libeddy.so: $EDDY_LIBRARY, then the copy inside the package,
then the system loader (libeddy.so.0); otherwise an error that says what was tried.

Each case runs a fresh interpreter on a copy of the package outside the repository (so the
source checkout's build folders play no part), with three distinguishable copies of the
library, and reads which file the process mapped from /proc/self/maps.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import eddy
from eddy import _lib
from conftest import PKG_ROOT

PROBE = textwrap.dedent(
    """
    import eddy
    print(eddy.library_version())
    print(sorted({l.split()[-1] for l in open('/proc/self/maps') if 'libeddy' in l}))
    """
)


def _mapped_libeddy() -> list:
    with open("/proc/self/maps") as f:
        return sorted({line.split()[-1] for line in f if "libeddy" in line})


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """tmp/pkg/eddy (package copy without a library), and three library copies."""
    _lib.load()
    mapped = _mapped_libeddy()
    assert len(mapped) == 1, f"this process maps {mapped}"
    built = mapped[0]
    root = tmp_path_factory.mktemp("lookup")
    pkg = root / "pkg"
    shutil.copytree(PKG_ROOT / "eddy", pkg / "eddy", ignore=shutil.ignore_patterns("__pycache__", "libeddy.so*"))
    env_dir, sys_dir = root / "env", root / "sys"
    env_dir.mkdir()
    sys_dir.mkdir()
    shutil.copyfile(built, env_dir / "libeddy.so")
    shutil.copyfile(built, sys_dir / "libeddy.so.0")
    return {"root": root, "pkg": pkg, "env": env_dir / "libeddy.so", "sys": sys_dir, "built": built}


def run_probe(layout, *, env_lib=None, in_package=False, system=False) -> subprocess.CompletedProcess:
    in_pkg = layout["pkg"] / "eddy" / "libeddy.so"
    if in_package:
        shutil.copyfile(layout["built"], in_pkg)
    elif in_pkg.exists():
        in_pkg.unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("EDDY_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
    env["PYTHONPATH"] = str(layout["pkg"])
    if env_lib is not None:
        env["EDDY_LIBRARY"] = str(env_lib)
    if system:
        env["LD_LIBRARY_PATH"] = str(layout["sys"])
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=layout["root"], env=env, capture_output=True, text=True, timeout=60
    )


def loaded(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 0, p.stderr
    version, maps = p.stdout.splitlines()
    assert version == eddy.library_version()
    files = eval(maps)  # a list literal printed by PROBE
    assert len(files) == 1, files
    return files[0]


def test_eddy_library_comes_first(layout):
    p = run_probe(layout, env_lib=layout["env"], in_package=True, system=True)
    assert loaded(p) == str(layout["env"])


def test_package_copy_before_system_loader(layout):
    p = run_probe(layout, in_package=True, system=True)
    assert loaded(p) == str(layout["pkg"] / "eddy" / "libeddy.so")


def test_system_loader_last(layout):
    p = run_probe(layout, system=True)
    assert loaded(p) == str(layout["sys"] / "libeddy.so.0")


def test_eddy_library_naming_a_missing_file_is_an_error(layout):
    missing = layout["root"] / "nowhere" / "libeddy.so"
    p = run_probe(layout, env_lib=missing, in_package=True, system=True)
    assert p.returncode != 0
    assert "LibraryNotFoundError" in p.stderr and f"EDDY_LIBRARY={str(missing)!r}" in p.stderr


def test_nothing_found_lists_what_was_tried_and_how_to_fix(layout):
    # Probed in a fresh process: in this one the soname is already loaded (EDDY_LIBRARY).
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    probe = [sys.executable, "-c", f"import ctypes; ctypes.CDLL({_lib.SYSTEM_NAME!r})"]
    if subprocess.run(probe, env=env, capture_output=True, timeout=60).returncode == 0:
        # an installed copy (make install + ldconfig) would rightly be found
        pytest.skip(f"{_lib.SYSTEM_NAME} is installed system-wide on this machine")
    p = run_probe(layout)
    assert p.returncode != 0
    err = p.stderr.strip().splitlines()[-1]
    assert err.startswith("eddy._lib.LibraryNotFoundError: libeddy.so not found. Tried: $EDDY_LIBRARY (unset); ")
    assert str(layout["pkg"] / "eddy" / "libeddy.so") in err
    assert "the system loader: libeddy.so.0" in err
    assert "pip install" in err and "ldconfig" in err and "EDDY_LIBRARY=" in err
