"""The driver: Eddy tasks that resume Python coroutines, timers, cancellation.

How a coroutine runs on Eddy
----------------------------
``eddy.run(coro)`` creates a current-thread runtime and spawns ``coro`` as an
Eddy task. Every Python task is an Eddy task whose ``poll_fn`` is ONE shared
``CFUNCTYPE`` object (``_POLL_FN``, module level, alive for the life of the
process) and whose ``state`` is a small integer key into ``_tasks``. The poll
function resumes the coroutine with ``send()``; Eddy awaitables poll their Eddy
future (or poll-style TCP function) with the ``cx`` of the poll in progress and
``yield`` when it says ``EDDY_PENDING``: the coroutine suspends, the poll
function returns ``EDDY_PENDING``, and Eddy polls the task again when the waker
stored by the leaf future fires. No asyncio, no busy polling.

Python-level wake-ups (a task finished, ``cancel()``, Ctrl-C) use the task's own
waker, cloned once on its first poll (``eddy_cx_waker``).

Timeouts: ``eddy.timeout`` arms an ``eddy_sleep`` future with the task's cx; before
resuming the coroutine the poll function polls the task's active timeout sleeps
and, when one fired, throws a ``CancelledError`` into the coroutine at its
current await point; the ``timeout`` context manager turns it into
``TimeoutError``.
"""

from __future__ import annotations

import ctypes
import inspect
import itertools
import os
import signal
import sys
import threading
import types
import warnings
from ctypes import byref, c_int, c_uint64
from typing import (
    Any,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    Generator,
    Generic,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
    TypeVar,
    Union,
)

from . import _lib
from ._errors import (
    CancelledError,
    ForkedError,
    InvalidStateError,
    RuntimeEndedError,
    _TimeoutCancel,
    error_from_code,
)

T = TypeVar("T")

READY = _lib.READY
PENDING = _lib.PENDING


