"""The Eddy side of ``eddy.EventLoop``: one runtime, host tasks, one turn per loop iteration.

Everything the asyncio loop waits for is a *host task* of the runtime (include/eddy.h,
"Host-driven tasks") with one operation at a time: a descriptor direction
(``_watch.Direction``) submits ``EDDY_HOST_OP_FD`` (the turn itself waits for the fd
watch), the timer (``Timer``), Eddy futures (``_pool.FutureWait``) and the wake-up
task (``tick``) poll their leaf with their own cx (``eddy_host_enter``) and submit
``EDDY_HOST_OP_WAIT``. When the leaf fires, ``eddy_host_turn`` hands out one event
naming the task's slot: the loop knows exactly what became ready without scanning.

``tick`` serves the two wake-ups asyncio needs besides I/O and timers: a turn that
must not block (callbacks are ready: ``eddy_host_wake`` before the turn) and
``call_soon_threadsafe`` from another thread (``eddy_waker_wake`` of a waker handle
cloned from tick's cx; it is the one C call here allowed from any thread).
"""

from __future__ import annotations

import ctypes
import threading
from array import array
from ctypes import byref, c_uint64, c_void_p
from typing import Any, List, Optional

from .. import _lib
from .._driver import signals_blocked
from .._errors import error_from_code

TURN_EVENTS = 256
OP_FD = 5  # EDDY_HOST_OP_FD (include/eddy.h, issue 17): wait for an fd watch in the turn
SLOT_MASK = 0xFFFFFFFF


def check(rc: int) -> int:
    if rc < 0:
        raise error_from_code(rc)
    return rc


class HostTask:
    """One host task. ``busy``: a WAIT is outstanding (or queued for the next
    turn); ``started``: its first event came (``eddy_host_enter`` is allowed)."""

    __slots__ = ("id", "id_arg", "rec", "addr", "busy", "started", "owner")  # rec: eddy_host_op_t

    def __init__(self, tid: int, owner: Any) -> None:
        self.id = tid
        self.id_arg = _lib.u64arg(tid)
        self.rec = array("Q", (tid, _lib.HOST_OP_WAIT, 0, 0, 0))
        self.addr = self.rec.buffer_info()[0]
        self.busy = True  # a new task starts with an implicit WAIT
        self.started = False
        self.owner = owner  # has _event(task); None: idle in the pool


