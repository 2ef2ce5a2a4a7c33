"""The driver: one ``eddy.run``'s runtime and the loop that resumes its tasks.

How a coroutine runs on Eddy
----------------------------
``eddy.run(coro)`` (``_runners``) creates a current-thread runtime and runs the
driver loop (``Runtime.drive``) in Python. Every Python task (``_tasks``) is a
*host-driven* Eddy task (``eddy_host_spawn``, see include/eddy.h): Eddy never
calls back into Python to poll it. Instead each loop turn is ONE call,
``eddy_host_turn``, that hands Eddy the operation each task resumed in the
previous turn is now waiting for, runs the runtime until some operation
completed, and returns their events; the driver then resumes those coroutines
in a plain Python loop (``send()``).

What a task yields to wait (``SUSPEND`` or an ``Op``) is ``_protocol``'s.
Awaitables that wait for their task's waker poll their Eddy leaf with
``rt.cx``: the first use in a resumption publishes the task's context
(``eddy_host_enter``), so C leaf futures store the task's waker as inside a
poll_fn.

Timeouts (``_timeouts``): ``eddy.timeout`` arms an ``eddy_sleep`` future with
the task's cx; when the task is resumed the driver asks the task for a pending
exception (``Task._pending_exception``), which polls its active timeout sleeps;
one that fired is thrown into the coroutine at its current await point as a
``CancelledError``, which the ``timeout`` context manager turns into
``TimeoutError``.

This module knows tasks only by the attributes the loop reads (``_send``,
``_coro``, ``_last``, ``_attn`` ...); ``_tasks`` creates them and registers
them with ``Runtime.add``.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import os
import signal
import sys
import threading
import types
import warnings
from array import array
from ctypes import byref, c_uint64, c_void_p
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Dict, Generator, List, Optional, Set, Tuple

from . import _lib
from ._errors import CancelledError, ForkedError, RuntimeEndedError, error_from_code
from ._protocol import (
    EINTR,
    OP_FINISH,
    OP_REPEAT,
    PENDING,
    SLOT_MASK,
    START,
    SUSPEND,
    TURN_EVENTS,
    WOKEN,
    Op,
)

if TYPE_CHECKING:  # pragma: no cover - annotations only; _tasks imports this module
    from ._tasks import Task

state = threading.local()  # .rt: the runtime of this thread's eddy.run
keys = itertools.count(1)  # task names, then_fn user keys (0 would be a NULL pointer)
then_pending: Dict[int, Tuple["Runtime", int, Any]] = {}  # future_then user key -> (rt, future, keep-alive)
graveyard: List[Any] = []  # memory a blocking call may still touch after its runtime died: kept forever

# os.getpid() is a system call; every check after start-up compares with this cell instead
# (the per-connection paths made ~10 getpid calls per connection before; PERFORMANCE-LOG),
# kept current by a fork handler (os.fork, multiprocessing ... run it).
PID = [os.getpid()]


def _after_fork_in_child() -> None:
    PID[0] = os.getpid()
    rt: Optional[Runtime] = getattr(state, "rt", None)
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
        entry = then_pending.get(key)
        if entry is None:
            return
        rt, fut, keep = entry
        if status == _lib.ECANCELED:
            # The runtime dropped the future (eddy_runtime_free): the worker may
            # still be inside the C function. Keep its memory alive for good.
            graveyard.append(keep)
        else:
            rt._hk.append((rt.lib.eddy_future_free, fut))
        del then_pending[key]  # only once the memory is accounted for
    except BaseException:
        pass  # the entry stays in then_pending: its memory is kept for good


THEN_FN = _lib.THEN_FN(_then_cb)


# --------------------------------------------------------------------------------
# Runtime
# --------------------------------------------------------------------------------


def catchable_signals() -> Set[int]:
    return {int(x) for x in signal.valid_signals()} - {int(signal.SIGKILL), int(signal.SIGSTOP)}


class Runtime:
    """One ``eddy.run`` call: the C runtime handle and the Python-side state."""

    def __init__(self, blocking_threads: int, driver: int = 0, workers: int = 0) -> None:
        self.lib = lib = _lib.load()
        self.pid = os.getpid()
        self.thread = threading.get_ident()
        # contextvars (issue 16): eddy.run drives inside `pctx`, a private copy of the
        # caller's context. While it is empty (`direct`), tasks whose snapshot is empty
        # run in it without a switch (Task._ctx None): a Context.run per step costs
        # ~440 instructions, a check that pctx is still empty ~40. The first
        # ContextVar.set by such a task is seen after its step (_polluted): it gets
        # its own context with the value, the others fresh empty ones, and from then
        # on every task runs in its own context.
        self.pctx: Optional[contextvars.Context] = None
        self.direct = False
        self.ended = False
        self.freeing = False
        self._cx: Optional[int] = None  # cx published for _cxtask in this turn (see cx)
        self._cxtask: Optional[Task[Any]] = None
        self.current: Optional[Task[Any]] = None
        self.main: Optional[Task[Any]] = None
        self.fatal: Optional[BaseException] = None
        self.hard_stop = False
        self.stopping: Optional[Any] = None  # the _shutdown.Drain in progress (eddy.shutdown)
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
        self.keep: List[Op] = []  # FINISH records: alive until the turn read them
        self.events = array("q", [0]) * (2 * TURN_EVENTS)
        self.event_views: List[Optional[Tuple[memoryview, memoryview]]] = [None] * (TURN_EVENTS + 1)
        self.nops = 0
        self._check = False  # _hk, fatal or hard_stop set: the driver loop must look
        fast = _lib.fast()
        self.turn = fast.host_turn
        self.host_write = fast.host_write  # hot-path prototype, see _lib
        cfg = _lib.eddy_config_t()
        check(lib.eddy_config_init(byref(cfg)))
        cfg.flags |= _lib.CONFIG_RETURN_ON_SIGNAL
        cfg.blocking_threads = blocking_threads
        cfg.driver = driver  # _lib.DRIVER_*; DEFAULT: $EDDY_DRIVER (read by the library)
        cfg.workers = workers  # 0: $EDDY_WORKERS, else 1 (read by the library)
        out = c_uint64()
        with signals_blocked():  # threads Eddy creates inherit a mask without our signals
            check(lib.eddy_runtime_new(byref(cfg), byref(out)))
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
        if not self.ended and self.pid == PID[0]:
            self._hk.append((fn, h))
            self._check = True

    def stop(self, e: BaseException) -> None:
        """Stop the loop once this turn's events are handled (a second Ctrl-C):
        ``drive`` raises ``e``, or the fatal error already set."""
        self.hard_stop = True
        self._check = True
        if self.fatal is None:
            self.fatal = e

    def new_task_id(self, coro: Coroutine[Any, Any, Any]) -> int:
        """The id of a new host task (``eddy_host_spawn``) for ``coro``, which
        is closed when there is none. ``_tasks.spawn_task`` makes the Task."""
        rc = self.lib.eddy_host_spawn(self.h, self.out_ref)
        if rc < 0:
            coro.close()
            raise error_from_code(rc)
        return self.out.value  # type: ignore[no-any-return]

    def add(self, task: "Task[Any]") -> None:
        """Register a new task under its id's slot: events find it there."""
        slot = task._key & SLOT_MASK
        by_slot = self.by_slot
        if slot >= len(by_slot):
            by_slot.extend([None] * (slot + 1 - len(by_slot) + len(by_slot) // 2))
        by_slot[slot] = task

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
        AllDone), a fatal error or a second Ctrl-C."""
        turn = self.turn
        ops, by_slot, batch = self.ops, self.by_slot, self.batch
        views = self.event_views  # the events as (slots, results), see _event_view
        batcharg = _lib.u64arg(batch.buffer_info()[0])
        j = self.nops
        plen = len
        P: Any = self.pctx if self.direct else ()  # non-empty: a direct task set a var
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
                if plen(P):  # the task stepped last (self.current) set a context variable
                    P = self._polluted(self.current)
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
                    y = self._resume(task, task._coro, res, START)
                task._yielded = y
                if y.__class__ is Op:
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
            if plen(P):
                P = self._polluted(self.current)
            self.current = None
        self.nops = j
        self._cxtask = self._cx = None
        if self.fatal is not None:
            raise self.fatal

    def _polluted(self, setter: Optional["Task[Any]"]) -> Any:
        """A task running directly in ``pctx`` (no context of its own) set a context
        variable: the values go with it; every other direct task gets an empty
        context (what its snapshot was); direct mode ends. Returns the new ``P``."""
        pctx = self.pctx
        if not self.direct or pctx is None:  # pragma: no cover - P is () then
            return ()
        self.direct = False
        values = pctx.copy()
        for t in self.tasks():
            if t._ctx is None and t._coro is not None:
                ctx = values if t is setter else contextvars.Context()
                t._ctx = ctx
                t._send = functools.partial(ctx.run, t._coro.send)
        return ()

    def _ended(self, task: "Task[Any]", e: BaseException) -> None:
        if task._done:  # pragma: no cover - by_slot holds running tasks only
            return None
        if isinstance(e, StopIteration):
            task._finish(e.value, None)
        else:
            task._finish(None, e)
        return None

    def _resume(self, task: "Task[Any]", coro: Any, res: Any, y: Any) -> Any:
        """Resume ``task`` (``y is START``: with event result ``res``) or carry on
        after it yielded ``y``, until it waits for something (returns what it
        yielded) or ends (returns None). Delivers pending exceptions (cancel,
        injected, timeouts) at the await point. A byte count is always sent in,
        even with an exception pending: the exception comes at the next await."""
        exc: Optional[BaseException] = None
        if y is START and res < 0:
            if res == WOKEN:
                res = None
            if task._attn:
                exc = task._pending_exception()
        while True:
            if y is START:
                try:
                    # In the task's contextvars.Context (Task._ctx; the hot path's
                    # _send does the same).
                    ctx = task._ctx
                    if ctx is None:  # direct: running in pctx (see __init__)
                        y = coro.send(res) if exc is None else coro.throw(exc)
                    elif exc is None:
                        y = ctx.run(coro.send, res)
                    else:
                        y = ctx.run(coro.throw, exc)
                except BaseException as e:
                    return self._ended(task, e)
            if y.__class__ is Op and y.task is not task:
                exc = y.claim()  # a stream's read op, first read of this task; or misuse
                if exc is not None:
                    y = START
                    res = None
                    continue
            if y is SUSPEND or y.__class__ is Op:
                if not task._attn:
                    return y
                exc = task._pending_exception()
                if exc is None:
                    return y
            else:
                exc = RuntimeError(
                    f"eddy tasks can only await eddy awaitables; the coroutine yielded {y!r} (an asyncio object?)"
                )
            y = START
            res = None

    def finish(self) -> None:
        """Cancel the tasks still running, let them unwind, free the runtime."""
        lib = self.lib
        d = None
        try:
            if self.pid != os.getpid():
                return
            w = self.wakeup  # its task keeps waking the loop for signals until the end
            d = self.stopping
            if d is not None and not d.task._done and not self.hard_stop and self.fatal is None:
                try:
                    self.drive(d.task)  # eddy.shutdown: the others may finish until its deadline
                except BaseException:
                    pass
            left = [t for t in self.tasks() if not t._done and (w is None or t is not w.task)]
            if left and not self.hard_stop and self.fatal is None:
                for t in left:
                    t.cancel()
                try:
                    self.drive(AllDone(left))
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
                    if d is not None:
                        d.close_runtime(self)  # eddy_runtime_shutdown: descriptors, blocking pool
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


class AllDone:
    """``_done`` once every task of ``tasks`` is (for Runtime.drive)."""

    def __init__(self, tasks: List["Task[Any]"]) -> None:
        self.tasks = tasks

    @property
    def _done(self) -> bool:
        return all(t._done for t in self.tasks)


class signals_blocked:
    """Block catchable signals in this thread while Eddy may create threads, so
    that its workers never take a signal meant for the thread in epoll_wait."""

    def __enter__(self) -> None:
        self.old: Optional[Set[int]] = None
        try:
            self.old = signal.pthread_sigmask(signal.SIG_BLOCK, catchable_signals())
        except (OSError, ValueError):
            self.old = None

    def __exit__(self, *exc: object) -> None:
        if self.old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.old)


def check(rc: int) -> int:
    if rc < 0:
        raise error_from_code(rc)
    return rc


def running() -> Runtime:
    """The runtime polling the current task (inside eddy.run, inside a task)."""
    rt: Optional[Runtime] = getattr(state, "rt", None)
    if rt is None:
        raise RuntimeError("no running eddy runtime: use eddy.run(main())")
    if rt.pid != PID[0]:
        raise ForkedError()
    if rt.current is None:
        raise RuntimeError("eddy awaitables can only be awaited inside a task run by eddy.run()")
    return rt


def current_runtime() -> Runtime:
    rt: Optional[Runtime] = getattr(state, "rt", None)
    if rt is None:
        raise RuntimeError("no running eddy runtime: use eddy.run(main())")
    if rt.pid != PID[0]:
        raise ForkedError()
    return rt


def owned(rt: Runtime, what: str) -> Runtime:
    """Check that an object created by runtime ``rt`` may be used now."""
    if rt.pid != PID[0]:
        raise ForkedError()
    if rt.ended:
        raise RuntimeEndedError(what)
    cur = running()
    if cur is not rt:
        raise RuntimeError(f"this {what} belongs to a different eddy runtime")
    return rt


# --------------------------------------------------------------------------------
# Awaiting an Eddy future, yielding once
# --------------------------------------------------------------------------------


@types.coroutine
def wait_future(rt: Runtime, fut: int) -> Generator[Any, None, None]:
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
def yield_now(rt: Runtime) -> Generator[Any, None, None]:
    task = rt.current
    if task is not None:
        task._wake()  # re-queued once this poll returns PENDING
    yield SUSPEND

