"""``run_in_executor(None, ...)`` on Eddy's blocking pool, and waiting for any Eddy
future from the loop (a host task polls it: ``FutureWait``)."""

from __future__ import annotations

import ctypes
import itertools
from ctypes import byref, c_uint64, c_void_p
from typing import Any, Callable, Dict, List, Optional, Tuple

from asyncio import futures

from .. import _lib
from .._errors import error_from_code
from ._reactor import HostTask, Reactor

_keys = itertools.count(1)
# Jobs by key: (func, args, box). The pool thread pops its entry under the GIL; a
# cancellation pops it first when the job has not started, so it never runs then.
_thread_jobs: Dict[int, Tuple[Callable[..., Any], Tuple[Any, ...], List[Tuple[bool, Any]]]] = {}


def _job(arg: Optional[int]) -> None:
    """Runs on a thread of Eddy's blocking pool (ctypes takes the GIL). Nothing
    may escape into ctypes: the outcome goes into the box."""
    entry = _thread_jobs.pop(arg or 0, None)
    if entry is None:
        return
    func, args, box = entry
    try:
        box.append((True, func(*args)))
    except BaseException as e:  # noqa: BLE001 - handed to the awaiting future
        box.append((False, e))


_THREAD_JOB = ctypes.CFUNCTYPE(c_void_p, c_void_p)(_job)


class FutureWait:
    """Polls Eddy future ``fut`` with a host task of its own until it is ready,
    then calls ``done(rc)`` (0 or an error code) once. ``cancel()`` gives up."""

    __slots__ = ("reactor", "fut", "done", "task")

    def __init__(self, reactor: Reactor, fut: int, done: Callable[[int], None]) -> None:
        self.reactor = reactor
        self.fut = fut
        self.done = done
        t = self.task = reactor.take(self)
        if t.started and not t.busy:
            self._event(t, 0)

    def _event(self, task: HostTask, res: int) -> None:
        if self.task is not task:
            return
        r = self.reactor
        rc = r.lib.eddy_future_poll(self.fut, r.enter(task))
        if rc == _lib.PENDING:
            r.arm(task)
            return
        self.task = None
        r.release(task)
        self.done(rc)

    def cancel(self) -> None:
        t, self.task = self.task, None
        if t is not None:
            self.reactor.release(t)


def run_in_pool(loop: Any, func: Callable[..., Any], args: Tuple[Any, ...]) -> Any:
    """An asyncio future for ``func(*args)`` run on a thread of Eddy's blocking pool.
    Cancelled before a pool thread took it, ``func`` never runs."""
    r: Reactor = loop._reactor
    afut = loop.create_future()
    box: List[Tuple[bool, Any]] = []
    key = next(_keys)
    _thread_jobs[key] = (func, args, box)
    out = c_uint64()
    rc = r.lib.eddy_spawn_blocking(r.h, _THREAD_JOB, key, byref(out))
    if rc < 0:
        _thread_jobs.pop(key, None)
        raise error_from_code(rc)
    efut = out.value

    def finished(rc: int) -> None:
        _thread_jobs.pop(key, None)
        r.lib.eddy_future_free(efut)
        if afut.done():
            return
        if rc < 0 or not box:
            afut.set_exception(error_from_code(rc if rc < 0 else _lib.ESHUTDOWN))
            return
        ok, value = box[0]
        if ok:
            afut.set_result(value)
        elif isinstance(value, StopIteration):
            # A Future refuses StopIteration (TypeError): wrap it as a Task does.
            exc = RuntimeError("StopIteration raised in the executor job")
            exc.__cause__ = value
            afut.set_exception(exc)
        else:
            # As asyncio.wrap_future: concurrent.futures' CancelledError / TimeoutError
            # become asyncio's (a job calling future.result() of a cancelled
            # run_coroutine_threadsafe future).
            afut.set_exception(futures._convert_future_exc(value))

    wait = FutureWait(r, efut, finished)

    def on_cancel(f: Any) -> None:
        if f.cancelled() and wait.task is not None:
            wait.cancel()
            _thread_jobs.pop(key, None)  # not started: it never will
            if not r.closed:
                r.lib.eddy_future_free(efut)

    afut.add_done_callback(on_cancel)
    return afut
