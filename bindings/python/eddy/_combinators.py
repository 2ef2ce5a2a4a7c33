"""Awaiting several tasks (issue 16, item 6): ``eddy.wait``, ``as_completed``,
``shield`` and ``TaskGroup``, with asyncio's names, signatures and semantics
(Python 3.11).

They wait the way ``gather`` does: the current task registers in each child's
``_waiters`` (woken by ``Task._notify`` when the child finishes) and suspends;
a timeout is an ``eddy_sleep`` future polled with the task's cx.
"""

from __future__ import annotations

import collections
import types
from typing import Any, Awaitable, Coroutine, Deque, Generator, Iterable, Iterator, List, Optional, Set, Tuple

from ._driver import PID, Runtime, check, running
from ._errors import CancelledError
from ._protocol import READY, SUSPEND
from ._tasks import Task, is_coroutine, spawn_task
from ._timeouts import to_nanos

FIRST_COMPLETED = "FIRST_COMPLETED"
FIRST_EXCEPTION = "FIRST_EXCEPTION"
ALL_COMPLETED = "ALL_COMPLETED"


class _Deadline:
    """An armed ``eddy_sleep`` for ``timeout`` seconds (None: never)."""

    __slots__ = ("rt", "fut")

    def __init__(self, rt: Runtime, timeout: Optional[float]) -> None:
        self.rt = rt
        self.fut = 0
        if timeout is not None:
            check(rt.lib.eddy_sleep(rt.h, to_nanos(max(timeout, 0), "timeout"), rt.out_ref))
            self.fut = rt.out.value

    def passed(self) -> bool:
        """Polls with the current task's cx (its waker is kept for the deadline)."""
        if not self.fut:
            return False
        rc = self.rt.lib.eddy_future_poll(self.fut, self.rt.cx)
        return rc == READY or rc < 0

    def close(self) -> None:
        rt = self.rt
        if self.fut and not rt.ended and rt.pid == PID[0]:
            rt.lib.eddy_future_free(self.fut)
        self.fut = 0


def _as_task(rt: Runtime, aw: Any, what: str) -> Task[Any]:
    if isinstance(aw, Task):
        if aw._rt is not rt:
            raise RuntimeError(f"{what}: a task belongs to a different eddy runtime")
        return aw
    raise TypeError(f"{what} needs eddy Tasks, not {type(aw).__name__} (wrap coroutines with eddy.spawn)")


@types.coroutine
def _wait_until(rt: Runtime, tasks: Iterable[Task[Any]], enough: Any, deadline: _Deadline) -> Generator[Any, None, None]:
    """Suspends until ``enough()`` or the deadline passed."""
    me = rt.current
    try:
        while not enough() and not deadline.passed():
            for t in tasks:
                if not t._done and me is not None:
                    t._waiters[me._key] = me
            yield SUSPEND
    finally:
        if me is not None:
            for t in tasks:
                t._waiters.pop(me._key, None)


async def wait(
    aws: Iterable[Task[Any]], *, timeout: Optional[float] = None, return_when: str = ALL_COMPLETED
) -> Tuple[Set[Task[Any]], Set[Task[Any]]]:
    """Wait for the tasks in ``aws``; return ``(done, pending)`` sets, like
    ``asyncio.wait``. ``return_when``: ``FIRST_COMPLETED``, ``FIRST_EXCEPTION``
    or ``ALL_COMPLETED``. A timeout does not raise and cancels nothing."""
    rt = running()
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError(f"Invalid return_when value: {return_when}")
    if is_coroutine(aws) or isinstance(aws, Task):
        raise TypeError(f"expect an iterable of tasks, not {type(aws).__name__}")
    tasks = set(aws)
    if not tasks:
        raise ValueError("Set of Tasks/Futures is empty.")
    for t in tasks:
        _as_task(rt, t, "eddy.wait()")

    def enough() -> bool:
        n_done = 0
        for t in tasks:
            if t._done:
                n_done += 1
                if return_when == FIRST_EXCEPTION and t._exc is not None and not t.cancelled():
                    return True
        if return_when == FIRST_COMPLETED:
            return n_done > 0
        return n_done == len(tasks)

    deadline = _Deadline(rt, timeout)
    try:
        await _wait_until(rt, tasks, enough, deadline)
    finally:
        deadline.close()
    done = {t for t in tasks if t._done}
    return done, tasks - done


