"""A child's piped standard streams with asyncio's names: ``Process.stdout`` /
``stderr`` are ``StreamReader``s and ``Process.stdin`` a ``StreamWriter``, as
``asyncio.create_subprocess_exec`` gives (issue 16).

Thin adapters over the Eddy ``TcpStream`` (a Unix socket pair) that does the
work: the reader's ``readline``/``readuntil``/``readexactly`` are the stream's
own (``_lines``); the writer adds what asyncio's transport does, a buffer.
``write()`` sends what the socket takes at once and queues the rest, which a
background task writes out (as asyncio's transport does without ``drain()``);
``drain()`` waits until the queue is empty and raises the write's error
(``BrokenPipeError`` / ``ConnectionResetError`` when the child closed its end).
``close()`` ends the child's stdin once the queue is written.

Any other attribute (``close``, ``fileno``, ``shutdown``, ``write_all`` ...)
is the underlying stream's (``.stream``); its writes bypass the writer's queue,
so ``drain()`` first.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional

from ._errors import ClosedResourceError
from ._net import TcpStream, direct_write
from ._tasks import Task, spawn_task


class StreamReader:
    """asyncio's ``StreamReader`` over a child's stdout or stderr:
    ``read(n=-1)``, ``readline()``, ``readuntil(sep)``, ``readexactly(n)``,
    ``at_eof()``, ``async for line in reader``."""

    __slots__ = ("stream", "_eof")

    def __init__(self, stream: TcpStream) -> None:
        #: The Eddy stream underneath.
        self.stream = stream
        self._eof = False

    def __repr__(self) -> str:
        return f"<eddy.StreamReader {self.stream!r}>"

    def __getattr__(self, name: str) -> Any:
        if name == "stream":  # not set yet (never recurse)
            raise AttributeError(name)
        return getattr(self.stream, name)

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (at least one unless at end of stream: ``b""``);
        ``n`` < 0 reads to the end of the stream, as asyncio's."""
        if n >= 0:
            b = await self.stream.read(n)
            if n and not b:
                self._eof = True
            return b
        chunks: List[bytes] = []
        while True:
            b = await self.stream.read()
            if not b:
                self._eof = True
                return b"".join(chunks)
            chunks.append(b)

    async def readline(self) -> bytes:
        """One line with its ``\\n`` (the rest at end of stream, ``b""`` after it)."""
        line = await self.stream.readline()
        if not line:
            self._eof = True
        return line

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Up to and including ``separator``; ``IncompleteReadError`` at end of
        stream first, ``LimitOverrunError`` past the limit (asyncio's)."""
        return await self.stream.readuntil(separator)

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes; ``IncompleteReadError`` if the stream ends first."""
        return await self.stream.readexactly(n)

    def at_eof(self) -> bool:
        """True once a read met the end of the stream and nothing is buffered."""
        return self._eof and not self.stream._pending

    def __aiter__(self) -> "StreamReader":
        return self

    async def __anext__(self) -> bytes:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


class StreamWriter:
    """asyncio's ``StreamWriter`` over a child's stdin: ``write()``,
    ``writelines()``, ``drain()``, ``close()``, ``is_closing()``,
    ``wait_closed()``, ``write_eof()``, ``can_write_eof()``."""

    __slots__ = ("stream", "_queue", "_flusher", "_exc", "_closing")

    def __init__(self, stream: TcpStream) -> None:
        #: The Eddy stream underneath.
        self.stream = stream
        self._queue = bytearray()  # written by the flusher task, in order
        self._flusher: Optional[Task[None]] = None
        self._exc: Optional[BaseException] = None
        self._closing = False

    def __repr__(self) -> str:
        return f"<eddy.StreamWriter {self.stream!r}>"

    def __getattr__(self, name: str) -> Any:
        if name == "stream":  # not set yet (never recurse)
            raise AttributeError(name)
        return getattr(self.stream, name)

    def write(self, data: Any) -> None:
        """Send ``data`` (bytes-like): what the pipe takes now goes at once, the
        rest is queued and written in the background. After ``close()`` (or an
        error) the data is dropped, as asyncio's transport drops it."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, not {type(data).__name__}")
        if self._closing or self._exc is not None or not data:
            return
        data = bytes(data)
        if not self._queue and self._flusher is None:
            self.stream._use()  # right thread and runtime, not closed
            r = direct_write(self.stream, data)
            if r is not None and r >= len(data):
                return
            if r is not None and r > 0:
                data = data[r:]
        self._queue += data
        if self._flusher is None:
            self._flusher = spawn_task(self.stream._rt, self._flush())

    def writelines(self, data: Iterable[Any]) -> None:
        """``write()`` of the items joined."""
        self.write(b"".join(bytes(d) for d in data))

    async def _flush(self) -> None:
        try:
            while self._queue:
                chunk = bytes(self._queue)
                self._queue.clear()
                await self.stream.write_all(chunk)
        except ClosedResourceError as e:
            self._exc = BrokenPipeError(str(e))
        except Exception as e:  # BrokenPipeError, ConnectionResetError ...: drain() raises it
            self._exc = e
        finally:
            self._queue.clear()
            self._flusher = None
            if self._closing:
                self.stream.close()

    async def drain(self) -> None:
        """Wait until everything written has gone to the pipe; raises the
        write's error (``BrokenPipeError`` once the child closed its stdin)."""
        f = self._flusher
        if f is not None:
            await f
        if self._exc is not None:
            raise self._exc

    def close(self) -> None:
        """End the child's stdin once what is queued is written."""
        if self._closing:
            return
        self._closing = True
        if self._flusher is None:
            self.stream.close()

    def is_closing(self) -> bool:
        return self._closing

    async def wait_closed(self) -> None:
        """Wait until ``close()`` has taken effect (the queue is written)."""
        f = self._flusher
        if f is not None:
            await f

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """End of file for the child (a pipe has no half-close: as ``close()``)."""
        self.close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default
