"""Let the examples run from a source checkout without installing the package."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_src = os.path.normpath(os.path.join(_here, "..", "..", "bindings", "python"))
try:
    import eddy  # noqa: F401  (installed with pip)
except ImportError:
    sys.path.insert(0, _src)
