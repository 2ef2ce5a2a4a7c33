"""The paused clock, absolute deadlines, intervals with missed-tick behaviours
(eddy.pause_clock / advance_clock / clock / sleep_until / interval), and
eddy.wait_readable / wait_writable on caller-owned descriptors (issue 16, item 6).

Timer tests run on a paused clock: hours of schedule, exact expectations, and
real time bounded from above only to prove nothing waited for real."""
from __future__ import annotations

import os
import socket
import time

import pytest

import eddy

HOUR = 3600.0
REAL_BOUND = 20.0  # seconds: far below any paused hour, far above any load


def test_advance_fires_in_deadline_order():
    async def main():
        eddy.pause_clock()
        t0 = eddy.clock()
        order = []

        async def sleeper(h):
            await eddy.sleep(h * HOUR)
            order.append(h)

        for h in (3, 1, 2):
            eddy.spawn(sleeper(h))
        await eddy.sleep(0)  # they arm their timers
        fired = await eddy.advance_clock(1.5 * HOUR)
        after1 = list(order)
        fired2 = await eddy.advance_clock(10 * HOUR)
        await eddy.sleep(0)
        return fired, after1, fired2, order, eddy.clock() - t0

    real0 = time.monotonic()
    fired, after1, fired2, order, moved = eddy.run(main())
    assert (fired, after1, fired2, order) == (1, [1], 2, [1, 2, 3])
    assert moved == pytest.approx(11.5 * HOUR)
    assert time.monotonic() - real0 < REAL_BOUND


def test_idle_paused_clock_auto_advances_and_sleep_until():
    async def main():
        eddy.pause_clock()
        t0 = eddy.clock()
        await eddy.sleep(24 * HOUR)
        t1 = eddy.clock()
        await eddy.sleep_until(t1 + HOUR)
        await eddy.sleep_until(t0)  # passed: at once
        async with eddy.timeout(HOUR):  # a timeout on the paused clock, not reached
            await eddy.sleep(HOUR / 2)
        try:
            async with eddy.timeout(HOUR):
                await eddy.sleep(2 * HOUR)
        except TimeoutError:
            hit = True
        return t1 - t0, eddy.clock() - t0, hit

    real0 = time.monotonic()
    slept, total, hit = eddy.run(main())
    assert slept == pytest.approx(24 * HOUR)
    assert total == pytest.approx(26.5 * HOUR)
    assert hit
    assert time.monotonic() - real0 < REAL_BOUND


def ticks(behaviour):
    async def main():
        eddy.pause_clock()
        t0 = eddy.clock()
        iv = eddy.interval(1.0, start=t0, missed_tick_behavior=behaviour)
        got = []
        async for t in iv:
            got.append(round(t - t0, 3))
            if len(got) == 1:
                await eddy.advance_clock(3.5)  # late by 3.5 s
            if len(got) == 4:
                break
        iv.close()
        return got

    return eddy.run(main())


def test_interval_missed_tick_behaviours():
    assert ticks("burst") == [0.0, 1.0, 2.0, 3.0]
    assert ticks(eddy.DELAY) == [0.0, 1.0, 4.5, 5.5]
    assert ticks("skip") == [0.0, 1.0, 4.0, 5.0]


def test_interval_and_clock_bad_input():
    async def main():
        out = []
        for period in (0, -1.0, float("nan")):
            with pytest.raises(eddy.InvalidArgumentError):
                eddy.interval(period)
        for kind in ("sometimes", 7, None):
            with pytest.raises(eddy.InvalidArgumentError):
                eddy.interval(1.0, missed_tick_behavior=kind)
        with pytest.raises(TypeError):
            eddy.interval("1s")
        iv = eddy.interval(1e30)  # absurd: saturates to "never", no overflow
        iv.close()
        with pytest.raises(RuntimeError):
            await iv.tick()
        with pytest.raises(eddy.InvalidArgumentError):
            await eddy.advance_clock(1.0)  # not paused
        eddy.pause_clock()
        with pytest.raises(eddy.InvalidArgumentError):
            await eddy.advance_clock(-1.0)
        with pytest.raises(TypeError):
            await eddy.sleep_until("later")
        with pytest.raises(eddy.InvalidArgumentError):
            await eddy.sleep_until(float("nan"))
        eddy.resume_clock()
        out.append("ok")
        return out

    assert eddy.run(main()) == ["ok"]
    with pytest.raises(RuntimeError):
        eddy.pause_clock()  # outside eddy.run


def test_wait_readable_writable_on_a_pipe():
    r, w = os.pipe()
    os.set_blocking(r, False)
    try:
        async def main():
            trace = []

            async def reader():
                while True:  # readiness may be spurious: the non-blocking read decides
                    await eddy.wait_readable(r)
                    try:
                        trace.append(os.read(r, 10))
                        return
                    except BlockingIOError:
                        pass

            t1 = eddy.spawn(reader())
            t2 = eddy.spawn(reader())  # two waiters on one fd: both see it
            await eddy.sleep(0.05)
            trace.append("before write")
            os.write(w, b"x")
            await eddy.wait(
                [t1, t2], return_when=eddy.FIRST_COMPLETED)
            os.write(w, b"y")
            await t1
            await t2
            await eddy.wait_writable(w)  # an empty pipe is writable
            trace.append("writable")
            return trace

        trace = eddy.run(main())
        assert trace[0] == "before write"
        assert sorted(trace[1:3]) == [b"x", b"y"]
        assert trace[3] == "writable"
    finally:
        os.close(r)
        os.close(w)


def test_wait_readable_cancelled_and_bad_fds(tmp_path):
    a, b = socket.socketpair()
    try:
        async def main():
            t = eddy.spawn(eddy.wait_readable(a))
            await eddy.sleep(0.02)
            t.cancel()
            with pytest.raises(eddy.CancelledError):
                await t
            b.send(b"z")
            await eddy.wait_readable(a)  # a new registration after the cancelled one
            with pytest.raises(OSError):
                await eddy.wait_readable(10**6)  # not open: EBADF
            with open(tmp_path / "f", "w") as f:
                with pytest.raises(OSError):
                    await eddy.wait_readable(f)  # a regular file: EPERM
            with pytest.raises(ValueError):
                await eddy.wait_readable(-1)
            with pytest.raises(TypeError):
                await eddy.wait_readable("3")
            return a.recv(1)

        assert eddy.run(main()) == b"z"
    finally:
        a.close()
        b.close()