def as_completed(aws: Iterable[Awaitable[Any]], *, timeout: Optional[float] = None) -> Iterator[Coroutine[Any, Any, Any]]:
    """Like ``asyncio.as_completed`` (3.11): an iterator of coroutines; awaiting
    the k-th gives the result (or raises the exception) of the k-th task to
    finish. Coroutines are spawned as tasks. After ``timeout`` seconds (from
    this call) the remaining awaits raise ``TimeoutError``."""
    rt = running()
    if is_coroutine(aws) or isinstance(aws, Task):
        raise TypeError(f"expect an iterable of awaitables, not {type(aws).__name__}")
    todo: List[Task[Any]] = []
    for a in aws:
        if isinstance(a, Task):
            todo.append(_as_task(rt, a, "eddy.as_completed()"))
        elif is_coroutine(a):
            todo.append(spawn_task(rt, a))  # type: ignore[arg-type]
        else:
            raise TypeError(f"as_completed() needs tasks or coroutines, not {type(a).__name__}")
    pending: Set[Task[Any]] = set(todo)
    finished: Deque[Task[Any]] = collections.deque()
    deadline = _Deadline(rt, timeout)

    def collect() -> bool:
        for t in list(pending):
            if t._done:
                pending.discard(t)
                finished.append(t)
        return bool(finished)

    async def next_one() -> Any:
        try:
            if not collect():
                await _wait_until(rt, pending, collect, deadline)
            if not finished:
                raise TimeoutError("eddy.as_completed timed out")
            return finished.popleft().result()
        finally:
            if not pending and not finished:
                deadline.close()

    for _ in range(len(todo)):
        yield next_one()


def shield(aw: Awaitable[Any]) -> Task[Any]:
    """Like ``asyncio.shield``: returns at once a task (asyncio: a future) with
    ``aw``'s outcome; a coroutine is spawned now, as asyncio does. Cancelling the
    shield — or the task awaiting it — does not cancel ``aw``, which runs on."""
    rt = running()
    if isinstance(aw, Task):
        inner = _as_task(rt, aw, "eddy.shield()")
    elif is_coroutine(aw):
        inner = spawn_task(rt, aw)  # type: ignore[arg-type]
    else:
        raise TypeError(f"shield() needs a task or a coroutine, not {type(aw).__name__}")
    return spawn_task(rt, _shielded(rt, inner))


async def _shielded(rt: Runtime, inner: Task[Any]) -> Any:
    # Not `await inner`: Task.__await__ cancels the awaited task when the awaiter is
    # cancelled (asyncio's rule for plain awaits); this wait does not.
    try:
        await _wait_until(rt, (inner,), lambda: inner._done, _Deadline(rt, None))
    except CancelledError:
        # As asyncio: once the shield is cancelled, the inner task's failure counts as
        # retrieved (nobody is left to take it).
        inner._exc_retrieved = True
        raise
    return inner.result()


