"""Descriptor readiness for ``eddy.EventLoop``: one Eddy fd watch per descriptor,
one host task per watched direction.

Eddy's watches are edge-triggered (include/eddy.h, "Readiness of caller-owned
descriptors"); asyncio's ``add_reader`` is level-triggered. A direction runs its
callback in one of two modes:

- edge (the loop's own transports and ``sock_*`` methods): the callback does the
  syscall itself and calls ``clear()`` when it saw EAGAIN (or a short read), as
  the C protocol asks; a run that did not clear is run again next iteration.
- level (``add_reader`` / ``add_writer`` of user code, which may not drain):
  after the callback the bit is cleared and ``poll(2)`` with a zero timeout says
  whether the descriptor is still ready. An edge arriving after that check is
  still reported by the next turn (the clear happens before it, no turn between).

Cost per readiness event: the direction's host task is the only one polling its
watch and bit, and Eddy keeps that waker stored across wake-ups (a wake does not
consume it). A callback that did not clear the readiness runs again; one that did
polls once more (a hang-up seen with the data, e.g. a FIN right behind it, stays
ready and is never cleared: only the poll tells), through argtypes-free calls. The
direction itself sits in the loop's ready queue (it has ``_run`` and
``_cancelled``), so a readiness event costs no Handle.
"""

from __future__ import annotations

import select
from asyncio import events
from typing import Any, Optional

from .. import _lib
from ._reactor import HostTask, Reactor, check

READ = _lib.FD_READABLE
WRITE = _lib.FD_WRITABLE
_POLL_BITS = {READ: select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP, WRITE: select.POLLOUT | select.POLLERR | select.POLLHUP}


class Direction:
    """Reading or writing of one watched descriptor: the callback (an asyncio
    Handle), the host task waiting for the edge, whether a run is scheduled."""

    __slots__ = ("entry", "bit", "handle", "edge", "task", "scheduled", "poller", "cleared", "_cancelled", "_callback")

    def __init__(self, entry: "FdEntry", bit: int) -> None:
        self.entry = entry
        self.bit = bit
        self.handle: Optional[events.Handle] = None
        self.edge = False
        self.task: Optional[HostTask] = None
        self.scheduled = False
        self.poller: Optional[Any] = None
        self.cleared = False  # the running callback proved the bit not ready
        self._cancelled = False  # for the loop's ready queue, which holds us
        self._callback = None  # for asyncio's slow-callback report (debug mode)

    def __repr__(self) -> str:
        return f"<eddy fd {self.entry.fd} {'read' if self.bit == READ else 'write'}: {self.handle!r}>"

    def start(self, handle: events.Handle, edge: bool) -> None:
        self.handle = handle
        self.edge = edge
        if self.scheduled:
            return
        t = self.task
        if t is None:
            t = self.task = self.entry.reactor.take(self)
        if t.started and not t.busy:
            self._poll()

    def stop(self) -> Optional[events.Handle]:
        h, self.handle = self.handle, None
        t = self.task
        if t is not None and not self.scheduled:
            self.task = None
            self.entry.reactor.release(t)
        return h

    def _poll(self) -> None:
        """Ready now: run the callback in this iteration's batch; else wait for
        the next edge (the waker of our task is stored)."""
        r = self.entry.reactor
        t = self.task
        assert t is not None
        rc = r.enter_fast(r.h_arg, t.id_arg, r.cx_ref)
        if rc >= 0:
            rc = r.poll_ready(self.entry.watch_arg, r.cx, self.bit, r.ready_ref)
        if rc == _lib.PENDING:
            r.arm(t)
        else:  # ready, or an error the callback's syscall will report
            self._schedule()

    def _schedule(self) -> None:
        self.scheduled = True
        self.entry.loop._ready.append(self)

    def _event(self, task: HostTask) -> None:
        """Our task's WAIT ended: an edge (or a spurious wake). Edge mode runs the
        callback at once (its syscall decides); level mode checks first."""
        if self.handle is None or self.scheduled:
            return
        if self.edge:
            self.scheduled = True
            self.entry.loop._ready.append(self)
        else:
            self._poll()

    def _run(self) -> None:
        """The loop runs us from its ready queue: the callback, then wait again."""
        self.scheduled = False
        h = self.handle
        if h is None:
            t = self.task
            if t is not None:
                self.task = None
                self.entry.reactor.release(t)
            return
        if h._cancelled:
            self.entry.loop._unwatch(self.entry.fd, self.bit)
            return
        self.cleared = False
        h._run()
        if self.handle is None or self.scheduled or not self.entry.watch:
            return
        t = self.task
        if t is None or t.busy:  # pragma: no cover - a scheduled run owns an idle task
            return
        if self.edge:
            if not self.cleared:  # still believed ready: run again next iteration
                self._schedule()
                return
        else:
            self.clear()
            p = self.poller
            if p is None:
                p = self.poller = select.poll()
                p.register(self.entry.fd, _POLL_BITS[self.bit])
            try:
                # POLLNVAL: the callback closed the fd without remove_reader; a
                # selector loop would not call it again either (epoll forgets it).
                still = any(ev & ~select.POLLNVAL for _, ev in p.poll(0))
            except OSError:
                still = True
            if still:
                self._schedule()
                return
        self._poll()

    def clear(self) -> None:
        """The callback's syscall proved the direction not ready (EAGAIN)."""
        e = self.entry
        if e.watch:
            self.cleared = True
            e.reactor.clear_ready(e.watch_arg, self.bit)


class FdEntry:
    """One descriptor watched by the loop (``eddy_fd_watch``)."""

    __slots__ = ("loop", "reactor", "fd", "watch", "watch_arg", "reader", "writer")

    def __init__(self, loop: Any, reactor: Reactor, fd: int) -> None:
        self.loop = loop
        self.reactor = reactor
        self.fd = fd
        check(reactor.lib.eddy_fd_watch(reactor.h, fd, reactor.out_ref))
        self.watch = reactor.out.value
        self.watch_arg = _lib.u64arg(self.watch)
        self.reader = Direction(self, READ)
        self.writer = Direction(self, WRITE)

    def idle(self) -> bool:
        return self.reader.handle is None and self.writer.handle is None

    def free(self) -> None:
        """Unregister (the fd stays open): tasks still waiting are woken by Eddy
        and return to the pool at their event."""
        self.reader.stop()
        self.writer.stop()
        w, self.watch = self.watch, 0
        if w and not self.reactor.closed:
            self.reactor.lib.eddy_fd_free(w)
