"""The driver: Eddy tasks that resume Python coroutines, timers, cancellation.

How a coroutine runs on Eddy
----------------------------
``eddy.run(coro)`` creates a current-thread runtime and runs the driver loop
(``_Runtime.drive``) in Python. Every Python task is a *host-driven* Eddy task
(``eddy_host_spawn``, see include/eddy.h): Eddy never calls back into Python to
poll it. Instead each loop turn is ONE call, ``eddy_host_turn``, that hands Eddy
the operation each task resumed in the previous turn is now waiting for, runs
the runtime until some operation completed, and returns their events; the
driver then resumes those coroutines in a plain Python loop (``send()``).

An awaitable tells the driver what it waits for by what it yields:
  - an ``_Op`` (``TcpStream.read`` / ``write``): a read into / write from a
    buffer, performed by Eddy (at once when possible, else when the socket is
    ready); the byte count or error code is sent back into the generator;
  - ``SUSPEND``: wait for the task's waker. Such awaitables (futures, accept,
    timeouts ...) poll their Eddy leaf with ``rt.cx``: the first use in a
    resumption publishes the task's context (``eddy_host_enter``), so C leaf
    futures store the task's waker as inside a poll_fn.
A wake that does not complete the operation (timer, ``cancel()``, Ctrl-C,
a finished task's waiters, ``eddy_host_wake``) ends it with ``EDDY_HOST_WOKEN``
(``None`` is sent): the awaitable re-checks and yields again.

Timeouts: ``eddy.timeout`` arms an ``eddy_sleep`` future with the task's cx;
when the task is resumed the driver polls the task's active timeout sleeps and,
when one fired, throws a ``CancelledError`` into the coroutine at its current
await point; the ``timeout`` context manager turns it into ``TimeoutError``.
"""

from __future__ import annotations

import ctypes
import inspect
from array import array
import itertools
import os
import signal
import sys
import threading
import types
import warnings
import weakref
from ctypes import byref, c_uint64, c_void_p
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

