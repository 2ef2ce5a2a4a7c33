"""TCP streams and listeners over Eddy's poll-style functions."""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import socket
import types
import warnings
import weakref
from _thread import get_ident
from ctypes import c_uint16, c_void_p
from typing import Any, Awaitable, Generator, Optional, Tuple, Union

from . import _lib
from ._addr import Address, SocketOption, from_addr, int32
from ._driver import PID, Runtime, check, owned, running, wait_future
from ._errors import (
    ClosedResourceError,
    ForkedError,
    InvalidArgumentError,
    RuntimeEndedError,
    check_size,
    error_from_code,
)
from ._lib import INT_MAX
from ._names import connect_addresses_handle, connect_name, listen_name
from ._protocol import OP_READ, OP_REPEAT, OP_WRITE, PENDING, READY, SUSPEND, UNCLAIMED, Op, Suspends, awaitable
from ._tasks import Task
from ._lines import DEFAULT_LIMIT, BufferedReads

EAGAIN = -errno.EAGAIN  # eddy_host_write / os.write: the socket takes no data now
EIO = errno.EIO
_os_write = os.write
# errors of a hot-path call that _use() explains better (ForkedError, RuntimeEndedError ...)
_USE_ERRORS = (_lib.EWRONGTHREAD, _lib.EBADHANDLE, _lib.EFORKED)

DEFAULT_BUFFER = 64 * 1024
BytesLike = Union[bytes, bytearray, memoryview]


def _finalize(rt: Runtime, h: int, what: str) -> None:
    """weakref.finalize callback of a stream/listener the user did not close.
    Must not reference the object. Defers the close to the loop thread."""
    if rt.ended:
        return  # the runtime closed it when its eddy.run ended: nothing leaked
    warnings.warn(f"unclosed eddy {what}: close it or use 'async with'", ResourceWarning, stacklevel=2)
    rt.defer(rt.lib.eddy_tcp_close, h)


def _validate_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {type(port).__name__}")
    if not 0 <= port <= 65535:
        raise InvalidArgumentError(f"port must be in 0..65535, got {port}")
    return port


def _numeric_host(host: object) -> Optional[bytes]:
    if not isinstance(host, str):
        raise TypeError(f"host must be a str, not {type(host).__name__}")
    if "\x00" in host:
        raise InvalidArgumentError("host must not contain NUL characters")
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if h == "":
        return None
    # "localhost" is a name like any other (issue 15): resolved, ::1 and/or 127.0.0.1.
    try:
        return str(ipaddress.ip_address(h)).encode()
    except ValueError:
        return None


class _Handle:
    __slots__ = ("_rt", "_h", "_closed", "_fin", "__weakref__")
    _what = "handle"

    def __init__(self, rt: Runtime, h: int) -> None:
        self._rt = rt
        self._h = h
        self._closed = False
        self._fin = weakref.finalize(self, _finalize, rt, h, self._what)
        self._fin.atexit = False

    def _use(self) -> Runtime:
        if self._closed:
            raise ClosedResourceError(self._what)
        return owned(self._rt, self._what)

    @property
    def closed(self) -> bool:
        """True after ``close()``, and once the ``eddy.run`` that created it has
        ended: freeing the runtime closed the socket."""
        return self._closed or self._rt.ended

    def close(self) -> None:
        """Close the socket now (idempotent; never raises for a closed or
        orphaned handle)."""
        if self._closed:
            return
        self._closed = True
        self._fin.detach()
        rt = self._rt
        if rt.ended or rt.pid != PID[0]:
            return  # the runtime closed it already / not ours to touch
        rc = rt.lib.eddy_tcp_close(self._h)
        if rc == _lib.EWRONGTHREAD:
            rt.defer(rt.lib.eddy_tcp_close, self._h)
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        pass

    # ---- issue 15: addresses, options, descriptor (listeners and streams) ----

    @property
    def local_address(self) -> Address:
        """The local ``(host, port)``."""
        rt = self._use()
        a = _lib.eddy_addr_t()
        check(rt.lib.eddy_tcp_local_addr(self._h, ctypes.byref(a)))
        return from_addr(a)

    def set_option(self, option: Union[SocketOption, int], value: int) -> None:
        """Set a ``SocketOption`` (KEEPALIVE, KEEPALIVE_IDLE, LINGER, SNDBUF ...)."""
        rt = self._use()
        check(rt.lib.eddy_tcp_set_option(self._h, int32(option, "option"), int32(value, "value")))

    def get_option(self, option: Union[SocketOption, int]) -> int:
        """Read a ``SocketOption`` (LINGER: -1 when off)."""
        rt = self._use()
        v = ctypes.c_int()
        check(rt.lib.eddy_tcp_get_option(self._h, int32(option, "option"), ctypes.byref(v)))
        return v.value

    def fileno(self) -> int:
        """The socket's descriptor, for interop (Eddy owns it: never close it)."""
        rt = self._use()
        fd = ctypes.c_int()
        check(rt.lib.eddy_tcp_fd(self._h, ctypes.byref(fd)))
        return fd.value


