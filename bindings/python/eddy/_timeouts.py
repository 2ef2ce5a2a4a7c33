"""Time: ``eddy.sleep``, ``eddy.timeout`` and the check the driver makes for
expired timeouts.

``eddy.timeout`` arms an ``eddy_sleep`` future with the task's cx and joins the
task's list of active timeouts. Whenever the task is resumed with attention
pending, ``Task._pending_exception`` asks ``expired_timeout`` whether one of
them fired; the outermost fired one is thrown into the coroutine at its
current await point as a ``TimeoutCancel`` (a ``CancelledError``), and its
``Timeout.__aexit__`` turns that into ``TimeoutError``.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, List, Optional, TypeVar

from ._driver import PID, Runtime, check, running, wait_future, yield_now
from ._errors import InvalidArgumentError, TimeoutCancel
from ._protocol import READY

if TYPE_CHECKING:  # pragma: no cover - annotations only; _tasks imports this module
    from ._tasks import Task

T = TypeVar("T")

# Largest sleep handed to C: ~146 years. Keeps now + delay far from uint64 overflow.
MAX_NANOS = 1 << 62


def to_nanos(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds (int or float), not {type(value).__name__}")
    if isinstance(value, int):  # exact, and beyond float's range too
        if value < 0:
            raise InvalidArgumentError(f"{what} must be >= 0, got {value!r}")
        return MAX_NANOS if value >= MAX_NANOS // 10**9 else value * 10**9
    v = value
    if v != v:
        raise InvalidArgumentError(f"{what} must not be NaN")
    if v < 0:
        raise InvalidArgumentError(f"{what} must be >= 0, got {value!r}")
    if v * 1e9 >= MAX_NANOS:
        return MAX_NANOS
    return int(v * 1e9)


async def sleep(delay: float, result: T = None) -> T:  # type: ignore[assignment]
    """Suspend the current task for ``delay`` seconds (``0`` yields once)."""
    ns = to_nanos(delay, "delay")
    rt = running()
    if ns == 0:
        await yield_now(rt)
        return result
    lib = rt.lib
    check(lib.eddy_sleep(rt.h, ns, rt.out_ref))
    fut = rt.out.value
    try:
        await wait_future(rt, fut)
    finally:
        lib.eddy_future_free(fut)
    return result


class Timeout:
    """``async with eddy.timeout(s):`` — raise ``TimeoutError`` if the block
    takes longer than ``s`` seconds (``None``: no limit). The block is
    interrupted at its current await point. ``eddy.timeout_at(when)`` (``_clock``)
    makes one with an absolute deadline on ``eddy.clock()``, as asyncio's."""

    _IDLE, _ARMED, _FIRED, _THROWN, _DONE = range(5)

    __slots__ = ("_ns", "_fut", "_task", "_state", "_rt", "_absolute", "_when_ns")

    def __init__(self, delay: Optional[float], *, deadline_ns: Optional[int] = None) -> None:
        # deadline_ns: an absolute deadline (timeout_at), already checked by the caller.
        self._absolute = deadline_ns is not None
        self._when_ns = deadline_ns
        self._ns = deadline_ns if self._absolute else (None if delay is None else to_nanos(delay, "timeout"))
        self._fut = 0
        self._task: Optional[Task[Any]] = None
        self._rt: Optional[Runtime] = None
        self._state = Timeout._IDLE

    def expired(self) -> bool:
        return self._state in (Timeout._FIRED, Timeout._THROWN)

    def when(self) -> Optional[float]:
        """The deadline of a ``timeout_at`` on ``eddy.clock()`` in seconds (asyncio's
        ``Timeout.when``); None without a limit, and for ``eddy.timeout(delay)``,
        whose deadline is not tracked (that would cost ``wait_for`` a C call)."""
        return None if self._when_ns is None else self._when_ns / 1e9

    async def __aenter__(self) -> "Timeout":
        if self._state != Timeout._IDLE:
            raise RuntimeError("an eddy.timeout() can be entered only once")
        rt = running()
        task = rt.current
        if task is None:
            raise RuntimeError("eddy.timeout() must be used inside a task")
        self._rt, self._task = rt, task
        if self._ns is None:
            self._state = Timeout._DONE
            return self
        lib = rt.lib
        if self._absolute:
            check(lib.eddy_sleep_until(rt.h, self._ns, rt.out_ref))
        else:
            check(lib.eddy_sleep(rt.h, self._ns, rt.out_ref))
        self._fut = rt.out.value
        rc = lib.eddy_future_poll(self._fut, rt.cx)  # arms the timer with this task's waker
        self._state = Timeout._FIRED if (rc == READY or rc < 0) else Timeout._ARMED
        task._timeouts.append(self)
        task._attn = True
        task._last = None
        return self

    async def __aexit__(self, et: Any, e: Any, tb: Any) -> None:
        task, rt = self._task, self._rt
        st = self._state
        self._state = Timeout._DONE
        if task is not None and self in task._timeouts:
            task._timeouts.remove(self)
            task._attn = task._throw is not None or task._cancel_requested or bool(task._timeouts)
        if self._fut and rt is not None:
            if not rt.ended and rt.pid == PID[0]:
                rt.lib.eddy_future_free(self._fut)
            self._fut = 0
        if st == Timeout._THROWN and isinstance(e, TimeoutCancel) and e.owner is self:
            self._state = Timeout._THROWN
            raise TimeoutError("eddy.timeout expired") from e
        return None


def timeout(delay: Optional[float]) -> Timeout:
    return Timeout(delay)


def now_ns(rt: Runtime) -> int:
    """The runtime's clock in nanoseconds (``eddy_now``; paused time while paused)."""
    v = ctypes.c_uint64()
    check(rt.lib.eddy_now(rt.h, ctypes.byref(v)))
    return v.value


def expired_timeout(rt: Runtime, timeouts: List[Timeout]) -> Optional[TimeoutCancel]:
    """The cancellation to throw into a task whose active timeouts (outermost
    first) are ``timeouts``, when one of them fired; else None. Polls the armed
    ones with the task's cx (inside its resumption), so the timer keeps its
    waker."""
    lib, cx = rt.lib, rt.cx
    fired: Optional[Timeout] = None
    for t in timeouts:  # outermost first
        if t._state == Timeout._ARMED:
            rc = lib.eddy_future_poll(t._fut, cx)
            if rc == READY or rc < 0:
                t._state = Timeout._FIRED
        if t._state == Timeout._FIRED and fired is None:
            fired = t
    if fired is None:
        return None
    # The outermost expired timeout owns this cancellation; inner expired ones
    # let it pass (they must not throw again).
    for t in timeouts:
        if t._state == Timeout._FIRED:
            t._state = Timeout._THROWN
    return TimeoutCancel(fired)
