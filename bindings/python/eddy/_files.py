"""Files through Eddy's blocking pool (issue 16 item 5): whole-file
``read_file``/``write_file`` and a streamed ``AsyncFile`` (``open_file``).

Regular files are always "ready" to epoll, so every call runs on a thread of
the blocking pool (``to_thread``, the pool every front door shares) and the
loop keeps serving other tasks meanwhile.

No leak on cancellation: a whole-file call opens, reads or writes and closes
inside one pool job; ``open_file`` hands its descriptor over under a lock, and
a caller that has gone by then has the job close it; an ``AsyncFile`` counts
the jobs using its descriptor, and ``close()`` during one leaves the closing
to the last of them, so a descriptor number is never closed under a running
read or write (and never reused by another file while one runs).
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from typing import Any, List, Optional, Union

from ._blocking import to_thread
from ._errors import ClosedResourceError, InvalidArgumentError, check_size

# Bytes per os.read: memory grows with what the file holds, never with a
# caller's size (read(1 << 60) of a small file allocates what it reads).
CHUNK = 1 << 20

_MODES = {
    "r": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}
PathArg = Union[str, bytes, "os.PathLike[Any]"]


def _path(path: object) -> Union[str, bytes]:
    if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__"):
        p = os.fspath(path)  # type: ignore[call-overload]
    else:
        raise TypeError(f"path must be a str, bytes or os.PathLike, not {type(path).__name__}")
    if (b"\x00" if isinstance(p, bytes) else "\x00") in p:
        raise InvalidArgumentError("path must not contain NUL characters")
    return p  # type: ignore[no-any-return]


def _flags(mode: object) -> int:
    if not isinstance(mode, str):
        raise TypeError(f"mode must be a str, not {type(mode).__name__}")
    m = mode.replace("b", "", 1)
    plus = "+" in m
    m = m.replace("+", "", 1)
    if m not in _MODES or "t" in mode:
        raise InvalidArgumentError(f"mode must be one of r, w, a, x with an optional b and +, got {mode!r}")
    flags = _MODES[m]
    if plus:
        flags = (flags & ~(os.O_RDONLY | os.O_WRONLY)) | os.O_RDWR
    return flags | os.O_CLOEXEC


def _open(path: Union[str, bytes], flags: int, mode: int = 0o666) -> int:
    """os.open that refuses a directory with the path in the error (reading a
    directory descriptor would fail later, with no name)."""
    fd = os.open(path, flags, mode)
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_fd(fd: int, n: Optional[int]) -> bytes:
    """Up to ``n`` bytes (None: to end of file), in CHUNK reads."""
    parts: List[bytes] = []
    got = 0
    while n is None or got < n:
        b = os.read(fd, CHUNK if n is None else min(CHUNK, n - got))
        if not b:
            break
        parts.append(b)
        got += len(b)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _write_fd(fd: int, data: bytes) -> int:
    mv = memoryview(data)
    done = 0
    while done < len(mv):
        done += os.write(fd, mv[done : done + CHUNK])
    return done


def _bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        raise TypeError("data must be bytes-like, not str (encode it first)")
    try:
        return memoryview(data).tobytes()  # type: ignore[arg-type]  # a snapshot: the job may outlive the caller
    except TypeError:
        raise TypeError(f"data must be bytes-like, not {type(data).__name__}") from None


def _read_whole(path: Union[str, bytes]) -> bytes:
    fd = _open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _read_fd(fd, None)
    finally:
        os.close(fd)


def _write_whole(path: Union[str, bytes], data: bytes, flags: int) -> None:
    fd = _open(path, flags)
    try:
        _write_fd(fd, data)
    finally:
        os.close(fd)


async def read_file(path: PathArg) -> bytes:
    """The whole contents of the file at ``path`` (on the blocking pool).
    ``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError`` ... name
    the path."""
    return await to_thread(_read_whole, _path(path))


async def write_file(path: PathArg, data: Any, *, append: bool = False) -> None:
    """Write ``data`` (bytes-like) to the file at ``path``, created if needed
    (mode 0o666 less the umask), truncated first unless ``append``. A cancelled
    call whose job already started still completes the write."""
    p = _path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_APPEND if append else os.O_TRUNC)
    await to_thread(_write_whole, p, _bytes(data), flags)


class _Opening:
    """Hands an opened descriptor from the pool job to its caller, or, if the
    caller gave up (cancelled) first, has the job close it."""

    __slots__ = ("lock", "fd", "abandoned")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fd = -1
        self.abandoned = False

    def job(self, path: Union[str, bytes], flags: int) -> None:
        fd = _open(path, flags)
        with self.lock:
            if not self.abandoned:
                self.fd = fd
                return
        os.close(fd)

    def abandon(self) -> None:
        with self.lock:
            self.abandoned = True
            fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


async def open_file(path: PathArg, mode: str = "rb") -> "AsyncFile":
    """Open ``path`` for async reads/writes: ``mode`` as ``open()``'s binary
    modes (``rb``, ``wb``, ``ab``, ``xb``, with ``+``). Use ``async with`` or
    ``await f.close()``."""
    p = _path(path)
    flags = _flags(mode)
    opening = _Opening()
    try:
        await to_thread(opening.job, p, flags)
    except BaseException:
        opening.abandon()
        raise
    fd = opening.fd
    if fd < 0:  # pragma: no cover - the job returned without an error, so it stored fd
        raise RuntimeError("open_file: no descriptor")
    return AsyncFile(fd, p, mode)


class AsyncFile:
    """A file opened by ``open_file``: ``await read(n)``, ``await write(data)``,
    ``await close()``; each read or write is one blocking-pool job."""

    __slots__ = ("_lock", "_fd", "_busy", "_closing", "name", "mode", "__weakref__")

    def __init__(self, fd: int, name: Union[str, bytes], mode: str) -> None:
        self._lock = threading.Lock()
        self._fd = fd
        self._busy = 0  # jobs using _fd now
        self._closing = False
        self.name = name
        self.mode = mode

    def __repr__(self) -> str:
        return f"<eddy.AsyncFile {self.name!r} mode={self.mode!r}{' closed' if self.closed else ''}>"

    @property
    def closed(self) -> bool:
        return self._closing

    def _enter(self) -> int:
        """In a pool job: the descriptor, counted as in use."""
        with self._lock:
            if self._closing:
                raise ClosedResourceError("AsyncFile")
            self._busy += 1
            return self._fd

    def _leave(self) -> None:
        with self._lock:
            self._busy -= 1
            fd = -1
            if self._closing and self._busy == 0 and self._fd >= 0:
                fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def _read_job(self, n: Optional[int]) -> bytes:
        fd = self._enter()
        try:
            return _read_fd(fd, n)
        finally:
            self._leave()

    def _write_job(self, data: bytes) -> int:
        fd = self._enter()
        try:
            return _write_fd(fd, data)
        finally:
            self._leave()

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (fewer only at end of file; ``b""`` there); ``-1``:
        to end of file. Other negative sizes: ``InvalidArgumentError``."""
        if self._closing:
            raise ClosedResourceError("AsyncFile")
        size: Optional[int] = None if n == -1 else check_size(n, "n")
        if size == 0:
            return b""
        return await to_thread(self._read_job, size)

    async def write(self, data: Any) -> int:
        """Write all of ``data``; returns its length."""
        if self._closing:
            raise ClosedResourceError("AsyncFile")
        return await to_thread(self._write_job, _bytes(data))

    def _close_now(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            fd = -1
            if self._busy == 0 and self._fd >= 0:
                fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    async def close(self) -> None:
        """Close the file (idempotent). A read or write still running on a pool
        thread (its caller cancelled) closes it when it ends."""
        self._close_now()

    def __del__(self) -> None:
        try:
            self._close_now()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    async def __aenter__(self) -> "AsyncFile":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._close_now()
