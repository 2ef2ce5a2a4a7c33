"""Broadcast and watch channels (issue 16 item 1; docs/SYNC.md): tokio's
``broadcast`` and ``watch`` with Python names, for objects.

asyncio has no equivalent, so the names follow ``eddy.Queue``'s conventions:
``send`` never waits, ``recv()`` / ``changed()`` are coroutines, ``try_recv()``
raises ``QueueEmpty`` when nothing new is there. Pure Python over the binding's
own suspension (``_waiters``), like ``eddy.Queue`` and for the same reason
(crossing ctypes per value costs more than the whole operation). Values are
objects shared by every receiver (no copy): Python's references make the C
front door's clone/drop contract unnecessary.

Like ``eddy.Queue``, usable across runtimes and threads (issue 16 item 1):
tasks of any ``eddy.run`` may wait, and any thread (a plain one too) may
``send``, ``close`` or ``try_recv``; waiting tasks are woken through
``_shared.SharedWaiter``. Each channel's state is guarded by a re-entrant lock
(a receiver's ``__del__`` may run inside a locked section of the same thread):
a lock per send and receive, fine for fan-out of events.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Deque, List

from ._queue import QueueEmpty
from ._shared import SharedWaiter, shared_waiter
from ._waiters import park


class ChannelClosed(Exception):
    """The sender was closed and this receiver has seen everything (broadcast),
    or no change will come (watch)."""


class Lagged(Exception):
    """A broadcast receiver fell behind: ``missed`` values were lost. Receiving
    again gives the oldest value still kept."""

    def __init__(self, missed: int) -> None:
        super().__init__(f"receiver lagged: {missed} values missed")
        self.missed = missed


class _Shared:
    """Waiters of one channel: every send wakes all of them (fan-out)."""

    __slots__ = ("_lock", "_waiters", "_closed")

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._waiters: Deque[SharedWaiter] = deque()
        self._closed = False

    def _wake_all(self) -> None:
        """Under the lock."""
        waiters, self._waiters = self._waiters, deque()
        for w in waiters:
            w.fire()

    async def _wait(self, ready: Any) -> None:
        """Wait for the next send or close unless ``ready()`` (checked under the
        lock, with the waiter queued in the same section: no wake-up lost to a
        send from another thread in between)."""
        with self._lock:
            if ready():
                return
            w = shared_waiter()
            self._waiters.append(w)
        try:
            await park(w)
        except BaseException:
            with self._lock:
                if not w.fired:
                    self._waiters.remove(w)
            raise


# The waiter set with its lock, for the other channels built the same way (_oneshot).
SharedChannel = _Shared


class Broadcast(_Shared):
    """The sending side of a broadcast channel keeping the last ``capacity``
    values: each value sent reaches every receiver subscribed at the time."""

    __slots__ = ("_buffer", "_sent", "_receivers")

    def __init__(self, capacity: int) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 1 << 24:
            raise ValueError("Broadcast capacity must be an int in 1 ... 2**24")
        super().__init__()
        self._buffer: List[Any] = [None] * capacity
        self._sent = 0
        self._receivers = 0

    def __repr__(self) -> str:
        return f"<eddy.Broadcast [sent:{self._sent}, receivers:{self._receivers}{', closed' if self._closed else ''}]>"

    @property
    def capacity(self) -> int:
        return len(self._buffer)

    def subscribe(self) -> "BroadcastReceiver":
        """A new receiver that sees the values sent from now on. Any thread."""
        with self._lock:
            return BroadcastReceiver(self, self._sent)

    def send(self, value: Any) -> int:
        """Sends ``value`` to every current receiver; returns how many there
        are (0: nobody listens). Never waits. ``ChannelClosed`` after ``close``.
        Any thread."""
        with self._lock:
            if self._closed:
                raise ChannelClosed("send on a closed Broadcast")
            self._buffer[self._sent % len(self._buffer)] = value
            self._sent += 1
            self._wake_all()
            return self._receivers

    def close(self) -> None:
        """No more sends: receivers get what is kept, then ``ChannelClosed``.
        Any thread."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._wake_all()


