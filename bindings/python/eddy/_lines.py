"""Reading lines and frames from a stream, with asyncio's StreamReader names
(issue 15 item 5): ``readline``, ``readuntil``, ``readexactly``, ``async for``.

A mixin of ``TcpStream`` (which declares the two slots it uses): ``_pending``,
the bytes read from the socket but not yet handed out (None when there are
none), and ``_limit``, the most a line may hold before its separator.

Bounded memory: ``readuntil`` reads more only while the buffer is within the
limit, so it never holds more than ``limit`` plus one socket read;
``readexactly(n)`` allocates as data arrives (chunks that at most double), never
``n`` up front, so a peer-supplied length cannot make it allocate memory the
peer did not send.

The plain ``read()`` stays as fast as before: data left in ``_pending`` clears
the stream's cached read size (``_rlen``), which sends the next ``read()`` down
its existing slow path; that is where it looks at ``_pending``.
"""

from __future__ import annotations

import asyncio
import ctypes
from typing import Any, List, Optional

from . import _lib
from ._errors import ClosedResourceError, IncompleteReadError, InvalidArgumentError, check_size, error_from_code
from ._protocol import OP_READ, Op, Suspends, awaitable

# asyncio.streams._DEFAULT_LIMIT: the default line limit.
DEFAULT_LIMIT = 64 * 1024
_FIRST_CHUNK = 64 * 1024  # readexactly's first direct-read chunk
_MAX_CHUNK = 16 * 1024 * 1024  # ... chunks then double up to this
# errors of a read that _use() explains better (as in _net)
_USE_ERRORS = (_lib.EWRONGTHREAD, _lib.EBADHANDLE, _lib.EFORKED)


class LimitOverrunError(asyncio.LimitOverrunError):
    """``readuntil`` found no separator within the stream's limit (or found it
    beyond the limit). ``consumed``: bytes to consume to get past the data
    looked at, as asyncio's. The data stays buffered."""