@types.coroutine
def _written() -> Generator[Any, None, None]:
    return
    yield  # pragma: no cover - makes this a generator


# write_all()'s result when the socket took everything at once: a finished
# generator-based coroutine. Awaiting it again is legal (an exhausted generator
# returns None to ``yield from``/``await``) and costs no frame, unlike a fresh one.
_WRITTEN = _written()
for _ in _WRITTEN:  # pragma: no cover - runs to its end at once
    pass


def _direct_write(self: "TcpStream", data: Any) -> Optional[int]:
    """write()'s first attempt (inlined in write_all, the hot path): bytes go
    straight to the socket with os.write, as asyncio's transports do, without a
    C call. Returns bytes written, -errno (EAGAIN: Eddy waits for the socket), or
    None: not attempted (not bytes; closed or shut down: Eddy reports why)."""
    if data.__class__ is not bytes:
        return None
    try:
        return _os_write(self._wfd, data)
    except OSError as e:
        return -(e.errno or EIO) if self._wfd >= 0 else None


# A child's stdin (_procstreams.StreamWriter) sends what the pipe takes at once, as here.
direct_write = _direct_write


@types.coroutine
def _write_more(
    self: "TcpStream", rt: Runtime, op: Op, data: Any, all_: bool, r: Optional[int]
) -> Generator[Any, Optional[int], Optional[int]]:
    """A write that did not complete at its first attempt (``r``; None: not
    attempted), or of a buffer other than bytes: retries, waits for the socket
    through the driver (yields the op), raises errors. Returns the bytes written
    (write) or None (write_all)."""
    if self._closed:
        raise ClosedResourceError(self._what)
    addr, length, keep = _buffer(data)
    if length == 0:
        return None if all_ else 0
    write = rt.host_write
    targ, sarg = op.write_args()
    done = 0
    self._writer = op.task
    try:
        if r is None:
            r = write(targ, sarg, _lib.u64arg(addr), min(length, INT_MAX))
        while True:
            if r >= 0:
                done += r
                if not all_:
                    return done
                if done >= length:
                    return None
                r = write(targ, sarg, _lib.u64arg(addr + done), min(length - done, INT_MAX))
                continue
            if r == EAGAIN:
                rec = op.rec
                rec[3] = addr + done
                rec[4] = length - done
                r = yield op  # Eddy writes when it can: bytes written, an error code, or None (woken)
                if r is None:
                    if self._closed:
                        raise ClosedResourceError(self._what)
                    r = write(targ, sarg, _lib.u64arg(addr + done), min(length - done, INT_MAX))
                continue
            if self._closed:
                raise ClosedResourceError(self._what)
            if r in _USE_ERRORS:
                self._use()  # the precise exception (outside a task, another thread, runtime ended ...)
            raise error_from_code(r)
    finally:
        self._writer = None
        del data, keep


