"""Real asyncio libraries (aiohttp, websockets) on eddy.EventLoop: import the package
from the source tree, bound every test in time (faulthandler, as tests/conftest.py)."""
from __future__ import annotations

import faulthandler
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bindings/python


@pytest.fixture(autouse=True)
def _bounded_in_time():
    faulthandler.dump_traceback_later(float(os.environ.get("EDDY_TEST_TIMEOUT", "120")), exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
