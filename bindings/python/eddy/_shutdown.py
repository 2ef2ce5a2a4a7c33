"""``eddy.shutdown``: the graceful shutdown of the running ``eddy.run``, the Python
side of ``eddy_runtime_shutdown`` / ``Runtime.shutdown(timeout:)``.

Python tasks are Python's (coroutines the driver resumes), so the drain is done
here: spawns are refused, the tasks run on until all have finished or the
deadline passed, then the rest are aborted (cancelled: ``CancelledError`` at their
await point); when ``eddy.run`` ends, ``eddy_runtime_shutdown`` closes every
descriptor and stops the blocking pool before the runtime is freed."""

from __future__ import annotations

import time
from ctypes import byref, sizeof
from typing import Any, List, NamedTuple, Optional

from . import _lib
from ._driver import Runtime, running, state
from ._tasks import Task, spawn_task
from ._timeouts import sleep

# How often the drain looks at the tasks (a shutdown path: simplicity over latency).
_POLL_S = 0.005


class ShutdownReport(NamedTuple):
    """What a graceful shutdown did (``eddy.shutdown_report()``)."""

    tasks_finished: int
    """Tasks that finished on their own before the deadline."""
    tasks_aborted: int
    """Tasks still running at the deadline: cancelled."""
    handles_closed: int
    """Descriptors (sockets, watched fds) the runtime force-closed."""
    blocking_abandoned: int
    """Blocking calls still queued: never run."""
    blocking_running: int
    """Blocking calls still running at the end (the runtime's end waits for them)."""


class Drain:
    """A graceful shutdown in progress (``Runtime.stopping``)."""

    def __init__(self, rt: Runtime, deadline: float) -> None:
        self.rt = rt
        self.deadline = deadline
        self.finished = 0
        self.aborted = 0
        self.task: Task[Any]

    def others(self) -> List[Task[Any]]:
        w = self.rt.wakeup
        return [t for t in self.rt.tasks() if not t._done and t is not self.task and (w is None or t is not w.task)]

    async def run(self) -> None:
        start = len(self.others())
        while self.others() and time.monotonic() < self.deadline:
            await sleep(min(_POLL_S, max(0.0, self.deadline - time.monotonic())))
        left = self.others()
        self.finished = start - len(left)
        self.aborted = len(left)
        for t in left:
            t.cancel()

    def close_runtime(self, rt: Runtime) -> None:
        """At the end of eddy.run, before the runtime is freed: the C side's shutdown."""
        rep = _lib.eddy_shutdown_report_t()
        rep.struct_size = sizeof(rep)
        rc = rt.lib.eddy_runtime_shutdown(rt.h, 0, byref(rep))
        closed = abandoned = running_ = 0
        if rc == 0:
            closed, abandoned, running_ = rep.handles_closed, rep.blocking_abandoned, rep.blocking_running
        state.shutdown_report = ShutdownReport(self.finished, self.aborted, closed, abandoned, running_)


def shutdown(timeout: float = 0.0) -> None:
    """Shut the running ``eddy.run`` down gracefully, from inside one of its tasks.

    Returns at once (the shutdown is begun; the runtime finishes it): from now on
    ``eddy.spawn`` raises ``RuntimeEndedError``; the tasks keep running until all
    have finished or ``timeout`` seconds have passed; then those left are cancelled
    (``CancelledError`` at their await point, the main coroutine's included: then
    ``eddy.run`` raises it). When ``eddy.run`` ends, every descriptor of the runtime
    is closed and the blocking pool stopped; ``eddy.shutdown_report()`` then returns
    the counts. A second call can only bring the deadline closer. The Python binding
    has no cross-thread form: call it from a task (e.g. one woken by a signal)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise ValueError("timeout must be a number of seconds >= 0")
    rt = running()
    deadline = time.monotonic() + timeout
    d: Optional[Drain] = rt.stopping
    if d is not None:
        d.deadline = min(d.deadline, deadline)
        return
    d = Drain(rt, deadline)
    d.task = spawn_task(rt, d.run(), "eddy.shutdown")
    rt.stopping = d


def shutdown_report() -> Optional[ShutdownReport]:
    """The report of the last graceful shutdown of an ``eddy.run`` in this thread
    (None if there was none)."""
    return getattr(state, "shutdown_report", None)