class TcpStream(_Handle, BufferedReads):
    """A connected TCP stream. Use ``async with`` or call ``close()``.

    Reads: ``read(n)``, and asyncio's StreamReader names (issue 15, ``_lines``):
    ``readline()``, ``readuntil(sep)``, ``readexactly(n)``, ``async for line in
    stream``, bounded by ``limit``."""

    # _pending, _limit: the buffered reads' (see _lines)
    __slots__ = ("_buf", "_bufaddr", "_bufsize", "_reader", "_writer", "_rop", "_rlen", "_wop", "_wfd",
                 "_pending", "_limit")
    _what = "TcpStream"

    def __init__(self, rt: Runtime, h: int, bufsize: int = DEFAULT_BUFFER) -> None:
        super().__init__(rt, h)
        self._buf = ctypes.create_string_buffer(bufsize)  # preallocated, reused by every read()
        self._bufaddr = ctypes.addressof(self._buf)
        self._bufsize = bufsize
        # the operations read()/write() yield to the driver (one of each at a time)
        self._rop = Op(OP_READ | OP_REPEAT, h, self._bufaddr, bufsize, self)
        self._rlen = bufsize
        self._wop = Op(OP_WRITE, h, 0, 0)
        self._reader: Optional[Task[Any]] = None
        self._writer: Optional[Task[Any]] = None
        self._pending: Optional[bytearray] = None
        self._limit = DEFAULT_LIMIT
        # The socket's descriptor for write()'s direct attempt; -1 once closed or
        # shut down for writing (every write then goes through Eddy, which knows
        # why it cannot write). Eddy owns it. The loop thread blocks SIGPIPE
        # (see _sigpipe), so a reset peer is an EPIPE error, never a signal.
        fd = ctypes.c_int(-1)
        self._wfd = fd.value if rt.lib.eddy_tcp_fd(h, ctypes.byref(fd)) == 0 else -1

    def close(self) -> None:
        self._wfd = -1  # first: the number may name another file once Eddy closed it
        super().close()

    def __repr__(self) -> str:
        return f"<eddy.TcpStream {'closed' if self.closed else 'open'}>"

    def _wake_waiters(self) -> None:
        # (Eddy also ends an outstanding read/write of a closed stream itself.)
        for t in (self._reader, self._writer, self._rop_waiter()):
            if t is not None:
                t._wake()

    def _rop_waiter(self) -> Optional[Task[Any]]:
        """The task waiting in read() on this stream, if any: its last yield was
        the read op (see Task._yielded)."""
        t = self._rop.task
        if t is UNCLAIMED or t._done or t._yielded is not self._rop:
            return None
        return t

    @awaitable
    def read(self, n: int = DEFAULT_BUFFER) -> Suspends[bytes]:
        """Read up to ``n`` bytes (at most the stream's buffer size, 64 KiB);
        ``b""`` at EOF."""
        op = self._rop
        # (n is the int object of the previous call, usually the same constant).
        # Another task's op is handed over by the driver (Op.claim).
        if n is not self._rlen:
            if self._pending:  # bytes a readline() read ahead (it cleared _rlen)
                return self._take_pending(n)
            if not self._read_setup(op, n):
                return b""
        # A closed stream, fork ...: the read's event is an error code. While it
        # waits, the task's _yielded is op: that marks it as this stream's reader.
        while True:
            r = yield op  # Eddy reads; r: bytes read, an error code, or None (woken)
            if r is not None and r >= 0:
                return self._buf[:r]
            if self._closed:
                raise ClosedResourceError(self._what)
            if r is not None:
                if r in _USE_ERRORS:
                    self._use()
                raise error_from_code(r)

    def _read_setup(self, op: Op, n: int) -> bool:
        """read()'s full checks (first read of a task, another size): False for n == 0."""
        check_size(n, "n")
        self._use()
        if op.task is not self._rt.current:
            self._claim(op, "_reader")
        if n == 0:
            return False
        self._rlen = n
        op.rec[4] = n if n < self._bufsize else self._bufsize
        op.task._last = None  # the record changed: the next submission names it
        return True

    def _claim(self, op: Op, attr: str) -> None:
        """Make ``op`` the current task's, after the checks of _use() and that no
        other task is waiting on this stream in the same direction."""
        rt = self._use()
        me = rt.current
        other = getattr(self, attr)
        if other is None and attr == "_reader":
            other = self._rop_waiter()
        if other is not None and other is not me and not other._done:
            raise RuntimeError(
                f"{'read' if attr == '_reader' else 'write'}() called while another task is waiting on this stream"
            )
        assert me is not None  # _use() checked
        op.own(me)

    # The name before issue 15 (asyncio's is readexactly): the same method.
    read_exactly = BufferedReads.readexactly

    @awaitable
    def write(self, data: BytesLike) -> Suspends[int]:
        """Write some of ``data`` (waits until at least one byte is accepted);
        returns the number of bytes written."""
        rt = self._rt
        op = self._wop
        if op.task is not rt.current or rt.thread != get_ident():
            self._claim(op, "_writer")
        r = _direct_write(self, data)
        if r is not None and (r > 0 or r == len(data)):
            return r
        n = yield from _write_more(self, rt, op, data, False, r)
        return n or 0

    def write_all(self, data: BytesLike) -> Awaitable[None]:
        """Write all of ``data``; await the result. What the socket takes at once
        is written by this call; the awaitable writes the rest."""
        rt = self._rt
        op = self._wop
        # First write of this task, or another thread (which must not reach the
        # descriptor: this thread may close it meanwhile): full checks.
        if op.task is not rt.current or rt.thread != get_ident():
            self._claim(op, "_writer")
        if data.__class__ is bytes:  # _direct_write, inlined
            try:
                r = _os_write(self._wfd, data)
            except OSError as e:
                r = -(e.errno or EIO) if self._wfd >= 0 else None
            else:
                if r == len(data):
                    return _WRITTEN
            return _write_more(self, rt, op, data, True, r)
        return _write_more(self, rt, op, data, True, None)

    @awaitable
    def shutdown(self, how: int = socket.SHUT_WR) -> Suspends[None]:
        """Half-close: by default no more writes (the peer reads EOF) and reading
        continues; ``socket.SHUT_RD`` ends reading (reads return ``b""``),
        ``socket.SHUT_RDWR`` both."""
        if isinstance(how, bool) or not isinstance(how, int):
            raise TypeError(f"how must be an int (socket.SHUT_*), not {type(how).__name__}")
        rt = self._use()
        if how != socket.SHUT_WR:
            if how not in (socket.SHUT_RD, socket.SHUT_RDWR):
                raise InvalidArgumentError(f"how must be socket.SHUT_RD, SHUT_WR or SHUT_RDWR, got {how!r}")
            if how == socket.SHUT_RDWR:
                self._wfd = -1
            check(rt.lib.eddy_tcp_shutdown(self._h, 0 if how == socket.SHUT_RD else 2))
            return
        self._wfd = -1  # later writes go through Eddy, which reports the shutdown
        poll = rt.lib.eddy_tcp_poll_shutdown
        while True:
            rc = poll(self._h, rt.cx)
            if rc == READY:
                return
            if rc == PENDING:
                yield SUSPEND
                if self._closed:
                    raise ClosedResourceError(self._what)
                continue
            raise error_from_code(rc)

    @property
    def peer_address(self) -> Address:
        """The peer's ``(host, port)``."""
        rt = self._use()
        a = _lib.eddy_addr_t()
        check(rt.lib.eddy_tcp_peer_addr(self._h, ctypes.byref(a)))
        return from_addr(a)

    @property
    def peer_credentials(self) -> Tuple[int, int, int]:
        """``(pid, uid, gid)`` of the peer of a Unix-domain stream (SO_PEERCRED,
        recorded by the kernel at connect time); ``OSError`` (EAFNOSUPPORT) on TCP."""
        rt = self._use()
        pid, uid, gid = ctypes.c_int32(), ctypes.c_uint32(), ctypes.c_uint32()
        check(rt.lib.eddy_tcp_peer_cred(self._h, ctypes.byref(pid), ctypes.byref(uid), ctypes.byref(gid)))
        return pid.value, uid.value, gid.value

    @awaitable
    def send_fd(self, fd: int) -> Suspends[None]:
        """Send a duplicate of descriptor ``fd`` over a Unix-domain stream
        (SCM_RIGHTS, carried by one byte of stream data); ``fd`` stays yours."""
        fd = _fd_arg(fd)
        rt = self._use()
        poll = rt.lib.eddy_tcp_poll_send_fd
        self._writer = rt.current
        try:
            while True:
                rc = poll(self._h, rt.cx, fd)
                if rc == READY:
                    return
                if rc != PENDING:
                    raise error_from_code(rc)
                yield SUSPEND
                if self._closed:
                    raise ClosedResourceError(self._what)
        finally:
            self._writer = None

    @awaitable
    def recv_fd(self) -> Suspends[int]:
        """Receive a descriptor sent with ``send_fd`` (reads its one byte): a new
        descriptor, close-on-exec, yours to close. End of stream: ``OSError``
        (ENODATA); plain data instead of a descriptor: ``OSError`` (EBADMSG)."""
        rt = self._use()
        poll = rt.lib.eddy_tcp_poll_recv_fd
        out = ctypes.c_int(-1)
        self._reader = rt.current
        try:
            while True:
                rc = poll(self._h, rt.cx, ctypes.byref(out))
                if rc == READY:
                    return out.value
                if rc != PENDING:
                    raise error_from_code(rc)
                yield SUSPEND
                if self._closed:
                    raise ClosedResourceError(self._what)
        finally:
            self._reader = None

    @classmethod
    def from_fd(cls, fd: int) -> "TcpStream":
        """Take over a connected TCP socket descriptor (Eddy owns it from this call
        on, also when it raises: then it is closed). Inside a task run by eddy.run."""
        rt = running()
        check(rt.lib.eddy_tcp_stream_from_fd(rt.h, _fd_arg(fd), rt.out_ref))
        return cls(rt, rt.out.value)

    def set_nodelay(self, enabled: bool = True) -> None:
        if self._closed:
            raise ClosedResourceError(self._what)
        rt = self._rt
        if rt.pid != PID[0]:
            raise ForkedError()
        if rt.ended:
            raise RuntimeEndedError(self._what)
        check(rt.lib.eddy_tcp_set_nodelay(self._h, 1 if enabled else 0))

    async def __aenter__(self) -> "TcpStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _buffer(data: object) -> Tuple[int, int, Any]:
    """(address, length, object keeping the memory alive) of a bytes-like."""
    if isinstance(data, bytes):
        return (ctypes.cast(data, c_void_p).value or 0), len(data), data  # type: ignore[arg-type]
    if isinstance(data, str):
        raise TypeError("data must be bytes-like, not str (encode it first)")
    try:
        mv = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"data must be bytes-like, not {type(data).__name__}") from None
    if mv.readonly or not mv.c_contiguous:
        b = mv.tobytes()
        return (ctypes.cast(b, c_void_p).value or 0), len(b), b  # type: ignore[arg-type]
    mv = mv.cast("B")
    if mv.nbytes == 0:
        return 0, 0, None
    arr = (ctypes.c_char * mv.nbytes).from_buffer(mv)
    return ctypes.addressof(arr), mv.nbytes, (arr, mv)


