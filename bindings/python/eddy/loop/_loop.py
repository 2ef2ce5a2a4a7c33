"""``eddy.EventLoop``: an asyncio event loop driven by Eddy's runtime.

asyncio's ``BaseEventLoop`` supplies what is the same on every loop (Futures and
Tasks, the ready queue and timer heap, exception handlers, debug mode,
``create_connection`` / ``create_server`` / Happy Eyeballs, streams). This class
supplies the iteration (``_run_once``): instead of a selector, one
``eddy_host_turn`` per iteration, woken by Eddy's reactor for descriptors
(``_watch``), Eddy's timer (``_timer``) and other threads (``_reactor.tick``);
descriptor callbacks, transports (``_transport``), servers (``_server``), the
``sock_*`` methods (``_sock``) and ``run_in_executor`` on Eddy's blocking pool
(``_pool``).
"""

from __future__ import annotations

import heapq
import socket
import threading
import weakref
from asyncio import base_events, events
from typing import Any, Dict, Optional

from ._ctask import join as join_c_task
from ._borrowed import BorrowedMixin
from ._pool import run_in_pool
from ._reactor import Reactor
from ._server import ServerMixin
from ._sock import SockMixin
from ._timer import Timer
from ._transport import SocketTransport
from ._watch import READ, WRITE, Direction, FdEntry


def _fileno(fd: Any) -> int:
    if isinstance(fd, int):
        fileno = fd
    else:
        try:
            fileno = int(fd.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fd!r}") from None
    if fileno < 0:
        raise ValueError(f"Invalid file descriptor: {fileno}")
    return fileno


