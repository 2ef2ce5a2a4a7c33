"""Tasks: ``eddy.Task``, ``spawn``, ``current_task``, ``gather``, ``wait_for``.

A Task is a coroutine running as a host-driven Eddy task: ``spawn_task`` takes
an id from the runtime (``eddy_host_spawn``) and registers the Task under it;
the driver (``_driver``) resumes it with each event. What the driver reads of a
Task is the state below (``_send``, ``_last``, ``_attn`` ...); exceptions meant
for it (``cancel()``, signals, fired timeouts) wait in it until the driver
resumes it (``_pending_exception``).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import types
import warnings
from typing import Any, Awaitable, Coroutine, Dict, Generator, Generic, List, Optional, TypeVar

from ._driver import PID, Runtime, check, current_runtime, keys, running, state
from ._errors import CancelledError, InvalidStateError, RuntimeEndedError
from ._protocol import OP_WAIT, SUSPEND, Op
from ._timeouts import Timeout, expired_timeout

T = TypeVar("T")


class Task(Generic[T]):
    """A coroutine running as an Eddy task. Awaitable; see ``eddy.spawn``."""

    __slots__ = (
        "_rt", "_coro", "_send", "_last", "_yielded", "_key", "_waker", "_done", "_result", "_exc", "_exc_retrieved",
        "_cancel_requested", "_cancel_msg", "_throw", "_timeouts", "_waiters", "_name", "_wait", "_attn",
        "_ctx",  # issue 16: the task's contextvars.Context
        "__weakref__",
    )

    def __init__(self, rt: Runtime, coro: Coroutine[Any, Any, T], name: Optional[str], key: int,
                 context: Optional[contextvars.Context] = None) -> None:
        self._rt = rt
        self._coro: Optional[Coroutine[Any, Any, T]] = coro
        # Like asyncio's tasks, each task runs in its own contextvars.Context: a copy of
        # the spawner's, made once here; every step of the coroutine runs inside it.
        # None ("direct"): the spawner's context is the runtime's empty private one,
        # which the task then shares until some task sets a variable (Runtime.pctx).
        if context is not None:
            ctx: Optional[contextvars.Context] = context
        elif rt.direct and rt.pctx is not None and not len(rt.pctx) and (rt.current is None or rt.current._ctx is None):
            ctx = None
        else:
            ctx = contextvars.copy_context()
        self._ctx = ctx
        # The driver's hot path: one attribute, no method lookup.
        self._send: Any = coro.send if ctx is None else functools.partial(ctx.run, coro.send)
        # The repeating op submitted for the task, no attention pending since:
        # yielding it again needs no entry in the next turn (Eddy repeats it).
        # Cleared whenever the task needs the driver's full path.
        self._last: Optional[Op] = None
        # What the task last yielded to the driver: set by the driver's full path;
        # the hot path passes only when it yields _last again, which that path set
        # together with this. Tells which stream read() the task waits in.
        self._yielded: Any = None
        self._key = key  # the host task's id
        self._wait = Op(OP_WAIT, 0, 0, 0)  # the operation "wait for my waker"
        self._wait.own(self)
        self._waker = 0  # a waker handle, taken when a thread needs one (_get_waker)
        self._done = False
        self._result: Any = None
        self._exc: Optional[BaseException] = None
        self._exc_retrieved = False
        self._cancel_requested = False
        self._attn = False  # _throw, _cancel_requested or _timeouts set: the driver must look
        self._cancel_msg: Optional[str] = None
        self._throw: Optional[BaseException] = None
        self._timeouts: List[Timeout] = []
        self._waiters: Dict[int, Task[Any]] = {}
        self._name = name or f"Task-{next(keys)}"

    def __repr__(self) -> str:
        st = "pending"
        if self._done:
            st = "cancelled" if isinstance(self._exc, CancelledError) else ("failed" if self._exc else "done")
        return f"<eddy.Task {self._name} {st}>"

    # -- public API -------------------------------------------------------------
    def get_name(self) -> str:
        return self._name

    def done(self) -> bool:
        return self._done

    def cancelled(self) -> bool:
        return self._done and isinstance(self._exc, CancelledError)

    def result(self) -> T:
        if not self._done:
            raise InvalidStateError("result is not set: the task is not done")
        if self._exc is not None:
            self._exc_retrieved = True
            raise self._exc
        return self._result  # type: ignore[no-any-return]

    def exception(self) -> Optional[BaseException]:
        if not self._done:
            raise InvalidStateError("exception is not set: the task is not done")
        if isinstance(self._exc, CancelledError):
            raise self._exc
        self._exc_retrieved = True
        return self._exc

    def cancel(self, msg: Optional[str] = None) -> bool:
        """Ask the task to stop: ``CancelledError`` is raised inside it at its
        current await point (or its next one, when it cancels itself). Returns
        False when the task is already done. Safe from any task."""
        if self._done:
            return False
        self._cancel_requested = True
        self._attn = True
        self._last = None
        self._cancel_msg = msg
        self._wake()
        return True

    def __await__(self) -> Generator[Any, None, T]:
        rt = running()
        me = rt.current
        if me is self:
            raise RuntimeError("a task cannot await itself")
        if self._rt is not rt:
            raise RuntimeError("this task belongs to a different eddy runtime")
        try:
            while not self._done:
                if me is not None:
                    self._waiters[me._key] = me
                try:
                    yield SUSPEND
                except CancelledError:
                    # like asyncio: cancelling the awaiter cancels the awaited task
                    self.cancel()
                    raise
        finally:
            if me is not None:
                self._waiters.pop(me._key, None)
        return self.result()

    # -- driver side ------------------------------------------------------------
    def _wake(self) -> None:
        """Resume the task soon (its current await re-checks). Loop thread."""
        rt = self._rt
        if not self._done and not rt.ended and not rt.freeing and rt.pid == PID[0]:
            rt.lib.eddy_host_wake(rt.h, self._key)

    def _get_waker(self) -> int:
        """A waker handle of this task, for other threads (eddy_waker_wake).
        Inside the task only; freed when the task ends."""
        if not self._waker:
            rt = self._rt
            check(rt.lib.eddy_cx_waker(rt.cx, rt.out_ref))
            self._waker = rt.out.value
        return self._waker

    def _inject(self, exc: BaseException) -> None:
        """Throw ``exc`` into the coroutine at its current await point."""
        if self._done:
            return
        self._throw = exc
        self._attn = True
        self._last = None
        self._wake()

    def _pending_exception(self) -> Optional[BaseException]:
        e = self._pending()
        self._attn = self._throw is not None or self._cancel_requested or bool(self._timeouts)
        return e

    def _pending(self) -> Optional[BaseException]:
        if self._throw is not None:
            e, self._throw = self._throw, None
            return e
        if self._cancel_requested:
            self._cancel_requested = False
            return CancelledError(self._cancel_msg) if self._cancel_msg is not None else CancelledError()
        if self._timeouts:
            return expired_timeout(self._rt, self._timeouts)
        return None

    def _finish(self, result: Any, exc: Optional[BaseException]) -> None:
        self._done = True
        self._result = result
        self._exc = exc
        self._coro = self._send = None
        self._timeouts = []
        self._attn = False
        rt = self._rt
        if self._waker:
            rt.lib.eddy_waker_free(self._waker)  # a thread still holding it gets EBADHANDLE
            self._waker = 0
        if exc is not None and isinstance(exc, (KeyboardInterrupt, SystemExit)) and rt.main is not self:
            # Like asyncio: these stop eddy.run; deliver to the main coroutine.
            self._exc_retrieved = True
            if rt.main is not None:
                rt.main._inject(exc)
        self._notify()

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, {}
        for w in waiters.values():
            w._wake()

    def _on_drop(self) -> None:
        """The runtime was freed while the task had not finished."""
        rt = self._rt
        if not self._done:
            coro = self._coro
            self._done = True
            self._exc = CancelledError("the task was dropped by the runtime")
            self._coro = self._send = None
            if coro is not None:
                rt.orphans.append(coro)
            self._notify()
        self._waker = 0  # freed with the runtime

    def __del__(self) -> None:
        try:
            if self._done and self._exc is not None and not self._exc_retrieved and not isinstance(
                self._exc, CancelledError
            ):
                warnings.warn(f"{self!r}: exception was never retrieved: {self._exc!r}", RuntimeWarning)
        except BaseException:
            pass


def spawn_task(rt: Runtime, coro: Coroutine[Any, Any, T], name: Optional[str] = None,
               context: Optional[contextvars.Context] = None) -> Task[T]:
    """A new task of ``rt`` running ``coro`` (closed if there is none), in ``context``
    (default: a copy of the current one)."""
    task: Task[T] = Task(rt, coro, name, rt.new_task_id(coro), context)
    rt.add(task)
    return task


def spawn(coro: Coroutine[Any, Any, T], *, name: Optional[str] = None,
          context: Optional[contextvars.Context] = None) -> Task[T]:
    """Run ``coro`` concurrently as a new task of the running runtime.

    The task starts at the next scheduling point. Dropping the returned Task
    does not stop it (it is detached, like tokio); ``eddy.run`` cancels the tasks
    still running when the main coroutine returns. Like ``asyncio.create_task``,
    the task runs in a copy of the current ``contextvars`` context (or in
    ``context``): values it sets are its own."""
    if not is_coroutine(coro):
        raise TypeError(f"eddy.spawn() needs a coroutine, not {type(coro).__name__}")
    try:
        rt = current_runtime()
        if rt.ended or rt.stopping is not None:  # eddy.shutdown(): spawns refused
            raise RuntimeEndedError("runtime")
    except BaseException:
        coro.close()
        raise
    return spawn_task(rt, coro, name, context)


def is_coroutine(obj: object) -> bool:
    """A coroutine, or a generator-based coroutine (``@types.coroutine``, as
    returned by ``TcpStream.read`` ...)."""
    if isinstance(obj, types.CoroutineType):
        return True
    if isinstance(obj, types.GeneratorType):
        return bool(obj.gi_code.co_flags & inspect.CO_ITERABLE_COROUTINE)
    return hasattr(obj, "send") and hasattr(obj, "throw") and hasattr(obj, "close") and hasattr(obj, "__await__")


def current_task() -> Optional[Task[Any]]:
    rt = getattr(state, "rt", None)
    return rt.current if rt is not None else None


# --------------------------------------------------------------------------------
# Awaiting with a limit, awaiting several
# --------------------------------------------------------------------------------


async def wait_for(aw: Awaitable[T], timeout: Optional[float]) -> T:
    """Await ``aw`` for at most ``timeout`` seconds; ``TimeoutError`` after that.
    A Task that times out is cancelled; a coroutine is interrupted."""
    try:
        t = Timeout(timeout)
    except BaseException:
        if is_coroutine(aw) and not isinstance(aw, Task):
            aw.close()  # type: ignore[attr-defined]  # never awaited: no warning about it
        raise
    if isinstance(aw, Task):
        async with t:
            return await aw
    if not inspect.isawaitable(aw):
        raise TypeError(f"an awaitable is required, not {type(aw).__name__}")
    async with t:
        return await aw
    raise AssertionError("unreachable")  # pragma: no cover


async def _await_it(aw: Awaitable[T]) -> T:
    return await aw


async def gather(*aws: Awaitable[Any], return_exceptions: bool = False) -> List[Any]:
    """Run the awaitables concurrently; return their results in order.

    Coroutines are wrapped in tasks. Without ``return_exceptions`` the first
    exception is raised as soon as it happens and the tasks gather created are
    cancelled; with it, exceptions are returned in place of results."""
    rt = running()
    children: List[Task[Any]] = []
    created: List[Task[Any]] = []
    try:
        for a in aws:
            if isinstance(a, Task):
                if a._rt is not rt:
                    raise RuntimeError("gather(): a task belongs to a different eddy runtime")
                children.append(a)
            elif is_coroutine(a):
                t: Task[Any] = spawn_task(rt, a)  # type: ignore[arg-type]
                children.append(t)
                created.append(t)
            elif inspect.isawaitable(a):
                t = spawn_task(rt, _await_it(a))
                children.append(t)
                created.append(t)
            else:
                raise TypeError(f"gather() arguments must be awaitables, not {type(a).__name__}")
    except BaseException:
        for t in created:
            t.cancel()
        spawned = {id(t) for t in created}
        for a in aws:  # coroutines not turned into tasks: avoid "never awaited"
            if is_coroutine(a) and not isinstance(a, Task) and id(a) not in spawned:
                if not any(t._coro is a for t in created):
                    try:
                        a.close()  # type: ignore[attr-defined]
                    except BaseException:
                        pass
        raise
    try:
        await _wait_all(rt, children, return_exceptions)
    except BaseException:
        for t in created:
            t.cancel()
        raise
    out: List[Any] = []
    for c in children:
        if c._exc is not None:
            c._exc_retrieved = True
            out.append(c._exc)
        else:
            out.append(c._result)
    return out


@types.coroutine
def _wait_all(rt: Runtime, children: List[Task[Any]], return_exceptions: bool) -> Generator[Any, None, None]:
    me = rt.current
    try:
        while True:
            pending = False
            for c in children:
                if c._done:
                    if not return_exceptions and c._exc is not None:
                        c._exc_retrieved = True
                        raise c._exc
                else:
                    pending = True
                    if me is not None:
                        c._waiters[me._key] = me
            if not pending:
                return
            yield SUSPEND
    finally:
        if me is not None:
            for c in children:
                c._waiters.pop(me._key, None)