class TcpListener(_Handle):
    """A listening TCP socket: ``await accept()``, ``.port``."""

    __slots__ = ("_port", "_acceptor")
    _what = "TcpListener"

    def __init__(self, rt: Runtime, h: int) -> None:
        super().__init__(rt, h)
        port = c_uint16()
        rc = rt.lib.eddy_tcp_local_port(h, ctypes.byref(port))
        self._port = port.value if rc >= 0 else 0
        self._acceptor: Optional[Task[Any]] = None

    def __repr__(self) -> str:
        return f"<eddy.TcpListener port={self._port} {'closed' if self.closed else 'open'}>"

    @property
    def port(self) -> int:
        """The local port (useful after listening on port 0)."""
        return self._port

    def _wake_waiters(self) -> None:
        if self._acceptor is not None:
            self._acceptor._wake()

    @classmethod
    def from_fd(cls, fd: int) -> "TcpListener":
        """Take over a listening TCP socket descriptor, e.g. one systemd passes with
        socket activation (``LISTEN_FDS``: descriptors 3, 4, ...). Eddy owns it from
        this call on, also when it raises (then it is closed). Inside a task run by eddy.run."""
        rt = running()
        check(rt.lib.eddy_tcp_listener_from_fd(rt.h, _fd_arg(fd), rt.out_ref))
        return cls(rt, rt.out.value)

    @awaitable
    def accept(self) -> Suspends[TcpStream]:
        """Wait for the next connection."""
        rt = self._use()
        me = rt.current
        other = self._acceptor
        if other is not None and other is not me and not other._done:
            raise RuntimeError("accept() called while another task is waiting on this listener")
        poll = rt.lib.eddy_tcp_poll_accept
        try:
            while True:
                rc = poll(self._h, rt.cx, rt.out_ref)
                if rc == READY:
                    return TcpStream(rt, rt.out.value)
                if rc == PENDING:
                    self._acceptor = me
                    yield SUSPEND
                    if self._closed:
                        raise ClosedResourceError(self._what)
                    continue
                raise error_from_code(rc)
        finally:
            self._acceptor = None

    async def __aenter__(self) -> "TcpListener":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _validate_backlog(backlog: object) -> int:
    return min(check_size(backlog, "backlog"), 65535)