class EventLoop(SockMixin, ServerMixin, BorrowedMixin, base_events.BaseEventLoop):
    """An asyncio event loop running on an Eddy runtime (``eddy.new_event_loop()``).
    ``blocking_threads`` bounds Eddy's blocking pool, which runs
    ``run_in_executor(None, ...)`` and ``getaddrinfo``."""

    def __init__(self, *, blocking_threads: int = 8) -> None:
        super().__init__()
        self._fds: Dict[int, FdEntry] = {}
        self._reactor: Optional[Reactor] = None  # close() of a half-made loop has nothing to free
        self._timer: Optional[Timer] = None
        self._reactor = Reactor(blocking_threads)
        self._timer = Timer(self._reactor)
        self._transports: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()
        self._signal_handlers: Dict[int, Any] = {}
        self._ssock: Optional[socket.socket] = None
        self._csock: Optional[socket.socket] = None

    # -- the iteration ----------------------------------------------------------------
    def _run_once(self) -> None:
        sched = self._scheduled
        n = len(sched)
        if n > base_events._MIN_SCHEDULED_TIMER_HANDLES and (
            self._timer_cancelled_count / n > base_events._MIN_CANCELLED_TIMER_HANDLES_FRACTION
        ):
            keep = []
            for h in sched:
                if h._cancelled:
                    h._scheduled = False
                else:
                    keep.append(h)
            heapq.heapify(keep)
            self._scheduled = sched = keep
            self._timer_cancelled_count = 0
        else:
            while sched and sched[0]._cancelled:
                self._timer_cancelled_count -= 1
                h = heapq.heappop(sched)
                h._scheduled = False
        ready = self._ready
        if ready or self._stopping:
            block = False
        elif sched:
            when = sched[0]._when
            delay = when - self.time()
            block = delay > 0 and self._timer.arm(when, min(delay, base_events.MAXIMUM_SELECT_TIMEOUT))
        else:
            block = True
        self._reactor.turn(block)
        if sched:
            end = self.time() + self._clock_resolution
            while sched:
                h = sched[0]
                if h._when >= end:
                    break
                h = heapq.heappop(sched)
                h._scheduled = False
                ready.append(h)
        ntodo = len(ready)
        if self._debug:
            for _ in range(ntodo):
                h = ready.popleft()
                if h._cancelled:
                    continue
                try:
                    self._current_handle = h
                    t0 = self.time()
                    h._run()
                    dt = self.time() - t0
                    if dt >= self.slow_callback_duration:
                        base_events.logger.warning("Executing %s took %.3f seconds", base_events._format_handle(h), dt)
                finally:
                    self._current_handle = None
        else:
            pop = ready.popleft
            for _ in range(ntodo):
                h = pop()
                if not h._cancelled:
                    h._run()
        h = None

    def _write_to_self(self) -> None:
        """call_soon_threadsafe's wake-up: any thread."""
        self._reactor.wake_threadsafe()

    def _process_events(self, event_list: Any) -> None:  # pragma: no cover - no selector
        pass

    def _check_owner(self, what: str) -> None:
        """Eddy's runtime belongs to the thread that made the loop (include/eddy.h):
        from another thread, what would touch it raises asyncio's RuntimeError
        instead of reaching the runtime (EDDY_EWRONGTHREAD) half-way."""
        r = self._reactor
        if r is not None and threading.get_ident() != r.owner_thread:
            raise RuntimeError(f"{what}: an eddy.EventLoop is used on the thread that created it (Non-thread-safe operation invoked on an event loop other than the current one)")

    def run_forever(self) -> None:
        if not self.is_closed() and not self.is_running():
            self._check_owner("run_forever")
        super().run_forever()

    def close(self) -> None:
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self.is_closed():
            return
        if self._reactor is None:  # __init__ failed: nothing of Eddy's to free
            super().close()
            return
        self._check_owner("close")
        super().close()
        self._close_signals()
        for entry in list(self._fds.values()):
            entry.free()
        self._fds.clear()
        if self._timer is not None:
            self._timer.cancel()
        self._reactor.free()

    # -- descriptors ----------------------------------------------------------------
    def _watch(self, fd: int, bit: int, callback: Any, *args: Any, edge: bool = True) -> Direction:
        """Run ``callback(*args)`` whenever ``fd`` is ready for ``bit`` (see _watch)."""
        self._check_closed()
        entry = self._fds.get(fd)
        if entry is None:
            entry = self._fds[fd] = FdEntry(self, self._reactor, fd)
        d = entry.reader if bit == READ else entry.writer
        old = d.handle
        d.start(events.Handle(callback, args, self, None), edge)
        if old is not None:
            old.cancel()
        return d

    def _unwatch(self, fd: int, bit: int) -> bool:
        if self.is_closed():
            return False
        entry = self._fds.get(fd)
        if entry is None:
            return False
        h = (entry.reader if bit == READ else entry.writer).stop()
        if entry.idle():
            del self._fds[fd]
            entry.free()
        if h is None:
            return False
        h.cancel()
        return True

    def _ensure_fd_no_transport(self, fd: Any) -> None:
        fileno = _fileno(fd)
        transport = self._transports.get(fileno)
        if transport is not None and not transport.is_closing():
            raise RuntimeError(f"File descriptor {fd!r} is used by transport {transport!r}")

    # The primitives asyncio's own transports call (level-triggered, no transport check).
    def _add_reader(self, fd: Any, callback: Any, *args: Any) -> events.Handle:
        d = self._watch(_fileno(fd), READ, callback, *args, edge=False)
        return d.handle  # type: ignore[return-value]

    def _remove_reader(self, fd: Any) -> bool:
        return self._unwatch(_fileno(fd), READ)

    def _add_writer(self, fd: Any, callback: Any, *args: Any) -> events.Handle:
        d = self._watch(_fileno(fd), WRITE, callback, *args, edge=False)
        return d.handle  # type: ignore[return-value]

    def _remove_writer(self, fd: Any) -> bool:
        return self._unwatch(_fileno(fd), WRITE)

    def add_reader(self, fd: Any, callback: Any, *args: Any) -> None:
        """Level-triggered, as with a selector: ``callback(*args)`` runs while
        ``fd`` is readable. On the loop's thread only (RuntimeError elsewhere)."""
        self._check_owner("add_reader")
        self._ensure_fd_no_transport(fd)
        self._watch(_fileno(fd), READ, callback, *args, edge=False)

    def remove_reader(self, fd: Any) -> bool:
        self._check_owner("remove_reader")
        self._ensure_fd_no_transport(fd)
        return self._unwatch(_fileno(fd), READ)

    def add_writer(self, fd: Any, callback: Any, *args: Any) -> None:
        self._check_owner("add_writer")
        self._ensure_fd_no_transport(fd)
        self._watch(_fileno(fd), WRITE, callback, *args, edge=False)

    def remove_writer(self, fd: Any) -> bool:
        self._check_owner("remove_writer")
        self._ensure_fd_no_transport(fd)
        return self._unwatch(_fileno(fd), WRITE)

    # -- transports -------------------------------------------------------------------
    def _make_socket_transport(self, sock: socket.socket, protocol: Any, waiter: Any = None, *, extra: Any = None, server: Any = None) -> SocketTransport:
        self._ensure_fd_no_transport(sock)
        return SocketTransport(self, sock, protocol, waiter, extra, server)

    def _make_ssl_transport(
        self, rawsock: socket.socket, protocol: Any, sslcontext: Any, waiter: Any = None, *, server_side: bool = False,
        server_hostname: Optional[str] = None, extra: Any = None, server: Any = None,
        ssl_handshake_timeout: Any = None, ssl_shutdown_timeout: Any = None,
    ) -> Any:
        from asyncio import constants, sslproto

        ssl_protocol = sslproto.SSLProtocol(
            self, protocol, sslcontext, waiter, server_side, server_hostname,
            ssl_handshake_timeout=ssl_handshake_timeout or constants.SSL_HANDSHAKE_TIMEOUT,
            ssl_shutdown_timeout=ssl_shutdown_timeout or constants.SSL_SHUTDOWN_TIMEOUT,
        )
        self._make_socket_transport(rawsock, ssl_protocol, extra=extra, server=server)
        return ssl_protocol._app_transport

    # -- C tasks on this loop's runtime ------------------------------------------------
    @property
    def eddy_runtime(self) -> int:
        """The id of this loop's ``eddy_runtime_t``: C code in the process may
        ``eddy_spawn`` tasks on it (any thread); they run inside this loop's turns,
        on its thread, while it runs. Valid until ``close()``."""
        self._check_closed()
        return self._reactor.h  # type: ignore[union-attr]

    def eddy_join(self, task: int) -> Any:
        """An asyncio future of C task ``task`` (an ``eddy_task_t`` id of a task on
        ``eddy_runtime``): its status (0, or the poll function's error code) when
        it ends. The handle stays the caller's (``eddy_task_free`` it). A bad
        handle sets the future's exception (``EddyError``)."""
        self._check_closed()
        self._check_owner("eddy_join")
        return join_c_task(self, task)

    # -- blocking pool ----------------------------------------------------------------
    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> Any:
        """``executor`` None and no default executor set: Eddy's blocking pool."""
        self._check_closed()
        if executor is None and self._default_executor is None:
            self._check_owner("run_in_executor")
            if self._debug:
                self._check_callback(func, "run_in_executor")
            return run_in_pool(self, func, args)
        return super().run_in_executor(executor, func, *args)