class BroadcastReceiver:
    """One receiver of a ``Broadcast``, with its own position."""

    __slots__ = ("_ch", "_next", "_open")

    def __init__(self, ch: Broadcast, position: int) -> None:
        self._ch = ch
        self._next = position
        self._open = True
        with ch._lock:
            ch._receivers += 1

    def resubscribe(self) -> "BroadcastReceiver":
        """Another receiver at this one's position."""
        with self._ch._lock:
            return BroadcastReceiver(self._ch, self._next)

    def try_recv(self) -> Any:
        """The next value now: ``QueueEmpty`` when nothing new was sent,
        ``Lagged`` when values were lost, ``ChannelClosed`` at the end. Any thread."""
        with self._ch._lock:
            return self._take()

    def _has_next(self) -> bool:
        """Under the lock: a value, a lag or the end is there for this receiver."""
        ch = self._ch
        return self._next < ch._sent or ch._closed or not self._open

    def _take(self) -> Any:
        ch = self._ch
        n = len(ch._buffer)
        oldest = max(0, ch._sent - n)
        if self._next < oldest:
            missed = oldest - self._next
            self._next = oldest
            raise Lagged(missed)
        if self._next < ch._sent:
            v = ch._buffer[self._next % n]
            self._next += 1
            return v
        if ch._closed or not self._open:
            raise ChannelClosed("Broadcast closed")
        raise QueueEmpty

    async def recv(self) -> Any:
        """Waits for the next value (``Lagged``, ``ChannelClosed`` as ``try_recv``)."""
        while True:
            try:
                return self.try_recv()
            except QueueEmpty:
                pass
            await self._ch._wait(self._has_next)

    def __aiter__(self) -> "BroadcastReceiver":
        return self

    async def __anext__(self) -> Any:
        """``async for``: values until the end (``Lagged`` is raised, not skipped)."""
        try:
            return await self.recv()
        except ChannelClosed:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Unsubscribes (sends stop counting this receiver). Idempotent."""
        with self._ch._lock:
            if self._open:
                self._open = False
                self._ch._receivers -= 1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class Watch(_Shared):
    """The sending side of a watch channel: one current value, replaced by
    ``send``; receivers read the latest and wait for the next change."""

    __slots__ = ("_value", "_version")

    def __init__(self, initial: Any) -> None:
        super().__init__()
        self._value = initial
        self._version = 0

    def __repr__(self) -> str:
        return f"<eddy.Watch [version:{self._version}{', closed' if self._closed else ''}]>"

    @property
    def value(self) -> Any:
        """The current value."""
        return self._value

    def send(self, value: Any) -> None:
        """Replaces the value and wakes every waiting receiver.
        ``ChannelClosed`` after ``close``. Any thread."""
        with self._lock:
            if self._closed:
                raise ChannelClosed("send on a closed Watch")
            self._value = value
            self._version += 1
            self._wake_all()

    def subscribe(self) -> "WatchReceiver":
        """A new receiver (it has seen the current value)."""
        return WatchReceiver(self)

    def close(self) -> None:
        """No more changes: waiting receivers get ``ChannelClosed``; the last
        value stays readable. Any thread."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._wake_all()


class WatchReceiver:
    """One receiver of a ``Watch``."""

    __slots__ = ("_ch", "_seen")

    def __init__(self, ch: Watch) -> None:
        self._ch = ch
        self._seen = ch._version

    def get(self) -> Any:
        """The latest value, marked as seen."""
        with self._ch._lock:
            self._seen = self._ch._version
            return self._ch._value

    def has_changed(self) -> bool:
        """Whether a value was sent since this receiver last read one."""
        return self._ch._version != self._seen

    async def changed(self) -> None:
        """Waits until the value changes (read it with ``get``);
        ``ChannelClosed`` once the sender is closed and nothing changed."""
        ch = self._ch
        while ch._version == self._seen:
            if ch._closed:
                raise ChannelClosed("Watch closed")
            await ch._wait(lambda: ch._version != self._seen or ch._closed)