def _fd_arg(fd: object) -> int:
    if isinstance(fd, bool) or not isinstance(fd, int):
        raise TypeError(f"fd must be an int, not {type(fd).__name__}")
    return int32(fd, "fd")


async def listen(host: str = "127.0.0.1", port: int = 0, backlog: int = 128, *, reuse_port: bool = False) -> TcpListener:
    """Listen on ``host:port`` (port 0: an ephemeral port, see ``.port``);
    ``reuse_port`` sets SO_REUSEPORT first (several listeners on one port)."""
    port = _validate_port(port)
    backlog = _validate_backlog(backlog)
    rt = running()
    num = _numeric_host(host)
    if num is None:  # a name (issue 15): resolved on the blocking pool
        return TcpListener(rt, await listen_name(rt, host, port, backlog, 1 if reuse_port else 0))
    check(rt.lib.eddy_tcp_listen_flags(rt.h, num, port, backlog, 1 if reuse_port else 0, rt.out_ref))
    return TcpListener(rt, rt.out.value)


async def connect(host: str, port: int) -> TcpStream:
    """Open a TCP connection (``ConnectionRefusedError`` etc. on failure). A
    numeric host connects at once; a name is resolved on the runtime's blocking
    pool and raced with Happy Eyeballs (``NameResolutionError``, a
    ``socket.gaierror`` naming the host, when it does not resolve)."""
    port = _validate_port(port)
    rt = running()
    h = _numeric_host(host)
    if h is None:
        return TcpStream(rt, await connect_name(rt, host, port))
    lib = rt.lib
    check(lib.eddy_tcp_connect(rt.h, h, port, rt.out_ref))
    fut = rt.out.value
    try:
        await wait_future(rt, fut)
        check(lib.eddy_future_take_tcp(fut, rt.out_ref))
        return TcpStream(rt, rt.out.value)
    finally:
        lib.eddy_future_free(fut)


