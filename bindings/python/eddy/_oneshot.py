"""``eddy.oneshot()``: one value from one sender to one receiver (issue 16 item 1;
Swift's ``oneshot(of:)``, C's ``eddy_oneshot_new``, tokio's ``oneshot``).

Named like ``Broadcast``/``Watch`` (asyncio has no oneshot: its nearest is a
Future, which one loop owns): ``send`` never waits, ``await recv()``,
``try_recv()`` raises ``QueueEmpty`` while nothing was sent. Misuse — a second
``send`` or a second receive — raises ``asyncio.InvalidStateError``, as setting
or taking a Future's result twice does. The end is ``ChannelClosed``: for the
receiver when the sender closed (or was collected) unsent, for the sender when
the receiver is gone. Usable across runtimes and threads, like ``eddy.Queue``:
any thread may ``send``/``close``/``try_recv``, and a task of any runtime may
``await recv()`` (woken through ``_shared.SharedWaiter``).
"""

from __future__ import annotations

from asyncio import InvalidStateError
from typing import Any, Tuple

from ._broadcast import ChannelClosed, SharedChannel
from ._queue import QueueEmpty

# The states of the one slot.
_EMPTY, _SENT, _TAKEN = 0, 1, 2


class _Slot(SharedChannel):
    """The state both ends share, under ``SharedChannel``'s re-entrant lock (an end's
    ``__del__`` may run inside a locked section of the same thread)."""

    __slots__ = ("state", "value", "receiver_gone")

    def __init__(self) -> None:
        super().__init__()  # _closed: the sender is gone
        self.state = _EMPTY
        self.value: Any = None
        self.receiver_gone = False


class OneshotSender:
    """The sending end: ``send`` once, from any thread."""

    __slots__ = ("_slot",)

    def __init__(self, slot: _Slot) -> None:
        self._slot = slot

    def __repr__(self) -> str:
        return f"<eddy.OneshotSender{' closed' if self.is_closed() else ''}>"

    def send(self, value: Any) -> None:
        """Hands ``value`` to the receiver (never waits). ``ChannelClosed`` when the
        receiver is gone (the value is not kept); ``InvalidStateError`` when a value
        was already sent or this end was closed."""
        s = self._slot
        with s._lock:
            if s.state != _EMPTY or s._closed:
                raise InvalidStateError("oneshot: a value was already sent (or the sender closed)")
            if s.receiver_gone:
                raise ChannelClosed("oneshot: the receiver is gone")
            s.value = value
            s.state = _SENT
            s._wake_all()

    def is_closed(self) -> bool:
        """True once the receiver is gone (a send would raise ``ChannelClosed``)."""
        return self._slot.receiver_gone

    def close(self) -> None:
        """Gives up without sending: the receiver gets ``ChannelClosed``. A value
        already sent stays deliverable. Idempotent."""
        s = self._slot
        with s._lock:
            if not s._closed:
                s._closed = True
                s._wake_all()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class OneshotReceiver:
    """The receiving end: the value, once."""

    __slots__ = ("_slot",)

    def __init__(self, slot: _Slot) -> None:
        self._slot = slot

    def __repr__(self) -> str:
        return f"<eddy.OneshotReceiver state={('empty', 'sent', 'taken')[self._slot.state]}>"

    def try_recv(self) -> Any:
        """The value now: ``QueueEmpty`` while none was sent, ``ChannelClosed`` when
        the sender went away unsent, ``InvalidStateError`` once it was received.
        Any thread."""
        s = self._slot
        with s._lock:
            return self._take()

    def _take(self) -> Any:
        s = self._slot
        if s.state == _SENT:
            value, s.value = s.value, None
            s.state = _TAKEN
            return value
        if s.state == _TAKEN:
            raise InvalidStateError("oneshot: the value was already received")
        if s._closed or s.receiver_gone:
            raise ChannelClosed("oneshot: the sender is gone and sent nothing")
        raise QueueEmpty

    def _ready(self) -> bool:
        s = self._slot
        return s.state != _EMPTY or s._closed or s.receiver_gone

    async def recv(self) -> Any:
        """Waits for the value (errors as ``try_recv``). A cancelled ``recv``
        leaves the value for the next one."""
        while True:
            try:
                return self.try_recv()
            except QueueEmpty:
                pass
            await self._slot._wait(self._ready)

    def close(self) -> None:
        """No value will be taken: a later ``send`` raises ``ChannelClosed``; a value
        already sent is dropped. Idempotent."""
        s = self._slot
        with s._lock:
            s.receiver_gone = True
            s.value = None
            s._wake_all()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def oneshot() -> Tuple[OneshotSender, OneshotReceiver]:
    """A new oneshot channel: ``(sender, receiver)``."""
    slot = _Slot()
    return OneshotSender(slot), OneshotReceiver(slot)