from . import _lib, _sigpipe
from ._errors import (
    CancelledError,
    ForkedError,
    InvalidArgumentError,
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

OP_WAIT = _lib.HOST_OP_WAIT
OP_READ = _lib.HOST_OP_READ
OP_WRITE = _lib.HOST_OP_WRITE
OP_FINISH = _lib.HOST_OP_FINISH
OP_REPEAT = _lib.HOST_OP_REPEAT
WOKEN = _lib.HOST_WOKEN
EINTR = _lib.EINTR
TURN_EVENTS = 256  # events per eddy_host_turn (more wait for the next turn)
_START = object()  # _Runtime._resume: not resumed yet
_UNCLAIMED = object()  # _Op.task before a task owns it
SLOT_MASK = 0xFFFFFFFF  # a host task id's slot (include/eddy.h, eddy_host_spawn)


class _Op:
    """An operation for Eddy (an ``eddy_host_op_t`` in ``rec``: task id, op,
    handle, buffer address, length). Yielded by TcpStream.read/write (and
    submitted for a task waiting for its waker or finishing): the next turn gets
    its address. The yielding generator keeps it and its buffer alive until the
    event answers it. ``task`` is the task whose id ``rec[0]`` holds."""

    __slots__ = ("rec", "addr", "arg", "task", "stream")

    def __init__(self, op: int, h: int, buf: int, length: int, stream: Any = None) -> None:
        self.rec = array("Q", (0, op, h, buf, length))
        self.addr = self.rec.buffer_info()[0]
        self.arg = _lib.u64arg(self.addr)  # for eddy_host_write
        # Never None, which is a runtime's ``current`` outside its tasks: a check
        # ``op.task is rt.current`` then never passes for an unclaimed op.
        self.task: Any = _UNCLAIMED
        # A stream's read op: weak reference to the stream, whose checks let the
        # driver hand the op to the task that yields it (see claim).
        self.stream = weakref.ref(stream) if stream is not None else None

    def own(self, task: "Task[Any]") -> None:
        self.rec[0] = task._key
        self.task = task

    def claim(self) -> Optional[BaseException]:
        """The current task yielded this op, owned by another task: read() skips
        the ownership check (the driver's full path sees every such yield), so a
        stream's read op changes hands here, after the stream's checks. Returns
        the exception to throw instead (another task waiting, closed, another
        runtime, not a stream's op)."""
        stream = self.stream() if self.stream is not None else None
        if stream is None:
            return RuntimeError("this eddy operation belongs to another task (or another runtime)")
        try:
            stream._claim(self, "_reader")
        except BaseException as e:
            return e
        return None

# Largest sleep handed to C: ~146 years. Keeps now + delay far from uint64 overflow.
MAX_NANOS = 1 << 62

_state = threading.local()
_keys = itertools.count(1)  # task names, then_fn user keys (0 would be a NULL pointer)
_then_pending: Dict[int, Tuple["_Runtime", int, Any]] = {}  # future_then user key -> (rt, future, keep-alive)
_graveyard: List[Any] = []  # memory a blocking call may still touch after its runtime died: kept forever

# os.getpid() is a system call; the hot path compares with this cell instead,
# kept current by a fork handler (os.fork, multiprocessing ... run it).
PID = [os.getpid()]


def _after_fork_in_child() -> None:
    PID[0] = os.getpid()
    rt: Optional[_Runtime] = getattr(_state, "rt", None)
    if rt is not None:
        # A task forked: in the child it runs on to its next await and the driver
        # finishes its batch. Nothing may reach the parent's sockets from here:
        # with no current task every stream call takes the checked path (which
        # raises ForkedError), and no other task is resumed.
        rt.current = None
        rt.by_slot[:] = [None] * len(rt.by_slot)


os.register_at_fork(after_in_child=_after_fork_in_child)


# --------------------------------------------------------------------------------
# The C callback (blocking calls). It catches everything: an exception escaping
# a ctypes callback is lost and C would read a garbage return value.
# --------------------------------------------------------------------------------


def _then_cb(user: Optional[int], status: int) -> None:
    # Completion of a blocking call whose awaiting task went away: only now may
    # the memory it was given be released.
    # Nothing may escape to ctypes: it would print it and C would go on.
    try:
        key = user or 0
        entry = _then_pending.get(key)
        if entry is None:
            return
        rt, fut, keep = entry
        if status == _lib.ECANCELED:
            # The runtime dropped the future (eddy_runtime_free): the worker may
            # still be inside the C function. Keep its memory alive for good.
            _graveyard.append(keep)
        else:
            rt._hk.append((rt.lib.eddy_future_free, fut))
        del _then_pending[key]  # only once the memory is accounted for
    except BaseException:
        pass  # the entry stays in _then_pending: its memory is kept for good


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
        self._cx: Optional[int] = None  # cx published for _cxtask in this turn (see cx)
        self._cxtask: Optional[Task[Any]] = None
        self.current: Optional[Task[Any]] = None
        self.main: Optional[Task[Any]] = None
        self.fatal: Optional[BaseException] = None
        self.hard_stop = False
        self.interrupts = 0
        self.wakeup: Optional[Any] = None  # _wakeup.SignalWakeup of a main-thread run
        self._hk: List[Tuple[Callable[[int], int], int]] = []  # deferred C calls (fn, handle)
        self.orphans: List[Coroutine[Any, Any, Any]] = []
        # Live tasks by slot (their host id's low 32 bits, small and dense): what
        # the driver looks events up with (no big-int key per event).
        self.by_slot: List[Optional[Task[Any]]] = [None] * 64
        self.out = c_uint64()
        self.out_ref = byref(self.out)
        self.cxout = c_void_p()
        self.cxout_ref = byref(self.cxout)
        # eddy_host_turn's buffers (fixed size: their addresses are passed once):
        # addresses of the operations to submit, events
        self.ops = array("Q", [0]) * TURN_EVENTS
        self.keep: List[_Op] = []  # FINISH records: alive until the turn read them
        self.events = array("q", [0]) * (2 * TURN_EVENTS)
        self.event_views: List[Optional[Tuple[memoryview, memoryview]]] = [None] * (TURN_EVENTS + 1)
        self.nops = 0
        self._check = False  # _hk, fatal or hard_stop set: the driver loop must look
        fast = _lib.fast()
        self.turn = fast.host_turn
        self.host_write = fast.host_write  # hot-path prototype, see _lib
        cfg = _lib.eddy_config_t()
        _check(lib.eddy_config_init(byref(cfg)))
        cfg.flags |= _lib.CONFIG_RETURN_ON_SIGNAL
        cfg.blocking_threads = blocking_threads
        out = c_uint64()
        with _signals_blocked():  # threads Eddy creates inherit a mask without our signals
            _check(lib.eddy_runtime_new(byref(cfg), byref(out)))
        self.h = out.value
        # eddy_host_batch_t: rt, ops, nops, events, cap, n (the driver sets nops, reads n)
        self.batch = array("Q", (self.h, self.ops.buffer_info()[0], 0, self.events.buffer_info()[0], TURN_EVENTS, 0))

    @property
    def cx(self) -> Optional[int]:
        """The ``eddy_cx_t*`` of the task being resumed (None outside tasks):
        published on first use in each resumption (``eddy_host_enter``)."""
        task = self.current
        if task is self._cxtask:
            return self._cx
        if task is None or task._done:
            return None
        rc = self.lib.eddy_host_enter(self.h, task._key, self.cxout_ref)
        if rc < 0:
            raise error_from_code(rc)
        self._cxtask = task
        self._check = True  # forget it before the next turn
        cx = self._cx = self.cxout.value
        return cx

    # -- housekeeping: C calls deferred from finalizers --------------------------
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
            self._check = True

    def _set_fatal(self, e: BaseException) -> None:
        if self.fatal is None:
            self.fatal = e
        self._check = True

    def spawn(self, coro: Coroutine[Any, Any, T], name: Optional[str] = None) -> "Task[T]":
        rc = self.lib.eddy_host_spawn(self.h, self.out_ref)
        if rc < 0:
            coro.close()
            raise error_from_code(rc)
        key = self.out.value
        task: Task[T] = Task(self, coro, name, key)
        slot = key & SLOT_MASK
        by_slot = self.by_slot
        if slot >= len(by_slot):
            by_slot.extend([None] * (slot + 1 - len(by_slot) + len(by_slot) // 2))
        by_slot[slot] = task
        return task

    def tasks(self) -> List["Task[Any]"]:
        return [t for t in self.by_slot if t is not None]

    # -- the driver loop --------------------------------------------------------
    def _event_view(self, n: int) -> Tuple[memoryview, memoryview]:
        """The first ``n`` events as 32-bit halves: each event's slot (its task
        id's low half) and result (every result fits: lengths stay below 2**31),
        at a 4-word stride. Views of the fixed events buffer: made once per n."""
        ev32 = memoryview(self.events).cast("B").cast("i")
        slot_at, res_at = (0, 2) if sys.byteorder == "little" else (1, 3)
        return ev32[slot_at : 4 * n : 4], ev32[res_at : 4 * n : 4]

    def drive(self, until: Any) -> None:
        """Turn the loop and resume tasks until ``until._done`` (a Task, or
        _AllDone), a fatal error or a second Ctrl-C."""
        turn = self.turn
        ops, by_slot, batch = self.ops, self.by_slot, self.batch
        # The events as 32-bit halves: each event's slot (the id's low half) and
        # result (every result fits: lengths stay below 2**31) at a 4-word stride.
        views = self.event_views
        batcharg = _lib.u64arg(batch.buffer_info()[0])
        j = self.nops
        while not until._done:
            if self._check:  # rare work, flagged where it arises
                self._check = False
                self._cxtask = self._cx = None  # the turn unpublishes it
                if self.keep:
                    self._check = True  # cleared after this turn
                if self._hk:
                    self._housekeep()
                if self.fatal is not None or self.hard_stop:
                    self._check = True
                    break
            batch[2] = j
            rc = turn(batcharg)
            j = 0
            if self.keep and self._check:
                self.keep.clear()
            # Python signal handlers run around here, at a bytecode boundary.
            if rc < 0:
                if rc == EINTR:
                    continue
                self.nops = 0
                raise error_from_code(rc)
            # The hot path: a byte count for a task with nothing pending, resumed
            # until its next read/write. Everything else goes through _resume.
            n = batch[5]
            v = views[n]
            if v is None:
                v = views[n] = self._event_view(n)
            for slot, res in zip(*v):
                task = by_slot[slot]
                if task is None:  # pragma: no cover - an event names a running task
                    continue
                self.current = task
                if res >= 0:  # sent in even with an exception pending (it comes next)
                    try:
                        y = task._send(res)
                    except BaseException as e:
                        y = self._ended(task, e)
                    else:
                        if y is task._last:  # Eddy repeats it: no entry
                            continue
                        y = self._resume(task, task._coro, None, y)
                else:
                    y = self._resume(task, task._coro, res, _START)
                task._yielded = y
                if y.__class__ is _Op:
                    ops[j] = y.addr
                    # A repeating op (OP_REPEAT): Eddy repeats it at each turn that
                    # does not name the task, so yielding it again needs no entry.
                    task._last = y if y.rec[1] & OP_REPEAT and not task._attn else None
                elif y is SUSPEND:
                    ops[j] = task._wait.addr
                    task._last = None
                else:  # finished
                    w = task._wait
                    w.rec[1] = OP_FINISH
                    self.keep.append(w)
                    self._check = True
                    ops[j] = w.addr
                    by_slot[task._key & SLOT_MASK] = None
                j += 1
            self.current = None
        self.nops = j
        self._cxtask = self._cx = None
        if self.fatal is not None:
            raise self.fatal

    def _ended(self, task: "Task[Any]", e: BaseException) -> None:
        if task._done:  # pragma: no cover - by_slot holds running tasks only
            return None
        if isinstance(e, StopIteration):
            task._finish(e.value, None)
        else:
            task._finish(None, e)
        return None

    def _resume(self, task: "Task[Any]", coro: Any, res: Any, y: Any) -> Any:
        """Resume ``task`` (``y is _START``: with event result ``res``) or carry on
        after it yielded ``y``, until it waits for something (returns what it
        yielded) or ends (returns None). Delivers pending exceptions (cancel,
        injected, timeouts) at the await point. A byte count is always sent in,
        even with an exception pending: the exception comes at the next await."""
        exc: Optional[BaseException] = None
        if y is _START and res < 0:
            if res == WOKEN:
                res = None
            if task._attn:
                exc = task._pending_exception()
        while True:
            if y is _START:
                try:
                    if exc is None:
                        y = coro.send(res)
                    else:
                        y = coro.throw(exc)
                except BaseException as e:
                    return self._ended(task, e)
            if y.__class__ is _Op and y.task is not task:
                exc = y.claim()  # a stream's read op, first read of this task; or misuse
                if exc is not None:
                    y = _START
                    res = None
                    continue
            if y is SUSPEND or y.__class__ is _Op:
                if not task._attn:
                    return y
                exc = task._pending_exception()
                if exc is None:
                    return y
            else:
                exc = RuntimeError(
                    f"eddy tasks can only await eddy awaitables; the coroutine yielded {y!r} (an asyncio object?)"
                )
            y = _START
            res = None

    def finish(self) -> None:
        """Cancel the tasks still running, let them unwind, free the runtime."""
        lib = self.lib
        try:
            if self.pid != os.getpid():
                return
            w = self.wakeup  # its task keeps waking the loop for signals until the end
            left = [t for t in self.tasks() if not t._done and (w is None or t is not w.task)]
            if left and not self.hard_stop and self.fatal is None:
                for t in left:
                    t.cancel()
                try:
                    self.drive(_AllDone(left))
                except BaseException:
                    pass
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
                    if self.wakeup is not None:
                        self.wakeup.unwatch()  # freed by us, not force-closed by the runtime
                    lib.eddy_runtime_free(self.h)
                finally:
                    self.freeing = False
            tasks, self.by_slot = self.tasks(), []
            # The main task holds main's result, which may hold streams whose
            # finalizers hold this runtime: nothing of the runtime may keep a
            # task alive once it is freed, or they all live forever.
            self.main = None
            self.keep.clear()  # FINISH records (their tasks): no turn reads them now
            for t in tasks:
                t._on_drop()
            orphans, self.orphans = self.orphans, []
            for coro in orphans:
                try:
                    coro.close()
                except BaseException:
                    pass


class _AllDone:
    """``_done`` once every task of ``tasks`` is (for _Runtime.drive)."""

    def __init__(self, tasks: List["Task[Any]"]) -> None:
        self.tasks = tasks

    @property
    def _done(self) -> bool:
        return all(t._done for t in self.tasks)


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
    if rt.current is None:
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
        "_rt", "_coro", "_send", "_last", "_yielded", "_key", "_waker", "_done", "_result", "_exc", "_exc_retrieved",
        "_cancel_requested", "_cancel_msg", "_throw", "_timeouts", "_waiters", "_name", "_wait", "_attn",
        "__weakref__",
    )

    def __init__(self, rt: _Runtime, coro: Coroutine[Any, Any, T], name: Optional[str], key: int) -> None:
        self._rt = rt
        self._coro: Optional[Coroutine[Any, Any, T]] = coro
        self._send: Any = coro.send  # the driver's hot path: one attribute, no method lookup
        # The repeating op submitted for the task, no attention pending since:
        # yielding it again needs no entry in the next turn (Eddy repeats it).
        # Cleared whenever the task needs the driver's full path.
        self._last: Optional[_Op] = None
        # What the task last yielded to the driver: set by the driver's full path;
        # the hot path passes only when it yields _last again, which that path set
        # together with this. Tells which stream read() the task waits in.
        self._yielded: Any = None
        self._key = key  # the host task's id
        self._wait = _Op(OP_WAIT, 0, 0, 0)  # the operation "wait for my waker"
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
        self._name = name or f"Task-{next(_keys)}"

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
        """Resume the task soon (its current await re-checks). Loop thread."""
        rt = self._rt
        if not self._done and not rt.ended and not rt.freeing and rt.pid == PID[0]:
            rt.lib.eddy_host_wake(rt.h, self._key)

    def _get_waker(self) -> int:
        """A waker handle of this task, for other threads (eddy_waker_wake).
        Inside the task only; freed when the task ends."""
        if not self._waker:
            rt = self._rt
            _check(rt.lib.eddy_cx_waker(rt.cx, rt.out_ref))
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
            rt = self._rt
            lib, cx = rt.lib, rt.cx
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
    A second SIGINT stops the run at once. In the main thread a signal wake-up fd
    (``signal.set_wakeup_fd``) is set for the run, so every Python signal handler
    runs as soon as its signal arrives, even while the loop idles; the previous
    one is restored at the end. When ``main`` returns, the tasks still
    running are cancelled and awaited; then the runtime is freed (every socket
    it owns is closed)."""
    if not _is_coroutine(main):
        raise TypeError(f"eddy.run() needs a coroutine, not {type(main).__name__}")
    if isinstance(blocking_threads, bool) or not isinstance(blocking_threads, int) or not (
        0 <= blocking_threads <= 1024
    ):
        main.close()
        raise InvalidArgumentError("blocking_threads must be an int in 0..1024 (0 = Eddy's default)")
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
    pipe_was_blocked = _sigpipe.block()  # TcpStream.write's os.write: EPIPE, not a signal
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
            _sigpipe.restore(pipe_was_blocked)
            _restore_signals(saved)
            _state.rt = outer


class _Signals:
    """What eddy.run changed about signals: handlers (with the previous ones)
    and the wake-up descriptor (see _wakeup.py)."""

    __slots__ = ("handlers", "wakeup")

    def __init__(self) -> None:
        self.handlers: List[Tuple[int, Any]] = []
        self.wakeup: Optional[Any] = None


def _install_signals(rt: _Runtime, sigs: Sequence[int]) -> _Signals:
    saved = _Signals()
    if threading.current_thread() is not threading.main_thread():
        return saved  # only the main thread runs Python signal handlers
    for s in sigs:
        try:
            old = signal.getsignal(s)
            default = signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL
            if old is not default:
                continue  # the user has their own handler: leave it alone
            signal.signal(s, _make_handler(rt))
            saved.handlers.append((s, old))
        except (ValueError, OSError, TypeError):
            continue
    # Also for handlers that are not eddy's: every Python handler waits for the
    # turn to return, and the wake-up descriptor is what makes it return.
    from ._wakeup import SignalWakeup

    try:
        saved.wakeup = rt.wakeup = SignalWakeup.install(rt)
    except Exception as e:  # e.g. EMFILE: run as before, with the known limit
        warnings.warn(
            f"eddy.run(): no signal wake-up descriptor ({e!r}); a signal may wait for the next event",
            RuntimeWarning,
            stacklevel=3,
        )
    return saved


def _restore_signals(saved: _Signals) -> None:
    if saved.wakeup is not None:
        saved.wakeup.uninstall()
    for s, old in saved.handlers:
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
        rt._check = True
        if rt.fatal is None:
            rt.fatal = exc
        if main is not None and not rt.ended:
            main._wake()  # the loop sees hard_stop after this turn

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
    try:
        t = Timeout(timeout)
    except BaseException:
        if _is_coroutine(aw) and not isinstance(aw, Task):
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
