"""Unix-domain datagram sockets (issue 15 item 3): the UdpSocket shape with paths
(a filesystem path, or "@name" for a Linux abstract name) for addresses."""

from __future__ import annotations

import ctypes
import os
from ctypes import byref, c_int, c_size_t, string_at
from typing import Any, NamedTuple, Optional, Union

from ._dgram_socket import DatagramSocketBase, as_bytes
from ._driver import Runtime, check, running
from ._errors import InvalidArgumentError, check_size
from ._net import unix_path_bytes

BytesLike = Union[bytes, bytearray, memoryview]
MAX_RECEIVE = 1 << 20  # the largest receive size taken (Linux's own limit follows SO_SNDBUF)
UNIX_PATH_MAX = 110  # EDDY_UNIX_PATH_MAX: sun_path's 108 bytes, the '@' and the NUL
UNLINK_ON_CLOSE = 0x1  # EDDY_UNIXDGRAM_UNLINK_ON_CLOSE


class UnixDatagram(NamedTuple):
    """One received datagram: ``data``, the sender's ``path`` (``""``: an unbound
    sender; None from ``recv()``), and ``truncated`` (it was longer than asked for)."""

    data: bytes
    path: Optional[str]
    truncated: bool


class UnixDatagramSocket(DatagramSocketBase):
    """A Unix-domain datagram socket (``await eddy.bind_unix_datagram(...)``)."""

    __slots__ = ("_buf", "_bufaddr", "_from", "_trunc")
    _KIND = "UnixDatagramSocket"
    _CLOSE = "eddy_unixdgram_close"

    def __init__(self, rt: Runtime, h: int) -> None:
        super().__init__(rt, h)
        self._buf = ctypes.create_string_buffer(65536)
        self._bufaddr = ctypes.addressof(self._buf)
        self._n = c_size_t()
        self._from = ctypes.create_string_buffer(UNIX_PATH_MAX)
        self._trunc = c_int()

    def _room(self, n: object) -> int:
        n = check_size(n, "n")
        if n > MAX_RECEIVE:
            raise InvalidArgumentError(f"n must be at most {MAX_RECEIVE}, got {n}")
        if n > len(self._buf):
            self._buf = ctypes.create_string_buffer(n)
            self._bufaddr = ctypes.addressof(self._buf)
        return n

    async def recv_from(self, n: int = 65536) -> UnixDatagram:
        """Receive one datagram of at most ``n`` bytes: (data, sender path, truncated)."""
        n = self._room(n)
        got = await self._poll(self._rt.lib.eddy_unixdgram_poll_recv_from, self._bufaddr, n, byref(self._n),
                               self._from, UNIX_PATH_MAX, byref(self._trunc))
        return UnixDatagram(string_at(self._bufaddr, got), os.fsdecode(self._from.value), self._trunc.value != 0)

    async def recv(self, n: int = 65536) -> UnixDatagram:
        """``recv_from`` without the sender (``path`` is None)."""
        n = self._room(n)
        got = await self._poll(self._rt.lib.eddy_unixdgram_poll_recv, self._bufaddr, n, byref(self._n),
                               byref(self._trunc))
        return UnixDatagram(string_at(self._bufaddr, got), None, self._trunc.value != 0)

    async def send_to(self, data: BytesLike, path: Any) -> int:
        """Send ``data`` as one datagram to ``path`` (nobody bound there:
        ``FileNotFoundError`` or ``ConnectionRefusedError``)."""
        b = as_bytes(data)
        return await self._poll(self._rt.lib.eddy_unixdgram_poll_send_to, b, len(b), unix_path_bytes(path),
                                byref(self._n))

    async def send(self, data: BytesLike) -> int:
        """Send ``data`` as one datagram to the connected peer."""
        b = as_bytes(data)
        return await self._poll(self._rt.lib.eddy_unixdgram_poll_send, b, len(b), byref(self._n))

    def connect(self, path: Any) -> None:
        """Set the default destination (``send``/``recv`` without a path)."""
        rt = self._use()
        check(rt.lib.eddy_unixdgram_connect(self._h, unix_path_bytes(path)))

    def fileno(self) -> int:
        """The descriptor (Eddy owns it: never close it)."""
        rt = self._use()
        fd = c_int()
        check(rt.lib.eddy_unixdgram_fd(self._h, byref(fd)))
        return fd.value

    @classmethod
    def from_fd(cls, fd: int) -> "UnixDatagramSocket":
        """Take over a Unix-domain datagram socket descriptor (inherited, received
        with ``recv_fd``, socket activation). Eddy owns it from this call on, also
        when it raises (then it is closed): another socket type or family (a UDP
        socket) is ``ValueError``, not a socket ``OSError`` (ENOTSOCK). Inside a
        task run by ``eddy.run``."""
        if isinstance(fd, bool) or not isinstance(fd, int):
            raise TypeError(f"fd must be an int, not {type(fd).__name__}")
        rt = running()
        if not -(2**31) <= fd < 2**31:
            raise InvalidArgumentError(f"fd out of range: {fd}")
        check(rt.lib.eddy_unixdgram_from_fd(rt.h, fd, rt.out_ref))
        return cls(rt, rt.out.value)

    def _address(self, fn: Any) -> str:
        rt = self._use()
        out = ctypes.create_string_buffer(UNIX_PATH_MAX)
        check(fn(self._h, out, UNIX_PATH_MAX))
        return os.fsdecode(out.value)

    @property
    def local_address(self) -> str:
        """The bound path (``"@name"`` for an abstract name, ``""`` when unbound)."""
        return self._address(self._rt.lib.eddy_unixdgram_local_addr)

    @property
    def peer_address(self) -> str:
        """The connected peer's path (``OSError`` ENOTCONN if not connected)."""
        return self._address(self._rt.lib.eddy_unixdgram_peer_addr)


async def bind_unix_datagram(path: Any = None, *, unlink_on_close: bool = False) -> UnixDatagramSocket:
    """A Unix-domain datagram socket bound to ``path`` ("@name": abstract; None: an
    unbound socket that sends, or connects). A stale socket file in the way is
    replaced; a live one or another file is ``OSError`` (EADDRINUSE); a path longer
    than ``sun_path`` holds ``OSError`` (ENAMETOOLONG)."""
    p = None if path is None else unix_path_bytes(path)
    rt = running()
    check(rt.lib.eddy_unixdgram_bind(rt.h, p, UNLINK_ON_CLOSE if unlink_on_close else 0, rt.out_ref))
    return UnixDatagramSocket(rt, rt.out.value)
