"""The runtime's clock, absolute deadlines and intervals (issue 16, item 6):
``eddy.clock``, ``sleep_until``, ``timeout_at``, ``interval`` / ``Interval`` with tokio's
missed-tick behaviours, and the paused clock for tests (``pause_clock``,
``resume_clock``, ``advance_clock``), over include/eddy.h's "Time and
combinators" block.

Times are float seconds on the running runtime's clock (CLOCK_MONOTONIC, the
clock of ``time.monotonic()``, unless paused). A paused clock moves only when
advanced, or by itself when every task waits (it then jumps to the next timer's
deadline, as tokio's paused clock does): timer-heavy code runs without real
waiting.
"""

from __future__ import annotations

import ctypes
import math
import types
from typing import Any, Generator, Optional

from ._driver import PID, Runtime, check, running, wait_future, yield_now
from ._errors import InvalidArgumentError
from ._protocol import PENDING, SUSPEND
from ._timeouts import MAX_NANOS, Timeout, now_ns, to_nanos

# Missed-tick behaviours (tokio's MissedTickBehavior; include/eddy.h EDDY_MISSED_TICK_*).
BURST = 0
DELAY = 1
SKIP = 2
_BEHAVIOURS = {"burst": BURST, "delay": DELAY, "skip": SKIP, BURST: BURST, DELAY: DELAY, SKIP: SKIP}


def clock() -> float:
    """Now on the running runtime's clock, in seconds (the paused time while paused)."""
    return now_ns(running()) / 1e9


def _deadline_ns(when: object) -> int:
    if isinstance(when, bool) or not isinstance(when, (int, float)):
        raise TypeError(f"deadline must be a number of seconds (int or float), not {type(when).__name__}")
    if isinstance(when, float) and math.isnan(when):
        raise InvalidArgumentError("deadline must not be NaN")
    if when <= 0:
        return 0
    return MAX_NANOS if when * 1e9 >= MAX_NANOS else int(when * 1e9)


async def sleep_until(deadline: float, result: Any = None) -> Any:
    """Suspend the current task until ``deadline`` (seconds on ``eddy.clock()``);
    a deadline already passed returns at the next scheduling point."""
    ns = _deadline_ns(deadline)
    rt = running()
    lib = rt.lib
    check(lib.eddy_sleep_until(rt.h, ns, rt.out_ref))
    fut = rt.out.value
    try:
        await wait_future(rt, fut)
    finally:
        lib.eddy_future_free(fut)
    return result


def timeout_at(when: Optional[float]) -> Timeout:
    """``async with eddy.timeout_at(when):`` — asyncio's ``timeout_at``: raise
    ``TimeoutError`` if the block is still running at ``when`` (seconds on
    ``eddy.clock()``; ``None``: no limit). A deadline already passed interrupts
    the block at its first await."""
    return Timeout(None) if when is None else Timeout(None, deadline_ns=_deadline_ns(when))


def pause_clock() -> None:
    """Pause the running runtime's clock (for tests; no-op when paused)."""
    rt = running()
    check(rt.lib.eddy_runtime_clock_pause(rt.h))


def resume_clock() -> None:
    """Let the running runtime's clock run again (from the real monotonic time)."""
    rt = running()
    check(rt.lib.eddy_runtime_clock_resume(rt.h))


async def advance_clock(seconds: float) -> int:
    """Move the paused clock forward by ``seconds``; the timers due by then fire in
    deadline order, and this task yields once so the woken tasks run first.
    Returns how many timers fired. ``InvalidArgumentError`` when the clock is not
    paused or ``seconds`` is negative."""
    ns = to_nanos(seconds, "seconds")
    rt = running()
    n = check(rt.lib.eddy_runtime_clock_advance(rt.h, ns))
    await yield_now(rt)
    return n


class Interval:
    """Ticks every ``period`` seconds; see ``eddy.interval``."""

    __slots__ = ("_rt", "_h", "period", "missed_tick_behavior")

    def __init__(self, period: float, *, start: Optional[float] = None, missed_tick_behavior: Any = BURST) -> None:
        if isinstance(period, bool) or not isinstance(period, (int, float)):
            raise TypeError(f"period must be a number of seconds, not {type(period).__name__}")
        if math.isnan(period) or period <= 0:
            raise InvalidArgumentError(f"period must be > 0, got {period!r}")
        try:
            behaviour = _BEHAVIOURS[missed_tick_behavior]
        except (KeyError, TypeError):
            raise InvalidArgumentError(f"missed_tick_behavior must be 'burst', 'delay' or 'skip', got {missed_tick_behavior!r}") from None
        ns = to_nanos(period, "period")  # absurd periods saturate to 2**62 ns: "never again"
        rt = running()
        start_ns = 0 if start is None else max(1, _deadline_ns(start))
        self._rt, self._h = rt, 0
        self.period = period
        self.missed_tick_behavior = behaviour
        check(rt.lib.eddy_interval_new(rt.h, start_ns, max(1, ns), behaviour, rt.out_ref))
        self._h = rt.out.value

    async def tick(self) -> float:
        """Wait for the next tick; returns its scheduled time (seconds on ``eddy.clock()``)."""
        rt = self._rt
        if not self._h:
            raise RuntimeError("the interval is closed")
        if running() is not rt:
            raise RuntimeError("this interval belongs to a different eddy runtime")
        t = ctypes.c_uint64()
        await _tick(rt, self._h, ctypes.byref(t))
        return t.value / 1e9

    def close(self) -> None:
        """Free the interval (also done when it is garbage collected)."""
        rt, h = self._rt, self._h
        self._h = 0
        if h and not rt.ended and rt.pid == PID[0]:
            rt.lib.eddy_interval_free(h)

    def __del__(self) -> None:
        try:
            self.close()
        except BaseException:
            pass

    def __aiter__(self) -> "Interval":
        return self

    async def __anext__(self) -> float:
        return await self.tick()


@types.coroutine
def _tick(rt: Runtime, h: int, out: Any) -> Generator[Any, None, None]:
    lib = rt.lib
    while True:
        rc = lib.eddy_interval_poll_tick(h, rt.cx, out)
        if rc != PENDING:
            check(rc)
            return
        yield SUSPEND


def interval(period: float, *, start: Optional[float] = None, missed_tick_behavior: Any = BURST) -> Interval:
    """An interval ticking every ``period`` seconds, first at ``start`` (seconds on
    ``eddy.clock()``; default: one period from now). ``missed_tick_behavior`` (tokio's):
    ``"burst"`` / ``eddy.BURST`` (default: missed ticks come at once, the schedule
    stays), ``"delay"`` / ``eddy.DELAY`` (the next tick a full period after a late
    one), ``"skip"`` / ``eddy.SKIP`` (back to the schedule, missed ticks dropped).
    ``await iv.tick()`` or ``async for t in iv``."""
    return Interval(period, start=start, missed_tick_behavior=missed_tick_behavior)