class Reactor:
    """The runtime of one EventLoop and its host tasks (owning thread only,
    except ``wake_threadsafe``)."""

    def __init__(self, blocking_threads: int = 4) -> None:
        self.lib = lib = _lib.load()
        # The runtime belongs to this thread (include/eddy.h): the loop checks it
        # before calls that would get EDDY_EWRONGTHREAD from elsewhere.
        self.owner_thread = threading.get_ident()
        cfg = _lib.eddy_config_t()
        check(lib.eddy_config_init(byref(cfg)))
        cfg.flags |= _lib.CONFIG_RETURN_ON_SIGNAL
        cfg.blocking_threads = blocking_threads
        out = c_uint64()
        with signals_blocked():  # Eddy's threads inherit a mask without our signals
            check(lib.eddy_runtime_new(byref(cfg), byref(out)))
        self.h = out.value
        self.out = out
        self.out_ref = byref(out)
        self.cx = c_void_p()
        self.cx_ref = byref(self.cx)
        self.ready = ctypes.c_uint32()
        self.ready_ref = byref(self.ready)
        self.by_slot: List[Optional[HostTask]] = [None] * 64
        self.idle: List[HostTask] = []
        self.submit: List[HostTask] = []
        self.events = array("q", [0]) * (2 * TURN_EVENTS)
        self.ops = array("Q", [0]) * TURN_EVENTS
        self.batch = array("Q", (self.h, self.ops.buffer_info()[0], 0, self.events.buffer_info()[0], TURN_EVENTS, 0))
        self.turn_fn = _lib.fast().host_turn
        # Argtypes-free prototype for the per-iteration wake (see _lib.u64arg): PyDLL,
        # the GIL stays held (it never blocks).
        self.host_wake = ctypes.PyDLL(lib._name).eddy_host_wake
        self.host_wake.argtypes = None
        self.host_wake.restype = ctypes.c_int
        self.h_arg = _lib.u64arg(self.h)
        self.batch_arg = _lib.u64arg(self.batch.buffer_info()[0])
        self.waker = 0
        self.closed = False
        self.next_ev = self.n_ev = 0  # events of the last turn not yet dispatched
        try:
            self.tick = self.spawn(None)
            self.tick.owner = self  # its events need nothing: a woken turn returns
            self.turn(False)  # the tick's first event: now it can be entered
            check(lib.eddy_host_enter(self.h, self.tick.id, self.cx_ref))
            check(lib.eddy_cx_waker(self.cx, self.out_ref))
            self.waker = out.value
        except BaseException:
            self.free()
            raise

    def _event(self, task: HostTask, res: int) -> None:  # the tick: wait again
        self.arm(task)

    # -- host tasks ---------------------------------------------------------------
    def spawn(self, owner: Any) -> HostTask:
        check(self.lib.eddy_host_spawn(self.h, self.out_ref))
        t = HostTask(self.out.value, owner)
        slot = t.id & SLOT_MASK
        if slot >= len(self.by_slot):
            self.by_slot.extend([None] * (slot + 1 - len(self.by_slot) + len(self.by_slot) // 2))
        self.by_slot[slot] = t
        return t

    def take(self, owner: Any) -> HostTask:
        """An idle task for ``owner`` (started, nothing outstanding), or a new one
        (its first event calls ``owner._event``)."""
        if self.idle:
            t = self.idle.pop()
            t.owner = owner
            return t
        return self.spawn(owner)

    def release(self, task: HostTask) -> None:
        """``task``'s owner is done with it; it is idle once nothing is outstanding
        (``turn`` puts it back then)."""
        task.owner = None
        if not task.busy:
            self.idle.append(task)

    def enter(self, task: HostTask) -> int:
        """Publish ``task``'s cx (valid until the next enter or turn)."""
        check(self.lib.eddy_host_enter(self.h, task.id, self.cx_ref))
        return self.cx.value  # type: ignore[no-any-return]

    def arm(self, task: HostTask) -> None:
        """Submit a WAIT for ``task`` in the next turn (unless one is outstanding)."""
        if not task.busy:
            task.busy = True
            task.rec[1] = _lib.HOST_OP_WAIT
            self.submit.append(task)

    def arm_fd(self, task: HostTask, watch: int, clear: int, bit: int) -> None:
        """Submit ``EDDY_HOST_OP_FD`` for ``task``: forget the ``clear`` bits of fd
        watch ``watch``, then wait until it is ready for ``bit`` (the event's result
        is the ready bits). ``task`` must have nothing outstanding."""
        task.busy = True
        rec = task.rec
        rec[1] = OP_FD
        rec[2] = watch
        rec[3] = clear
        rec[4] = bit
        self.submit.append(task)

    # -- the turn -----------------------------------------------------------------
    def turn(self, block: bool) -> None:
        """One ``eddy_host_turn``: submits the queued operations, waits (not when
        ``block`` is false) and dispatches each event to its task's owner.

        A Python signal handler may raise (KeyboardInterrupt) at any bytecode,
        also in the middle of the dispatch: the events not yet dispatched stay in
        ``events`` (``next_ev`` .. ``n_ev``) and the next call dispatches them
        before any new turn, so no task is left waiting for an event it lost."""
        if self.next_ev < self.n_ev:
            self._dispatch()
            return
        if not block:
            self.host_wake(self.h_arg, self.tick.id_arg)
        sub = self.submit
        n = len(sub)
        if n > len(self.ops):
            self.ops = array("Q", [0]) * (2 * n)
            self.batch[1] = self.ops.buffer_info()[0]
        ops = self.ops
        for i in range(n):
            ops[i] = sub[i].addr
        self.batch[2] = n
        self.batch[5] = 0
        try:
            rc = self.turn_fn(self.batch_arg)
        finally:
            sub.clear()  # submitted (also when a signal interrupted the wait)
            self.next_ev = 0
            self.n_ev = self.batch[5]
        if rc < 0 and rc != _lib.EINTR:
            raise error_from_code(rc)
        self._dispatch()

    def _dispatch(self) -> None:
        ev = self.events
        by_slot = self.by_slot
        i = self.next_ev
        n = self.n_ev
        while i < n:
            self.next_ev = i + 1
            t = by_slot[ev[2 * i] & SLOT_MASK]
            if t is not None:  # (events name live tasks)
                t.busy = False
                t.started = True
                owner = t.owner
                if owner is None:
                    self.idle.append(t)
                else:
                    owner._event(t, ev[2 * i + 1])
            i += 1

    def wake_threadsafe(self) -> None:
        """End the current or next turn's wait; any thread."""
        w = self.waker
        if w:
            self.lib.eddy_waker_wake(w)

    def free(self) -> None:
        if self.closed:
            return
        self.closed = True
        w, self.waker = self.waker, 0
        if w:
            self.lib.eddy_waker_free(w)
        self.by_slot = []
        self.idle.clear()
        self.submit.clear()
        self.lib.eddy_runtime_free(self.h)
