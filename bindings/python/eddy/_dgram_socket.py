"""The part UdpSocket and UnixDatagramSocket share: handle ownership (close,
finalizer, ``async with``) and the poll loop that suspends a task between
PENDING results of an ``eddy_*_poll_*`` function."""

from __future__ import annotations

import os
import warnings
import weakref
from typing import Any, TypeVar

from . import _lib
from ._driver import Runtime, owned
from ._errors import ClosedResourceError, error_from_code
from ._protocol import PENDING, READY, SUSPEND, Suspends, awaitable
from ._tasks import Task

_S = TypeVar("_S", bound="DatagramSocketBase")


def _finalize(rt: Runtime, h: int, kind: str, close_name: str) -> None:
    """weakref.finalize callback of a socket the user did not close (must not
    reference the object): defers the close to the loop thread."""
    if rt.ended:
        return
    warnings.warn(f"unclosed eddy {kind}: close it or use 'async with'", ResourceWarning, stacklevel=2)
    rt.defer(getattr(rt.lib, close_name), h)


def as_bytes(data: object) -> bytes:
    """``data`` (bytes, bytearray, memoryview ...) as bytes; str is a TypeError."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        raise TypeError("data must be bytes-like, not str (encode it first)")
    try:
        return memoryview(data).tobytes()  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"data must be bytes-like, not {type(data).__name__}") from None


class DatagramSocketBase:
    """Owns one datagram socket handle. A subclass names itself (``_KIND``, for
    messages) and its C close function (``_CLOSE``), and stores the byte count
    of every poll call in ``self._n`` (a c_size_t)."""

    __slots__ = ("_rt", "_h", "_closed", "_fin", "_waiters", "_n", "_cxval", "_cxarg", "__weakref__")
    _KIND = ""
    _CLOSE = ""

    def __init__(self, rt: Runtime, h: int) -> None:
        self._rt = rt
        self._h = h
        self._closed = False
        self._fin = weakref.finalize(self, _finalize, rt, h, self._KIND, self._CLOSE)
        self._fin.atexit = False
        self._waiters: list[Task[Any]] = []
        self._cxval: Any = None  # the last task context passed (see _cx_arg)
        self._cxarg: Any = None

    def __repr__(self) -> str:
        return f"<eddy.{self._KIND} {'closed' if self.closed else 'open'}>"

    def _use(self) -> Runtime:
        if self._closed:
            raise ClosedResourceError(self._KIND)
        return owned(self._rt, self._KIND)

    @property
    def closed(self) -> bool:
        """True after ``close()`` and once the ``eddy.run`` that made it ended."""
        return self._closed or self._rt.ended

    def close(self) -> None:
        """Close the socket (idempotent); waiting receives/sends raise ClosedResourceError."""
        if self._closed:
            return
        self._closed = True
        self._fin.detach()
        rt = self._rt
        if rt.ended or rt.pid != os.getpid():
            return
        close = getattr(rt.lib, self._CLOSE)
        rc = close(self._h)
        if rc == _lib.EWRONGTHREAD:
            rt.defer(close, self._h)
        for t in list(self._waiters):
            t._wake()

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    @awaitable
    def _poll(self, fn: Any, *args: Any) -> Suspends[int]:
        """Runs ``fn(handle, cx, *args)`` until it is not PENDING, suspending in
        between; returns ``self._n``."""
        rt = self._use()
        me = rt.current
        h = self._h
        while True:
            rc = fn(h, rt.cx, *args)
            if rc == READY:
                return self._n.value
            if rc != PENDING:
                if self._closed:
                    raise ClosedResourceError(self._KIND)
                raise error_from_code(rc)
            self._waiters.append(me)
            try:
                yield SUSPEND
            finally:
                self._waiters.remove(me)
            if self._closed:
                raise ClosedResourceError(self._KIND)

    # ---- the per-datagram path (argtypes-free calls, _lib.fast_call) ----
    # A call checks its thread first (another thread must not touch the loop's state,
    # as in TcpStream.write); the other checks are Eddy's (handle, fork, closed, cx):
    # only when the call fails does _failed run _use() for the precise exception.

    def _cx_arg(self, cx: Any) -> Any:
        """The task context ``cx`` (Runtime.cx: None outside a task, passed as NULL,
        which Eddy refuses) as a call argument; cached while the value stays."""
        if cx != self._cxval:
            self._cxarg = None if cx is None else _lib.u64arg(cx)
        self._cxval = cx  # this object: the callers' identity check passes next time
        return self._cxarg

    def _failed(self, rc: int) -> BaseException:
        """The exception for a poll call's error code ``rc``: first what _use()
        finds (closed, outside a task, another runtime, ended, forked), then Eddy's."""
        if self._closed:
            return ClosedResourceError(self._KIND)
        self._use()
        return error_from_code(rc)

    def _suspend(self) -> Suspends[None]:
        """Wait for the waker the PENDING call stored (``close()`` wakes it too)."""
        me = self._rt.current
        self._waiters.append(me)
        try:
            yield SUSPEND
        finally:
            self._waiters.remove(me)
        if self._closed:
            raise ClosedResourceError(self._KIND)
