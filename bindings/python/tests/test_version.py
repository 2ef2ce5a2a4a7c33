"""One version everywhere: the package (pyproject.toml, eddy.__version__, so the wheel's
name), the header's EDDY_VERSION_* macros and the loaded library's eddy_version_string().
(The C side, soname and eddy.pc included, is Tests/c/test_install.sh.)"""
import re
import tomllib

import eddy
from conftest import PKG_ROOT, REPO


def header_version() -> str:
    text = (REPO / "include" / "eddy.h").read_text()
    parts = [re.search(rf"^#define EDDY_VERSION_{p} (\d+)", text, re.M) for p in ("MAJOR", "MINOR", "PATCH")]
    assert all(parts), "include/eddy.h lacks an EDDY_VERSION_MAJOR/MINOR/PATCH macro"
    return ".".join(m.group(1) for m in parts)


def test_package_header_and_library_versions_agree():
    project = tomllib.loads((PKG_ROOT / "pyproject.toml").read_text())["project"]["version"]
    h = header_version()
    assert project == h, f"pyproject.toml says {project}, include/eddy.h {h}"
    assert eddy.__version__ == h, f"eddy.__version__ is {eddy.__version__}, include/eddy.h {h}"
    assert eddy.library_version() == h, f"the loaded library says {eddy.library_version()}, include/eddy.h {h}"
