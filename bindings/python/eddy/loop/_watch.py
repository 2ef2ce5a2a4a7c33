"""Descriptor readiness for ``eddy.EventLoop``: one Eddy fd watch per descriptor,
one host task per watched direction.

A direction waits with ``EDDY_HOST_OP_FD`` (include/eddy.h, issue 17): its host task
submits "forget the readiness my last syscall proved gone, then wait until the watch
is ready for this bit" in the loop's next turn, and the turn's event is the ready
bits. No C call per readiness event besides the turn (before it, the same took
``eddy_fd_clear_ready`` + ``eddy_host_enter`` + ``eddy_fd_poll_ready``). The direction
itself sits in the loop's ready queue (it has ``_run`` and ``_cancelled``), so a
readiness event costs no Handle either.

Eddy's watches are edge-triggered; asyncio's ``add_reader`` is level-triggered. A
direction runs its callback in one of two modes:

- edge (the loop's own transports and ``sock_*`` methods): the callback does the
  syscall itself and calls ``clear()`` when it saw EAGAIN (or a short read), as the
  C protocol asks; a run that did not clear is run again next iteration. A hang-up
  seen with the data (a FIN right behind it) is never cleared: the FD operation after
  a short read reports it at once.
- level (``add_reader`` / ``add_writer`` of user code, which may not drain): after
  the callback ``poll(2)`` with a zero timeout says whether the descriptor is still
  ready; if not, the bit is cleared by the next FD operation, submitted before the
  turn dispatches any edge (an edge after the check is not lost).

A direction keeps its host task while its descriptor stays watched (a paused reader
resumes with the same task and operation); the tasks go back to the reactor's pool
when the watch is freed (``eddy_fd_free`` ends their operations).
"""

from __future__ import annotations

import select
from asyncio import events
from typing import Any, Optional

from .. import _lib
from ._reactor import HostTask, Reactor, check

READ = _lib.FD_READABLE
WRITE = _lib.FD_WRITABLE
WOKEN = _lib.HOST_WOKEN
_POLL_BITS = {READ: select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP, WRITE: select.POLLOUT | select.POLLERR | select.POLLHUP}


class Direction:
    """Reading or writing of one watched descriptor: the callback (an asyncio
    Handle), the host task waiting for readiness, whether a run is scheduled."""

    __slots__ = ("entry", "bit", "handle", "edge", "task", "scheduled", "poller", "cleared", "_cancelled", "_callback")

    def __init__(self, entry: "FdEntry", bit: int) -> None:
        self.entry = entry
        self.bit = bit
        self.handle: Optional[events.Handle] = None
        self.edge = False
        self.task: Optional[HostTask] = None
        self.scheduled = False
        self.poller: Optional[Any] = None
        self.cleared = 0  # bit to forget at the next FD operation (the callback saw EAGAIN)
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
            self._wait()
        # else: its outstanding operation (or first event) answers first

    def stop(self) -> Optional[events.Handle]:
        """No callback any more; the task stays (the watch may be used again)."""
        h, self.handle = self.handle, None
        return h

    def release(self) -> None:
        """The watch is being freed: the task goes back to the pool (after the
        event of its outstanding operation, which the free ends)."""
        self.handle = None
        t, self.task = self.task, None
        if t is not None:
            self.entry.reactor.release(t)

    def _wait(self) -> None:
        t = self.task
        e = self.entry
        clear, self.cleared = self.cleared, 0
        e.reactor.arm_fd(t, e.watch, clear, self.bit)  # type: ignore[arg-type]

    def _schedule(self) -> None:
        self.scheduled = True
        self.entry.loop._ready.append(self)

    def _event(self, task: HostTask, res: int) -> None:
        """Our task's operation ended: ready bits, an error the callback's syscall
        will report, or a wake that is not readiness (wait again)."""
        if self.handle is None or self.scheduled or task is not self.task:
            return
        if res == WOKEN:
            self._wait()
        else:
            self.scheduled = True
            self.entry.loop._ready.append(self)

    def _run(self) -> None:
        """The loop runs us from its ready queue: the callback, then wait again."""
        self.scheduled = False
        h = self.handle
        if h is None:
            return
        if h._cancelled:
            self.entry.loop._unwatch(self.entry.fd, self.bit)
            return
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
            self.cleared = self.bit
        self._wait()

    def clear(self) -> None:
        """The callback's syscall proved the direction not ready (EAGAIN): the
        next FD operation forgets the bit, before the turn dispatches any edge."""
        self.cleared = self.bit


class FdEntry:
    """One descriptor watched by the loop (``eddy_fd_watch``)."""

    __slots__ = ("loop", "reactor", "fd", "watch", "reader", "writer")

    def __init__(self, loop: Any, reactor: Reactor, fd: int) -> None:
        self.loop = loop
        self.reactor = reactor
        self.fd = fd
        check(reactor.lib.eddy_fd_watch(reactor.h, fd, reactor.out_ref))
        self.watch = reactor.out.value
        self.reader = Direction(self, READ)
        self.writer = Direction(self, WRITE)

    def idle(self) -> bool:
        return self.reader.handle is None and self.writer.handle is None

    def free(self) -> None:
        """Unregister (the fd stays open): Eddy ends the operations still waiting
        (their tasks return to the pool at their events)."""
        self.reader.release()
        self.writer.release()
        w, self.watch = self.watch, 0
        if w and not self.reactor.closed:
            self.reactor.lib.eddy_fd_free(w)
