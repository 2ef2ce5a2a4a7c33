"""Build hook of the eddy wheel: libeddy.so is built with SwiftPM and put inside the package.

`pip install ./bindings/python` / `pip wheel ./bindings/python` run this through
setuptools' PEP 517 backend (pyproject.toml). build_py compiles the C ABI library
(`swift build` in release with the static Swift stdlib: the same flags as the
Makefile's BUILD_FLAGS) and copies it to eddy/libeddy.so in the wheel; bdist_wheel tags
the wheel for this platform (py3-none-linux_x86_64): the package holds machine code,
but no CPython extension, so any Python 3 on the platform can use it.

Where the Swift sources are: EDDY_SOURCE_ROOT, else the repository this file sits in
(pip >= 21.3 builds a local directory in place). Where SwiftPM builds:
EDDY_SWIFT_SCRATCH, else <source root>/.build (the folder `make build` uses: with the
same flags, a wheel built after `make build` reuses that build; SwiftPM locks the folder
against concurrent builds).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 carries bdist_wheel; older ones take it from `wheel`
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

# Keep equal to BUILD_FLAGS in the top-level Makefile (`make test-wheel` checks it).
SWIFT_BUILD_FLAGS = "-c release -Xswiftc -static-stdlib -Xlinker -soname=libeddy.so.0"
HERE = Path(__file__).resolve().parent


def source_root() -> Path:
    """The Eddy repository (Package.swift with the EddyC target) to build libeddy.so from."""
    env = os.environ.get("EDDY_SOURCE_ROOT")
    candidates = [Path(env)] if env else [HERE.parent.parent]
    for root in candidates:
        if (root / "Package.swift").is_file() and (root / "Sources" / "EddyC").is_dir():
            return root.resolve()
    where = f"EDDY_SOURCE_ROOT={env!r}" if env else f"{HERE.parent.parent} (two folders above {HERE})"
    raise SystemExit(
        f"eddy: building the wheel needs the Eddy source tree (Package.swift, Sources/EddyC); "
        f"not found at {where}. Build from the repository (pip install /path/to/eddy/bindings/python) "
        f"or set EDDY_SOURCE_ROOT=/path/to/eddy."
    )


def build_library() -> Path:
    """Run SwiftPM for the `eddy` product; return the built libeddy.so."""
    root = source_root()
    if shutil.which("swift") is None:
        raise SystemExit("eddy: building the wheel needs the Swift toolchain (`swift` on PATH), 6.1 or later")
    scratch = Path(os.environ.get("EDDY_SWIFT_SCRATCH") or root / ".build").resolve()
    cmd = ["swift", "build", *shlex.split(SWIFT_BUILD_FLAGS), "--scratch-path", str(scratch)]
    print("eddy: " + shlex.join(cmd + ["--product", "eddy"]), flush=True)
    if subprocess.run(cmd + ["--product", "eddy"], cwd=root).returncode != 0:
        raise SystemExit(
            "eddy: swift build failed (see above). It needs libffi-dev and pkg-config: "
            f"`make deps` in {root} installs what is missing."
        )
    bin_dir = subprocess.run(cmd + ["--show-bin-path"], cwd=root, check=True, capture_output=True, text=True)
    lib = Path(bin_dir.stdout.strip()) / "libeddy.so"
    if not lib.is_file():
        raise SystemExit(f"eddy: swift build finished but {lib} does not exist")
    return lib


class BuildPyWithLibrary(build_py):
    """build_py, then libeddy.so into the built package (never into the source tree)."""

    def run(self) -> None:
        super().run()
        if self.dry_run:
            return
        dest = Path(self.build_lib) / "eddy" / "libeddy.so"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build_library(), dest)
        dest.chmod(0o755)

    def get_outputs(self, include_bytecode: bool = True) -> list:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / "eddy" / "libeddy.so")]


class BinaryDistribution(Distribution):
    """Not pure: the package holds machine code (installed to platlib, platform-tagged)."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """py3-none-<platform>: machine code inside, but no CPython ABI dependency."""

    def get_tag(self) -> tuple:
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel})
