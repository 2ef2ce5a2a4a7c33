"""``eddy.metrics()`` and ``eddy.task_dump()``: the runtime's counters (through
``eddy_runtime_metrics``) and the live Python tasks with what each waits on, for
diagnosing a stuck program."""

from __future__ import annotations

import ctypes
import os
from ctypes import byref, sizeof
from typing import Any, List, NamedTuple, Optional

from . import _lib
from ._driver import check, current_runtime
from ._protocol import OP_FINISH, OP_READ, OP_REPEAT, OP_WAIT, OP_WRITE, SUSPEND, Op


class RuntimeMetrics(NamedTuple):
    """Counters of the running runtime (see ``eddy_runtime_metrics_t`` in eddy.h)."""

    polls: int
    ticks: int
    parks: int
    local_queue_depth: int
    remote_queue_depth: int
    live_tasks: int
    blocking_threads: int
    blocking_idle_threads: int
    blocking_queued: int
    blocking_running: int
    blocking_completed: int
    blocking_max_threads: int


class TaskInfo(NamedTuple):
    """One live task of ``eddy.task_dump()``."""

    id: int
    """The task's Eddy id (its host task id)."""
    name: str
    state: str
    """``running`` (this is the caller), ``waiting``, ``cancelling`` (a cancel is
    pending delivery) or ``scheduled`` (not resumed since it was spawned or woken)."""
    waits_on: str
    """What it waits on: ``read`` / ``write`` (a stream operation), ``wake`` (a
    sleep, timeout, join, to_thread, blocking call or event), and where (the
    innermost coroutine frame, ``file:line in function``)."""


def metrics() -> RuntimeMetrics:
    """The running runtime's counters: polls, ticks, parks, queue depths, live tasks
    (Eddy's count: Python tasks and C tasks alike), blocking pool threads and jobs.
    Cheap: one C call. Inside ``eddy.run``."""
    rt = current_runtime()
    m = _lib.eddy_runtime_metrics_t()
    m.struct_size = sizeof(m)
    check(rt.lib.eddy_runtime_metrics(rt.h, byref(m)))
    return RuntimeMetrics(*(getattr(m, f) for f in RuntimeMetrics._fields))


# ---- multi-thread runtime (issue 14, branch mt-14) ----
def worker_metrics() -> List[RuntimeMetrics]:
    """Each worker's counters, worker 0 (the ``eddy.run`` thread, where Python
    coroutines run) first; one entry unless ``eddy.run(workers=N)``. The blocking
    pool is shared and counted in worker 0's entry only. Inside ``eddy.run``."""
    rt = current_runtime()
    n = ctypes.c_uint32()
    check(rt.lib.eddy_runtime_workers(rt.h, byref(n)))
    out = []
    for w in range(n.value):
        m = _lib.eddy_runtime_metrics_t()
        m.struct_size = sizeof(m)
        check(rt.lib.eddy_runtime_worker_metrics(rt.h, w, byref(m)))
        out.append(RuntimeMetrics(*(getattr(m, f) for f in RuntimeMetrics._fields)))
    return out


def runtime_handle() -> int:
    """The running runtime's ``eddy_runtime_t`` id, for a C extension that spawns
    its own tasks into it (``eddy_spawn`` / ``eddy_spawn_on``). Inside ``eddy.run``."""
    return current_runtime().h


_PKG = os.path.dirname(os.path.abspath(__file__))


def _where(coro: Any) -> str:
    """file:line in function of the innermost suspended frame of the program's own
    code (eddy's own frames are skipped: they say nothing about the program)."""
    frame = None
    for _ in range(256):
        if coro is None:
            break
        f = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if f is not None and (frame is None or os.path.dirname(os.path.abspath(f.f_code.co_filename)) != _PKG):
            frame = f
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


_OPS = {OP_WAIT: "wake", OP_READ: "read", OP_WRITE: "write", OP_FINISH: "finish"}


def task_dump() -> List[TaskInfo]:
    """The live tasks of the running ``eddy.run`` (id, name, state, what each waits
    on), for diagnosing a stuck program. Inside ``eddy.run``."""
    rt = current_runtime()
    out: List[TaskInfo] = []
    for t in rt.tasks():
        if t._done:
            continue
        y: Optional[Any] = t._yielded
        if t is rt.current:
            state, what = "running", "-"
        else:
            state = "cancelling" if t._cancel_requested else ("scheduled" if y is None else "waiting")
            if y.__class__ is Op:
                what = _OPS.get(int(y.rec[1]) & ~OP_REPEAT, "op")
            elif y is SUSPEND:
                what = "wake"
            else:
                what = "start"
        out.append(TaskInfo(t._key, t._name, state, f"{what} at {_where(t._coro)}"))
    return out
