"""Negative or absurd sizes, counts and timeouts are EINVAL in every Python entry
point (issue 11, bug 3): ``eddy.InvalidArgumentError``, an ``OSError`` with errno
EINVAL (what a C call's EDDY_EINVAL becomes) that is also a ``ValueError``.
Absurd: beyond SSIZE_MAX (2**63 - 1), the largest size the C API takes. Never a
result that looks like data (``b""`` is end of stream)."""
from __future__ import annotations

import ctypes
import errno
import math

import pytest

import eddy
from eddy._errors import error_from_code

SSIZE_MAX = 2**63 - 1
BAD_SIZES = (-1, -(2**63), -(2**70), SSIZE_MAX + 1, 2**64, 2**70)
BAD_DELAYS = (-1, -0.001, -math.inf, math.nan, -(2**70))


def _is_einval(e: BaseException) -> bool:
    return (
        isinstance(e, eddy.InvalidArgumentError)
        and isinstance(e, OSError)
        and isinstance(e, ValueError)
        and e.errno == errno.EINVAL
    )


def _raises_einval(f, *args, **kw):
    try:
        r = f(*args, **kw)
    except BaseException as e:  # noqa: BLE001 - checked below
        assert _is_einval(e), f"{f.__name__}{args!r}: {type(e).__name__}: {e}"
        return
    raise AssertionError(f"{f.__name__}{args!r} returned {r!r} instead of raising EINVAL")


async def _araises_einval(aw_factory, what):
    try:
        r = await aw_factory()
    except BaseException as e:  # noqa: BLE001 - checked below
        assert _is_einval(e), f"{what}: {type(e).__name__}: {e}"
        return
    raise AssertionError(f"{what} returned {r!r} instead of raising EINVAL")


def test_c_einval_maps_to_the_same_exception():
    e = error_from_code(-errno.EINVAL)
    assert _is_einval(e)
    assert "Invalid argument" in str(e) or e.strerror


def test_stream_sizes():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:
            async with await eddy.connect("127.0.0.1", lst.port) as c, await lst.accept() as s:
                await s.write_all(b"abc")
                for n in BAD_SIZES:
                    await _araises_einval(lambda: c.read(n), f"read({n})")
                    await _araises_einval(lambda: c.read_exactly(n), f"read_exactly({n})")
                # the stream is unharmed, and sizes up to SSIZE_MAX are fine (capped by the buffer)
                assert await c.read(SSIZE_MAX) == b"abc"
                await s.write_all(b"defg")
                assert await c.read_exactly(4) == b"defg"
                assert await c.read(0) == b""

    eddy.run(main())


def test_listen_backlog_and_port():
    async def main():
        for backlog in BAD_SIZES:
            await _araises_einval(lambda: eddy.listen("127.0.0.1", 0, backlog), f"listen(backlog={backlog})")
        for port in (-1, 65536, 2**70):
            await _araises_einval(lambda: eddy.listen("127.0.0.1", port), f"listen(port={port})")
            await _araises_einval(lambda: eddy.connect("127.0.0.1", port), f"connect(port={port})")
        for host in ("127.0.0.1\x00", ""):
            await _araises_einval(lambda: eddy.connect(host, 80), f"connect({host!r})")
        async with await eddy.listen("127.0.0.1", 0, 2**40) as lst:  # large but not absurd: capped
            assert lst.port > 0

    eddy.run(main())


def test_delays_and_timeouts():
    async def main():
        for d in BAD_DELAYS:
            await _araises_einval(lambda: eddy.sleep(d), f"sleep({d})")
            await _araises_einval(lambda: eddy.wait_for(eddy.sleep(0), d), f"wait_for(..., {d})")
            _raises_einval(eddy.timeout, d)
        # infinity and huge delays mean "never" (capped in C), as with asyncio
        async with eddy.timeout(math.inf):
            await eddy.sleep(0)
        assert await eddy.wait_for(eddy.sleep(0, "ok"), 2**70) == "ok"

    eddy.run(main())


def test_run_blocking_threads():
    async def main():
        return 1

    for n in (-1, 1025, 2**70):
        coro = main()
        _raises_einval(eddy.run, coro, blocking_threads=n)
        assert coro.cr_frame is None  # closed: no "never awaited" warning


def test_blocking_call_null_function():
    null = ctypes.CFUNCTYPE(ctypes.c_int)()

    async def main():
        await _araises_einval(lambda: eddy.blocking_call(null), "blocking_call(NULL)")

    eddy.run(main())