class TaskGroup:
    """``async with eddy.TaskGroup() as tg: tg.create_task(coro)``, with
    asyncio.TaskGroup's semantics (3.11): leaving the block waits for every task;
    the first task failing (other than by cancellation) cancels the others and
    the block's body; the failures are raised together as an ExceptionGroup
    (BaseExceptionGroup for non-Exception ones); KeyboardInterrupt and SystemExit
    are raised as they are."""

    def __init__(self) -> None:
        self._entered = False
        self._exiting = False
        self._aborting = False
        self._rt: Optional[Runtime] = None
        self._parent: Optional[Task[Any]] = None
        self._parent_cancel_requested = False
        self._tasks: Set[Task[Any]] = set()
        self._errors: List[BaseException] = []
        self._base_error: Optional[BaseException] = None

    def __repr__(self) -> str:
        info = [f"tasks={len(self._tasks)}"]
        if self._errors:
            info.append(f"errors={len(self._errors)}")
        if self._aborting:
            info.append("cancelling")
        elif self._entered:
            info.append("entered")
        return f"<eddy.TaskGroup {' '.join(info)}>"

    async def __aenter__(self) -> "TaskGroup":
        if self._entered:
            raise RuntimeError(f"TaskGroup {self!r} has already been entered")
        rt = running()
        self._rt, self._parent = rt, rt.current
        if self._parent is None:
            raise RuntimeError(f"TaskGroup {self!r} cannot determine the parent task")
        self._entered = True
        return self

    def create_task(self, coro: Coroutine[Any, Any, Any], *, name: Optional[str] = None, context: Any = None) -> Task[Any]:
        """Spawn ``coro`` in the group (in a copy of the current context, or ``context``)."""
        if not self._entered or self._rt is None:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} has not been entered")
        if self._exiting and not self._tasks:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} is finished")
        if self._aborting:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} is shutting down")
        task = spawn_task(self._rt, self._child(coro), name, context)
        self._tasks.add(task)
        return task

    async def _child(self, coro: Coroutine[Any, Any, Any]) -> Any:
        # The task's own coroutine awaits `coro` directly: a cancel of the task reaches
        # `coro` at its await point, its result is the task's.
        me = running().current
        try:
            return await coro
        except CancelledError:
            raise
        except BaseException as e:
            if me is not None:
                me._exc_retrieved = True  # reported by the group
            self._errors.append(e)
            if self._base_error is None and isinstance(e, (SystemExit, KeyboardInterrupt)):
                self._base_error = e
            if not self._aborting:
                self._abort()
                parent = self._parent
                if parent is not None and not self._exiting and not parent._done:
                    # The body is still running: stop it (asyncio cancels the parent).
                    self._parent_cancel_requested = True
                    parent.cancel()
            raise
        finally:
            # The parent waiting in __aexit__ is woken when this task finishes (it is
            # registered in the task's _waiters).
            if me is not None:
                self._tasks.discard(me)

    def _abort(self) -> None:
        self._aborting = True
        for t in self._tasks:
            if not t._done:
                t.cancel()

    async def __aexit__(self, et: Any, exc: Any, tb: Any) -> Optional[bool]:
        rt = self._rt
        assert rt is not None
        self._exiting = True
        propagate_cancel: Optional[BaseException] = None
        if exc is not None and isinstance(exc, CancelledError):
            if self._parent_cancel_requested:
                self._parent_cancel_requested = False  # ours: turned into the group's errors
            else:
                propagate_cancel = exc
        if et is not None and not self._aborting:
            self._abort()  # the body failed or was cancelled: the tasks go too
        if exc is not None and isinstance(exc, (SystemExit, KeyboardInterrupt)) and self._base_error is None:
            self._base_error = exc
        while True:
            # By the tasks' own state: a task cancelled before it first ran never runs
            # _child's finally (the coroutine is closed without starting).
            self._tasks = {t for t in self._tasks if not t._done}
            if not self._tasks:
                break
            pending = list(self._tasks)
            try:
                await _wait_until(rt, pending, lambda: all(t._done for t in pending), _Deadline(rt, None))
            except CancelledError as e:
                # Cancelled while waiting: cancel the tasks, wait on, then propagate.
                if not self._aborting:
                    propagate_cancel = e
                    self._abort()
        self._parent_cancel_requested = False
        if self._base_error is not None:
            raise self._base_error
        # Other errors have priority over a cancellation (asyncio's order).
        if propagate_cancel is not None and not self._errors:
            raise propagate_cancel
        if et is not None and exc is not None and not isinstance(exc, CancelledError):
            self._errors.append(exc)
        if self._errors:
            errors = self._errors
            self._errors = []
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", errors) from None
        return None