class _Suspend:
    """The only value Eddy awaitables yield to the driver."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<eddy suspend>"


SUSPEND = _Suspend()

# Largest sleep handed to C: ~146 years. Keeps now + delay far from uint64 overflow.
MAX_NANOS = 1 << 62

_state = threading.local()
_tasks: Dict[int, "Task[Any]"] = {}  # key -> live task (C may still call poll/drop)
_keys = itertools.count(1)  # 0 would be a NULL state pointer
_then_pending: Dict[int, Tuple["_Runtime", int, Any]] = {}  # future_then user key -> (rt, future, keep-alive)
_graveyard: List[Any] = []  # memory a blocking call may still touch after its runtime died: kept forever

# os.getpid() is a system call; the hot path compares with this cell instead,
# kept current by a fork handler (os.fork, multiprocessing ... run it).
PID = [os.getpid()]


def _after_fork_in_child() -> None:
    PID[0] = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)


# --------------------------------------------------------------------------------
# The three C callbacks. Each catches everything: an exception escaping a ctypes
# callback is lost and C would read a garbage return value.
# --------------------------------------------------------------------------------


def _poll_cb(state: Optional[int], cx: Optional[int]) -> int:
    # One poll of a task: resume its coroutine until it suspends or ends. Kept
    # in one function (no nested call): it runs once per wake-up.
    try:
        task = _tasks.get(state)
        if task is None:
            return _lib.EINVAL
        rt = task._rt
        if rt._hk:
            rt._housekeep()
        coro = task._coro
        if coro is None:  # finished already (spurious poll)
            return READY
        if not task._waker:
            if rt.lib.eddy_cx_waker(cx, rt.out_ref) >= 0:
                task._waker = rt.out.value
        prev_task, prev_cx, prev_cxarg = rt.current, rt.cx, rt.cxarg
        if cx != rt.cxv:  # the hot-path argument for this cx (usually the same address every poll)
            rt.cxv = cx
            rt.cxv_arg = _lib.u64arg(cx) if cx else None
        rt.current, rt.cx, rt.cxarg = task, cx, rt.cxv_arg
        send = coro.send
        try:
            while True:
                if task._throw is None and not task._cancel_requested and not task._timeouts:
                    exc = None
                else:
                    exc = task._pending_exception(cx)
                try:
                    if exc is None:
                        y = send(None)
                    else:
                        y = coro.throw(exc)
                except StopIteration as si:
                    task._finish(si.value, None)
                    return READY
                except BaseException as e:
                    task._finish(None, e)
                    return READY
                if y is not SUSPEND:
                    task._throw = RuntimeError(
                        f"eddy tasks can only await eddy awaitables; the coroutine yielded {y!r} "
                        "(an asyncio object?)"
                    )
                    continue
                if task._throw is not None or task._cancel_requested:
                    continue
                if task._timeouts and any(t._state == Timeout._FIRED for t in task._timeouts):
                    continue
                return PENDING
        finally:
            rt.current, rt.cx, rt.cxarg = prev_task, prev_cx, prev_cxarg
    except BaseException as e:  # internal error: stop eddy.run with it
        try:
            rt = getattr(_state, "rt", None)
            if rt is not None:
                rt._set_fatal(e)
        except BaseException:
            pass
        return _lib.EINVAL


def _drop_cb(state: Optional[int]) -> None:
    try:
        task = _tasks.pop(state or 0, None)
        if task is not None:
            task._on_drop()
    except BaseException as e:
        try:
            rt = getattr(_state, "rt", None)
            if rt is not None:
                rt._set_fatal(e)
        except BaseException:
            pass


def _then_cb(user: Optional[int], status: int) -> None:
    # Completion of a blocking call whose awaiting task went away: only now may
    # the memory it was given be released.
    try:
        entry = _then_pending.pop(user or 0, None)
        if entry is None:
            return
        rt, fut, keep = entry
        if status == _lib.ECANCELED:
            # The runtime dropped the future (eddy_runtime_free): the worker may
            # still be inside the C function. Keep its memory alive for good.
            _graveyard.append(keep)
        else:
            rt._hk.append((rt.lib.eddy_future_free, fut))
    except BaseException:
        pass


_POLL_FN = _lib.POLL_FN(_poll_cb)
_DROP_FN = _lib.DROP_FN(_drop_cb)
_THEN_FN = _lib.THEN_FN(_then_cb)


# --------------------------------------------------------------------------------
# Runtime
# --------------------------------------------------------------------------------


def _catchable_signals() -> Set[int]:
    return {int(x) for x in signal.valid_signals()} - {int(signal.SIGKILL), int(signal.SIGSTOP)}


class _Runtime:
    """One ``eddy.run`` call: the C runtime handle and the Python-side state."""

    def __init__(self, blocking_threads: int) -> None:
        self.lib = lib = _lib.load()
        self.pid = os.getpid()
        self.thread = threading.get_ident()
        self.ended = False
        self.freeing = False
        self.cx: Optional[int] = None  # cx of the poll in progress (None outside polls)
        self.cxarg: Any = None  # the same, as a hot-path call argument (_lib.u64arg)
        self.cxv: Optional[int] = None  # cache of the last cx converted, and its argument
        self.cxv_arg: Any = None
        fast = _lib.fast()
        self.poll_read = fast.tcp_poll_read  # hot-path prototypes, see _lib
        self.poll_write = fast.tcp_poll_write
        self.current: Optional[Task[Any]] = None
        self.main: Optional[Task[Any]] = None
        self.fatal: Optional[BaseException] = None
        self.hard_stop = False
        self.interrupts = 0
        self._hk: List[Tuple[Callable[[int], int], int]] = []  # deferred C calls (fn, handle)
        self.orphans: List[Coroutine[Any, Any, Any]] = []
        self.out = c_uint64()
        self.out_ref = byref(self.out)
        cfg = _lib.eddy_config_t()
        _check(lib.eddy_config_init(byref(cfg)))
        cfg.flags |= _lib.CONFIG_RETURN_ON_SIGNAL
        cfg.blocking_threads = blocking_threads
        out = c_uint64()
        with _signals_blocked():  # threads Eddy creates inherit a mask without our signals
            _check(lib.eddy_runtime_new(byref(cfg), byref(out)))
        self.h = out.value

    # -- housekeeping: C calls that must not run inside a drop_fn / finalizer --
    def _housekeep(self) -> None:
        hk = self._hk
        while hk:
            fn, h = hk.pop()
            try:
                fn(h)
            except BaseException:
                pass

    def defer(self, fn: Callable[[int], int], h: int) -> None:
        if not self.ended and self.pid == os.getpid():
            self._hk.append((fn, h))

    def _set_fatal(self, e: BaseException) -> None:
        if self.fatal is None:
            self.fatal = e
        if self.main is not None and self.main._h:
            self.lib.eddy_task_abort(self.main._h)

    def spawn(self, coro: Coroutine[Any, Any, T], name: Optional[str] = None) -> "Task[T]":
        task: Task[T] = Task(self, coro, name)
        key = task._key
        _tasks[key] = task
        rc = self.lib.eddy_spawn(self.h, _POLL_FN, key, _DROP_FN, self.out_ref)
        if rc < 0:
            _tasks.pop(key, None)
            task._coro = None
            coro.close()
            raise error_from_code(rc)
        task._h = self.out.value
        return task

    def tasks(self) -> List["Task[Any]"]:
        return [t for t in _tasks.values() if t._rt is self]

    # -- the driver loop --------------------------------------------------------
    def drive(self, task: "Task[Any]") -> None:
        lib = self.lib
        status = c_int()
        while True:
            if self._hk:
                self._housekeep()
            rc = lib.eddy_runtime_run_until(self.h, task._h, byref(status))
            # Python signal handlers run around here, at a bytecode boundary.
            if rc == _lib.EINTR:
                if self.hard_stop:
                    break
                continue
            if rc < 0:
                raise error_from_code(rc)
            break
        if self.fatal is not None:
            raise self.fatal

    def finish(self) -> None:
        """Cancel the tasks still running, let them unwind, free the runtime."""
        lib = self.lib
        try:
            if self.pid != os.getpid():
                return
            left = [t for t in self.tasks() if not t._done]
            if left and not self.hard_stop and self.fatal is None:
                for t in left:
                    t.cancel()
                while True:
                    if self._hk:
                        self._housekeep()
                    rc = lib.eddy_runtime_run(self.h)
                    if rc == _lib.EINTR and not self.hard_stop:
                        continue
                    break
                for t in left:
                    if t._done and t._exc is not None and not isinstance(t._exc, CancelledError):
                        if not t._exc_retrieved:
                            t._exc_retrieved = True
                            warnings.warn(
                                f"unhandled exception in {t!r} during eddy.run() shutdown: {t._exc!r}",
                                RuntimeWarning,
                                stacklevel=2,
                            )
        finally:
            self.ended = True
            self._hk.clear()
            if self.pid == os.getpid():
                self.freeing = True
                try:
                    lib.eddy_runtime_free(self.h)
                finally:
                    self.freeing = False
            for key, t in list(_tasks.items()):
                if t._rt is self:
                    _tasks.pop(key, None)
                    t._on_drop()
            orphans, self.orphans = self.orphans, []
            for coro in orphans:
                try:
                    coro.close()
                except BaseException:
                    pass


class _signals_blocked:
    """Block catchable signals in this thread while Eddy may create threads, so
    that its workers never take a signal meant for the thread in epoll_wait."""

    def __enter__(self) -> None:
        self.old: Optional[Set[int]] = None
        try:
            self.old = signal.pthread_sigmask(signal.SIG_BLOCK, _catchable_signals())
        except (OSError, ValueError):
            self.old = None

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.old)


def _check(rc: int) -> int:
    if rc < 0:
        raise error_from_code(rc)
    return rc


def _running() -> _Runtime:
    """The runtime polling the current task (inside eddy.run, inside a task)."""
    rt: Optional[_Runtime] = getattr(_state, "rt", None)
    if rt is None:
        raise RuntimeError("no running eddy runtime: use eddy.run(main())")
    if rt.pid != os.getpid():
        raise ForkedError()
    if rt.cx is None:
        raise RuntimeError("eddy awaitables can only be awaited inside a task run by eddy.run()")
    return rt


def _current_runtime() -> _Runtime:
    rt: Optional[_Runtime] = getattr(_state, "rt", None)
    if rt is None:
        raise RuntimeError("no running eddy runtime: use eddy.run(main())")
    if rt.pid != os.getpid():
        raise ForkedError()
    return rt


def _owned(rt: _Runtime, what: str) -> _Runtime:
    """Check that an object created by runtime ``rt`` may be used now."""
    if rt.pid != os.getpid():
        raise ForkedError()
    if rt.ended:
        raise RuntimeEndedError(what)
    cur = _running()
    if cur is not rt:
        raise RuntimeError(f"this {what} belongs to a different eddy runtime")
    return rt


# --------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------


class Task(Generic[T]):
    """A coroutine running as an Eddy task. Awaitable; see ``eddy.spawn``."""

    __slots__ = (
        "_rt", "_coro", "_key", "_h", "_waker", "_done", "_result", "_exc", "_exc_retrieved",
        "_cancel_requested", "_cancel_msg", "_throw", "_timeouts", "_waiters", "_name", "__weakref__",
    )

    def __init__(self, rt: _Runtime, coro: Coroutine[Any, Any, T], name: Optional[str]) -> None:
        self._rt = rt
        self._coro: Optional[Coroutine[Any, Any, T]] = coro
        self._key = next(_keys)
        self._h = 0
        self._waker = 0
        self._done = False
        self._result: Any = None
        self._exc: Optional[BaseException] = None
        self._exc_retrieved = False
        self._cancel_requested = False
        self._cancel_msg: Optional[str] = None
        self._throw: Optional[BaseException] = None
        self._timeouts: List[Timeout] = []
        self._waiters: Dict[int, Task[Any]] = {}
        self._name = name or f"Task-{self._key}"

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
        self._cancel_msg = msg
        self._wake()
        return True

    def __await__(self) -> Generator[Any, None, T]:
        rt = _running()
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
        rt = self._rt
        if self._waker and not rt.ended and not rt.freeing and rt.pid == os.getpid():
            rt.lib.eddy_waker_wake(self._waker)
        # Not polled yet: the task is in Eddy's ready queue already.

    def _inject(self, exc: BaseException) -> None:
        """Throw ``exc`` into the coroutine at its current await point."""
        if self._done:
            return
        self._throw = exc
        self._wake()

    def _pending_exception(self, cx: Optional[int]) -> Optional[BaseException]:
        if self._throw is not None:
            e, self._throw = self._throw, None
            return e
        if self._cancel_requested:
            self._cancel_requested = False
            return CancelledError(self._cancel_msg) if self._cancel_msg is not None else CancelledError()
        if self._timeouts:
            lib = self._rt.lib
            fired: Optional[Timeout] = None
            for t in self._timeouts:  # outermost first
                if t._state == Timeout._ARMED:
                    rc = lib.eddy_future_poll(t._fut, cx)
                    if rc == READY or rc < 0:
                        t._state = Timeout._FIRED
                if t._state == Timeout._FIRED and fired is None:
                    fired = t
            if fired is not None:
                # The outermost expired timeout owns this cancellation; inner
                # expired ones let it pass (they must not throw again).
                for t in self._timeouts:
                    if t._state == Timeout._FIRED:
                        t._state = Timeout._THROWN
                return _TimeoutCancel(fired)
        return None

    def _finish(self, result: Any, exc: Optional[BaseException]) -> None:
        self._done = True
        self._result = result
        self._exc = exc
        self._coro = None
        self._timeouts = []
        rt = self._rt
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
        """Eddy is done with this task (completed, aborted, or runtime freed)."""
        rt = self._rt
        if not self._done:
            coro = self._coro
            self._done = True
            self._exc = CancelledError("the task was dropped by the runtime")
            self._coro = None
            if coro is not None:
                rt.orphans.append(coro)
            self._notify()
        if not rt.freeing and not rt.ended:
            if self._waker:
                rt.defer(rt.lib.eddy_waker_free, self._waker)
            if self._h and rt.main is not self:
                rt.defer(rt.lib.eddy_task_free, self._h)
        self._waker = 0

    def __del__(self) -> None:
        try:
            if self._done and self._exc is not None and not self._exc_retrieved and not isinstance(
                self._exc, CancelledError
            ):
                warnings.warn(f"{self!r}: exception was never retrieved: {self._exc!r}", RuntimeWarning)
        except BaseException:
            pass


def spawn(coro: Coroutine[Any, Any, T], *, name: Optional[str] = None) -> Task[T]:
    """Run ``coro`` concurrently as a new task of the running runtime.

    The task starts at the next scheduling point. Dropping the returned Task
    does not stop it (it is detached, like tokio); ``eddy.run`` cancels the tasks
    still running when the main coroutine returns."""
    if not _is_coroutine(coro):
        raise TypeError(f"eddy.spawn() needs a coroutine, not {type(coro).__name__}")
    try:
        rt = _current_runtime()
        if rt.ended:
            raise RuntimeEndedError("runtime")
    except BaseException:
        coro.close()
        raise
    return rt.spawn(coro, name)


def _is_coroutine(obj: object) -> bool:
    """A coroutine, or a generator-based coroutine (``@types.coroutine``, as
    returned by ``TcpStream.read`` ...)."""
    if isinstance(obj, types.CoroutineType):
        return True
    if isinstance(obj, types.GeneratorType):
        return bool(obj.gi_code.co_flags & inspect.CO_ITERABLE_COROUTINE)
    return hasattr(obj, "send") and hasattr(obj, "throw") and hasattr(obj, "close") and hasattr(obj, "__await__")


def current_task() -> Optional[Task[Any]]:
    rt = getattr(_state, "rt", None)
    return rt.current if rt is not None else None


# --------------------------------------------------------------------------------
# eddy.run
# --------------------------------------------------------------------------------


def run(
    main: Coroutine[Any, Any, T],
    *,
    stop_signals: Sequence[int] = (signal.SIGINT,),
    blocking_threads: int = 0,
) -> T:
    """Run the coroutine ``main`` on a new current-thread Eddy runtime and return
    its result (or raise its exception).

    While it runs in the main thread, each signal of ``stop_signals`` whose
    handler is still Python's default is delivered to ``main`` at its current
    await point: SIGINT as ``KeyboardInterrupt``, others as ``SystemExit(128+n)``.
    A second SIGINT stops the run at once. When ``main`` returns, the tasks still
    running are cancelled and awaited; then the runtime is freed (every socket
    it owns is closed)."""
    if not _is_coroutine(main):
        raise TypeError(f"eddy.run() needs a coroutine, not {type(main).__name__}")
    if isinstance(blocking_threads, bool) or not isinstance(blocking_threads, int) or not (
        0 <= blocking_threads <= 1024
    ):
        main.close()
        raise ValueError("blocking_threads must be an int in 0..1024 (0 = Eddy's default)")
    outer: Optional[_Runtime] = getattr(_state, "rt", None)
    if outer is not None:
        if outer.pid == os.getpid():
            main.close()
            raise RuntimeError("eddy.run() cannot be called while another eddy.run() is running in this thread")
        # else: inherited from the parent process by fork(); restored below
    try:
        rt = _Runtime(blocking_threads)
    except BaseException:
        main.close()
        raise
    _state.rt = rt
    saved = _install_signals(rt, stop_signals)
    try:
        task = rt.spawn(main, "main")
        rt.main = task
        rt.drive(task)
        if not task._done:  # aborted by a second Ctrl-C
            raise rt.fatal or KeyboardInterrupt()
        return task.result()
    finally:
        try:
            rt.finish()
        finally:
            _restore_signals(saved)
            _state.rt = outer


def _install_signals(rt: _Runtime, sigs: Sequence[int]) -> List[Tuple[int, Any]]:
    saved: List[Tuple[int, Any]] = []
    if threading.current_thread() is not threading.main_thread():
        return saved
    for s in sigs:
        try:
            old = signal.getsignal(s)
            default = signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL
            if old is not default:
                continue  # the user has their own handler: leave it alone
            signal.signal(s, _make_handler(rt))
            saved.append((s, old))
        except (ValueError, OSError, TypeError):
            continue
    return saved


def _restore_signals(saved: List[Tuple[int, Any]]) -> None:
    for s, old in saved:
        try:
            signal.signal(s, old)
        except (ValueError, OSError, TypeError):
            pass


def _make_handler(rt: _Runtime) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        # Never raises on the first signal: it may run anywhere, including at the
        # entry of a ctypes callback, where an exception would be lost.
        exc: BaseException = KeyboardInterrupt() if signum == signal.SIGINT else SystemExit(128 + signum)
        rt.interrupts += 1
        main = rt.main
        if rt.interrupts == 1 and main is not None and not main._done:
            main._inject(exc)
            return
        # Second signal, or main already finished: stop now.
        rt.hard_stop = True
        if rt.fatal is None:
            rt.fatal = exc
        if main is not None and main._h and not rt.ended:
            rt.lib.eddy_task_abort(main._h)

    return handler


# --------------------------------------------------------------------------------
# Awaiting Eddy futures, sleeping, timeouts
# --------------------------------------------------------------------------------


@types.coroutine
def wait_future(rt: _Runtime, fut: int) -> Generator[Any, None, None]:
    poll = rt.lib.eddy_future_poll
    while True:
        rc = poll(fut, rt.cx)
        if rc == PENDING:
            yield SUSPEND
            continue
        if rc < 0:
            raise error_from_code(rc)
        return


@types.coroutine
def _yield_now(rt: _Runtime) -> Generator[Any, None, None]:
    task = rt.current
    if task is not None:
        task._wake()  # re-queued once this poll returns PENDING
    yield SUSPEND


def to_nanos(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds (int or float), not {type(value).__name__}")
    v = float(value)
    if v != v:
        raise ValueError(f"{what} must not be NaN")
    if v < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")
    if v * 1e9 >= MAX_NANOS:
        return MAX_NANOS
    return int(v * 1e9)


async def sleep(delay: float, result: T = None) -> T:  # type: ignore[assignment]
    """Suspend the current task for ``delay`` seconds (``0`` yields once)."""
    ns = to_nanos(delay, "delay")
    rt = _running()
    if ns == 0:
        await _yield_now(rt)
        return result
    lib = rt.lib
    _check(lib.eddy_sleep(rt.h, ns, rt.out_ref))
    fut = rt.out.value
    try:
        await wait_future(rt, fut)
    finally:
        lib.eddy_future_free(fut)
    return result


class Timeout:
    """``async with eddy.timeout(s):`` — raise ``TimeoutError`` if the block
    takes longer than ``s`` seconds (``None``: no limit). The block is
    interrupted at its current await point."""

    _IDLE, _ARMED, _FIRED, _THROWN, _DONE = range(5)

    __slots__ = ("_ns", "_fut", "_task", "_state", "_rt")

    def __init__(self, delay: Optional[float]) -> None:
        self._ns = None if delay is None else to_nanos(delay, "timeout")
        self._fut = 0
        self._task: Optional[Task[Any]] = None
        self._rt: Optional[_Runtime] = None
        self._state = Timeout._IDLE

    def expired(self) -> bool:
        return self._state in (Timeout._FIRED, Timeout._THROWN)

    async def __aenter__(self) -> "Timeout":
        if self._state != Timeout._IDLE:
            raise RuntimeError("an eddy.timeout() can be entered only once")
        rt = _running()
        task = rt.current
        if task is None:
            raise RuntimeError("eddy.timeout() must be used inside a task")
        self._rt, self._task = rt, task
        if self._ns is None:
            self._state = Timeout._DONE
            return self
        lib = rt.lib
        _check(lib.eddy_sleep(rt.h, self._ns, rt.out_ref))
        self._fut = rt.out.value
        rc = lib.eddy_future_poll(self._fut, rt.cx)  # arms the timer with this task's waker
        self._state = Timeout._FIRED if (rc == READY or rc < 0) else Timeout._ARMED
        task._timeouts.append(self)
        return self

    async def __aexit__(self, et: Any, e: Any, tb: Any) -> None:
        task, rt = self._task, self._rt
        st = self._state
        self._state = Timeout._DONE
        if task is not None and self in task._timeouts:
            task._timeouts.remove(self)
        if self._fut and rt is not None:
            if not rt.ended and rt.pid == os.getpid():
                rt.lib.eddy_future_free(self._fut)
            self._fut = 0
        if st == Timeout._THROWN and isinstance(e, _TimeoutCancel) and e.owner is self:
            self._state = Timeout._THROWN
            raise TimeoutError("eddy.timeout expired") from e
        return None


def timeout(delay: Optional[float]) -> Timeout:
    return Timeout(delay)


async def wait_for(aw: Awaitable[T], timeout: Optional[float]) -> T:
    """Await ``aw`` for at most ``timeout`` seconds; ``TimeoutError`` after that.
    A Task that times out is cancelled; a coroutine is interrupted."""
    t = Timeout(timeout)
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
    rt = _running()
    children: List[Task[Any]] = []
    created: List[Task[Any]] = []
    try:
        for a in aws:
            if isinstance(a, Task):
                if a._rt is not rt:
                    raise RuntimeError("gather(): a task belongs to a different eddy runtime")
                children.append(a)
            elif _is_coroutine(a):
                t: Task[Any] = rt.spawn(a)  # type: ignore[arg-type]
                children.append(t)
                created.append(t)
            elif inspect.isawaitable(a):
                t = rt.spawn(_await_it(a))
                children.append(t)
                created.append(t)
            else:
                raise TypeError(f"gather() arguments must be awaitables, not {type(a).__name__}")
    except BaseException:
        for t in created:
            t.cancel()
        spawned = {id(t) for t in created}
        for a in aws:  # coroutines not turned into tasks: avoid "never awaited"
            if _is_coroutine(a) and not isinstance(a, Task) and id(a) not in spawned:
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
def _wait_all(rt: _Runtime, children: List[Task[Any]], return_exceptions: bool) -> Generator[Any, None, None]:
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