class BufferedReads:
    """``readline``/``readuntil``/``readexactly`` for TcpStream (see module doc)."""

    __slots__ = ()
    _pending: Optional[bytearray]
    _limit: int

    @property
    def limit(self) -> int:
        """The most bytes ``readuntil``/``readline`` buffer while looking for the
        separator (default 64 KiB, asyncio's)."""
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        if check_size(value, "limit") == 0:
            raise InvalidArgumentError("limit must be at least 1")
        self._limit = value

    def _take_pending(self, n: int) -> bytes:
        """``read(n)`` while bytes are buffered: hand out up to n of them."""
        check_size(n, "n")
        self._use()  # type: ignore[attr-defined]
        pend = self._pending
        assert pend is not None
        out = bytes(pend[:n])
        del pend[:n]
        return out

    def _keep(self, data: Any) -> None:
        """Put ``data`` in front of the buffered bytes (they were read after it)."""
        if not data:
            return
        pend = self._pending
        if pend is None:
            self._pending = bytearray(data)
        else:
            pend[:0] = data
        self._rlen = None  # type: ignore[attr-defined] # read() must look at _pending

    @awaitable
    def _fill(self) -> Suspends[int]:
        """Read once from the socket into ``_pending``; returns the byte count
        (0: end of stream)."""
        s: Any = self
        op = s._rop
        n = s._bufsize
        if n is not s._rlen:
            s._read_setup(op, n)
        while True:
            r = yield op
            if r is not None and r >= 0:
                break
            if s._closed:
                raise ClosedResourceError(s._what)
            if r is not None:
                if r in _USE_ERRORS:
                    s._use()
                raise error_from_code(r)
        if r:
            pend = self._pending
            if pend is None:
                self._pending = bytearray(s._buf[:r])
            else:
                pend += s._buf[:r]
            s._rlen = None  # the next read() looks at _pending first
        return r

    @awaitable
    def readuntil(self, separator: bytes = b"\n") -> Suspends[bytes]:
        """Read up to and including ``separator``, as asyncio's
        ``StreamReader.readuntil``: end of stream first raises
        ``eddy.IncompleteReadError`` (``.partial``: the bytes read, consumed;
        ``.expected`` None); no separator within the limit raises
        ``eddy.LimitOverrunError`` and leaves the data buffered."""
        if not isinstance(separator, (bytes, bytearray, memoryview)):
            raise TypeError(f"separator must be bytes, not {type(separator).__name__}")
        sep = bytes(separator)
        seplen = len(sep)
        if seplen == 0:
            raise ValueError("Separator should be at least one-byte string")
        self._use()  # type: ignore[attr-defined]
        offset = 0
        while True:
            pend = self._pending
            buflen = len(pend) if pend is not None else 0
            if buflen - offset >= seplen:
                assert pend is not None
                isep = pend.find(sep, offset)
                if isep != -1:
                    if isep > self._limit:
                        raise LimitOverrunError("Separator is found, but chunk is longer than limit", isep)
                    chunk = bytes(pend[: isep + seplen])
                    del pend[: isep + seplen]
                    return chunk
                offset = buflen + 1 - seplen
                if offset > self._limit:
                    raise LimitOverrunError("Separator is not found, and chunk exceed the limit", offset)
            if (yield from self._fill()) == 0:
                partial = bytes(pend) if pend is not None else b""
                if pend is not None:
                    pend.clear()
                raise IncompleteReadError(partial, None)

    @awaitable
    def readline(self) -> Suspends[bytes]:
        """Read one ``\\n``-terminated line, as asyncio's ``StreamReader.readline``:
        at end of stream the partial last line (``b""`` when none); a line
        longer than the limit raises ``ValueError`` and is discarded (up to its
        separator when it was seen, else the whole buffer)."""
        try:
            return (yield from self.readuntil(b"\n"))
        except IncompleteReadError as e:
            return e.partial
        except LimitOverrunError as e:
            pend = self._pending
            if pend is not None:
                if pend.startswith(b"\n", e.consumed):
                    del pend[: e.consumed + 1]
                else:
                    pend.clear()
            raise ValueError(e.args[0]) from None

    @awaitable
    def readexactly(self, n: int) -> Suspends[bytes]:
        """Read exactly ``n`` bytes; ``eddy.IncompleteReadError`` (``.partial``,
        ``.expected``) if the stream ends first. Memory grows with the data
        that arrives, not with ``n``. Cancelled midway, the bytes read so far
        stay buffered for the next read."""
        check_size(n, "n")
        s: Any = self
        s._use()
        if n == 0:
            return b""
        pend = self._pending
        parts: List[Any] = []
        got = 0
        if pend:
            if len(pend) >= n:
                out = bytes(pend[:n])
                del pend[:n]
                return out
            parts.append(bytes(pend))
            got = len(pend)
            pend.clear()
        # The rest straight from the socket into chunks of the result (no copy
        # through the stream's buffer), each at most twice the previous.
        op = Op(OP_READ, s._h, 0, 0)
        s._claim(op, "_reader")
        s._reader = op.task
        cap = _FIRST_CHUNK
        chunk: Optional[bytearray] = None
        filled = 0
        try:
            while got < n:
                size = min(n - got, cap)
                cap = min(cap * 2, _MAX_CHUNK)
                chunk = bytearray(size)
                arr = (ctypes.c_char * size).from_buffer(chunk)
                base = ctypes.addressof(arr)
                filled = 0
                while filled < size:
                    op.rec[3] = base + filled
                    op.rec[4] = size - filled
                    r = yield op
                    if r is None:
                        if s._closed:
                            raise ClosedResourceError(s._what)
                        continue
                    if r > 0:
                        filled += r
                        continue
                    if r == 0:
                        del arr
                        parts.append(chunk[:filled])
                        chunk = None
                        raise IncompleteReadError(b"".join(parts), n)
                    if s._closed:
                        raise ClosedResourceError(s._what)
                    raise error_from_code(r)
                del arr
                parts.append(chunk)
                chunk = None
                got += size
        except IncompleteReadError:
            raise
        except BaseException:
            # Cancelled or failed: what arrived is not lost (the next read gets it).
            if chunk is not None and filled:
                parts.append(bytes(chunk[:filled]))
            if parts:
                self._keep(b"".join(parts))
            raise
        finally:
            s._reader = None
        return bytes(parts[0]) if len(parts) == 1 else b"".join(parts)

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> bytes:
        """``async for line in stream``: lines until end of stream (asyncio's)."""
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line
