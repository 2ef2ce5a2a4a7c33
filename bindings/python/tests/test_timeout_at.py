"""eddy.timeout_at(when): asyncio's absolute-deadline timeout (3.11) on eddy.clock()
(issue 16 item 6: "absolute deadlines in C and Python", with asyncio's names), and
Timeout.when(). Run on a paused clock: exact expectations, no real waiting."""
from __future__ import annotations

import time

import pytest

import eddy

HOUR = 3600.0


def test_timeout_at_fires_at_the_deadline_not_before():
    async def main():
        eddy.pause_clock()
        t0 = eddy.clock()
        trace = []
        try:
            async with eddy.timeout_at(t0 + 2 * HOUR) as cm:
                trace.append(cm.when() == t0 + 2 * HOUR)
                await eddy.sleep(1 * HOUR)
                trace.append(("inside at", round((eddy.clock() - t0) / HOUR, 3)))
                await eddy.sleep(5 * HOUR)
                trace.append("not interrupted")
        except TimeoutError:
            trace.append(("timed out at", round((eddy.clock() - t0) / HOUR, 3), cm.expired()))
        async with eddy.timeout_at(eddy.clock() + HOUR):
            await eddy.sleep(0.5 * HOUR)
        trace.append("finished in time")
        return trace

    real0 = time.monotonic()
    assert eddy.run(main()) == [True, ("inside at", 1.0), ("timed out at", 2.0, True), "finished in time"]
    assert time.monotonic() - real0 < 20


def test_a_deadline_already_passed_times_out_at_the_first_await():
    async def main():
        try:
            async with eddy.timeout_at(eddy.clock() - 1):
                await eddy.sleep(10)
        except TimeoutError:
            return "timed out"
        return "not"

    t0 = time.monotonic()
    assert eddy.run(main()) == "timed out"
    assert time.monotonic() - t0 < 5


def test_timeout_at_none_never_fires_and_bad_deadlines():
    async def main():
        async with eddy.timeout_at(None) as cm:
            await eddy.sleep(0.01)
        assert cm.when() is None
        assert eddy.timeout(None).when() is None
        with pytest.raises(TypeError):
            eddy.timeout_at("soon")
        with pytest.raises(ValueError):
            eddy.timeout_at(float("nan"))
        return "ok"

    assert eddy.run(main()) == "ok"
    assert "timeout_at" in eddy.__all__
