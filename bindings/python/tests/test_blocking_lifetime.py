"""A blocking call whose awaiting task went away still owns its memory: the
worker may write into a buffer after the cancellation, so eddy keeps it alive
until Eddy reports the call completed (``_blocking._orphan``), then frees it."""
from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import textwrap
import time
import weakref

import pytest

import eddy
from conftest import child_env

libc = ctypes.CDLL(None)  # RTLD_DEFAULT: under a preloaded ASan, its read() interceptor
PAYLOAD = b"written after the cancellation"
SIZE = 4096
CANARY = 0xA5


def _read_fn():
    read = libc.read
    read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    read.restype = ctypes.c_ssize_t
    return read


class Buffer(ctypes.c_char * SIZE):
    """A ctypes buffer that can be watched with a weak reference."""


def test_blocking_call_cancelled_keeps_memory_alive():
    read = _read_fn()
    pipe = list(os.pipe())
    rfd = pipe[0]
    seen = {}

    async def main():
        buf = Buffer()
        ctypes.memset(buf, CANARY, SIZE)
        addr = ctypes.addressof(buf)
        # Runs as the buffer is released, before its memory is freed: what the buffer held then.
        ref = weakref.ref(buf, lambda _: seen.setdefault("at_release", ctypes.string_at(addr, SIZE)))
        with pytest.raises(TimeoutError):
            # The worker blocks in read() until the pipe has data: long after the timeout.
            await eddy.wait_for(eddy.blocking_call(read, rfd, buf, len(PAYLOAD)), 0.05)
        await eddy.sleep(0.01)  # the driver's step that threw the timeout (and its traceback) is over
        del buf
        gc.collect()
        if ref() is None or "at_release" in seen:
            os.close(pipe.pop())  # end of file: the worker's read() returns without writing
            raise AssertionError("the buffer was released while the worker can still write into it")
        os.write(pipe[1], PAYLOAD)  # the worker's read() now writes into the buffer
        deadline = time.monotonic() + 30
        while ref() is not None and time.monotonic() < deadline:
            await eddy.sleep(0.01)  # Eddy reports the completion on the loop thread
            gc.collect()
        assert ref() is None, "the buffer was never released after the call completed (leak)"

    try:
        eddy.run(main())
    finally:
        for fd in pipe:
            os.close(fd)
    got = seen["at_release"]
    assert got[: len(PAYLOAD)] == PAYLOAD, "the worker's write did not land in the live buffer"
    assert got[len(PAYLOAD):] == bytes([CANARY]) * (SIZE - len(PAYLOAD)), "canary past the read length damaged"


# The same under AddressSanitizer (preloaded; every allocation through malloc):
# freed memory is poisoned and ASan's read() interceptor checks the range the
# worker writes, so a buffer released too early is a heap-use-after-free report.
ASAN_CHILD = r"""
import ctypes, gc, os, time, eddy
libc = ctypes.CDLL(None)
read = libc.read
read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
read.restype = ctypes.c_ssize_t
rfd, wfd = os.pipe()

async def main():
    for round in range(3):
        buf = ctypes.create_string_buffer(4096)
        try:
            await eddy.wait_for(eddy.blocking_call(read, rfd, buf, 64), 0.05)
        except TimeoutError:
            pass
        else:
            raise SystemExit("the call did not block")
        await eddy.sleep(0.01)  # the driver's step that threw the timeout (and its traceback) is over
        del buf
        gc.collect()
        churn = [bytearray(4096) for _ in range(64)]  # reuse freed memory (ASan quarantines it anyway)
        os.write(wfd, b"x" * 64)
        from eddy import _driver
        deadline = time.monotonic() + 60
        while _driver.then_pending and time.monotonic() < deadline:
            await eddy.sleep(0.01)
        assert not _driver.then_pending, "the orphaned call never completed"
        del churn
    return "ok"

print(eddy.run(main()), flush=True)
"""


def _libasan() -> str:
    out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True, timeout=30)
    path = out.stdout.strip()
    assert out.returncode == 0 and os.path.isabs(path) and os.path.exists(path), (
        "libasan.so not found (gcc's, as the C ASan suites use): install gcc/libasan"
    )
    return path


def test_blocking_call_cancelled_keeps_memory_alive_under_asan():
    env = child_env()
    env.update(
        LD_PRELOAD=_libasan(),
        PYTHONMALLOC="malloc",
        ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:allocator_may_return_null=1",
    )
    p = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ASAN_CHILD)], env=env, capture_output=True, text=True, timeout=180
    )
    assert "AddressSanitizer" not in p.stderr, p.stderr[-4000:]
    assert p.returncode == 0 and p.stdout.strip() == "ok", (p.returncode, p.stdout, p.stderr[-4000:])