# ---- names (issue 15 item 1) ----


async def connect_addresses(addresses: Any) -> TcpStream:
    """Connect to the first of ``addresses`` (numeric ``(host, port)`` tuples)
    that answers, with Happy Eyeballs (RFC 8305): families interleaved, the next
    attempt after 250 ms or as soon as the ones in flight failed, the first to
    connect wins and the others are closed. All failing: the last attempt's error."""
    rt = running()
    return TcpStream(rt, await connect_addresses_handle(rt, addresses))


# ---- end names ----


# ---- issue 15: Unix-domain stream sockets ----


def unix_path_bytes(path: object) -> bytes:
    """A Unix socket path as bytes (str, bytes or os.PathLike; "@name": abstract), NUL-free
    (also _unix_dgram's)."""
    if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__"):
        p = os.fsencode(path)  # type: ignore[arg-type]
    else:
        raise TypeError(f"path must be a str, bytes or os.PathLike, not {type(path).__name__}")
    if b"\x00" in p:
        raise InvalidArgumentError("path must not contain NUL characters")
    return p


async def listen_unix(path: Any, backlog: int = 128, *, unlink_on_close: bool = False) -> TcpListener:
    """Listen on a Unix-domain stream socket at ``path`` (``"@name"``: a Linux
    abstract name, no file). Connections are ``TcpStream`` objects. A stale socket
    file in the way is replaced; a live listener or another file is ``OSError``
    (EADDRINUSE); a path longer than ``sun_path`` holds is ``OSError`` (ENAMETOOLONG).
    ``unlink_on_close`` removes the file when the listener is closed."""
    p = unix_path_bytes(path)
    backlog = _validate_backlog(backlog)
    rt = running()
    check(rt.lib.eddy_unix_listen(rt.h, p, backlog, 1 if unlink_on_close else 0, rt.out_ref))
    return TcpListener(rt, rt.out.value)


async def connect_unix(path: Any) -> TcpStream:
    """Connect to a Unix-domain listener (no listener: ``FileNotFoundError`` for a
    missing file, ``ConnectionRefusedError`` for a stale one)."""
    p = unix_path_bytes(path)
    rt = running()
    lib = rt.lib
    check(lib.eddy_unix_connect(rt.h, p, rt.out_ref))
    fut = rt.out.value
    try:
        await wait_future(rt, fut)
        check(lib.eddy_future_take_tcp(fut, rt.out_ref))
        return TcpStream(rt, rt.out.value)
    finally:
        lib.eddy_future_free(fut)
