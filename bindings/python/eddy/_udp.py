"""UDP sockets over Eddy's poll-style functions (issue 15)."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_int, c_size_t, string_at
from typing import Any, NamedTuple, Optional, Tuple, Union

from . import _lib
from ._addr import SocketOption, from_addr, int32, to_addr
from ._dgram_socket import DatagramSocketBase, as_bytes
from ._driver import Runtime, check, running
from ._errors import InvalidArgumentError, check_size

BytesLike = Union[bytes, bytearray, memoryview]
Address = Tuple[str, int]
MAX_DATAGRAM = 65535  # no UDP datagram is longer (a bigger recv size is refused)


class Datagram(NamedTuple):
    """One received datagram: ``data``, the sender's ``address`` (``(host, port)``;
    None from ``recv()``), and ``truncated``: the datagram was longer than the
    receive size and its tail is lost."""

    data: bytes
    address: Optional[Address]
    truncated: bool


class UdpSocket(DatagramSocketBase):
    """A UDP socket (``await eddy.bind_udp(...)``). Use ``async with`` or ``close()``."""

    __slots__ = ("_buf", "_bufaddr", "_addr", "_dest", "_trunc", "_nref", "_addrref", "_destref", "_truncref",
                 "_last_to", "_last_from_raw", "_last_from")
    _KIND = "UdpSocket"
    _CLOSE = "eddy_udp_close"

    def __init__(self, rt: Runtime, h: int) -> None:
        super().__init__(rt, h)
        # Reused by every call: no ctypes object per datagram beyond the result bytes.
        self._buf = ctypes.create_string_buffer(MAX_DATAGRAM)
        self._bufaddr = ctypes.addressof(self._buf)
        self._n = c_size_t()
        self._addr = _lib.eddy_addr_t()
        self._dest = _lib.eddy_addr_t()
        self._trunc = c_int()
        self._nref, self._addrref, self._destref, self._truncref = (
            byref(self._n), byref(self._addr), byref(self._dest), byref(self._trunc))
        self._last_to: Any = None  # the (host, port) self._dest holds
        self._last_from_raw = b""
        self._last_from: Address = ("", 0)

    @classmethod
    def from_fd(cls, fd: int) -> "UdpSocket":
        """Take over a datagram socket descriptor (e.g. from systemd socket
        activation). Eddy owns it from this call on, also when it raises (then
        it is closed). Inside a task run by ``eddy.run``."""
        if isinstance(fd, bool) or not isinstance(fd, int):
            raise TypeError(f"fd must be an int, not {type(fd).__name__}")
        rt = running()
        if not -(2**31) <= fd < 2**31:
            raise InvalidArgumentError(f"fd out of range: {fd}")
        check(rt.lib.eddy_udp_from_fd(rt.h, fd, rt.out_ref))
        return cls(rt, rt.out.value)

    # ---- datagrams ----

    def _sender(self) -> Address:
        """(host, port) of the last receive's sender; the last one's tuple is reused
        when the same peer sends again (the common request/response case)."""
        raw = bytes(self._addr)
        if raw != self._last_from_raw:
            self._last_from_raw = raw
            self._last_from = from_addr(self._addr)
        return self._last_from

    async def recv_from(self, n: int = MAX_DATAGRAM) -> Datagram:
        """Receive one datagram of at most ``n`` bytes (0..65535): a ``Datagram``
        (data, (host, port), truncated). An empty datagram gives ``b""``."""
        if n is not MAX_DATAGRAM:
            n = self._size(n)
        got = await self._poll(self._rt.lib.eddy_udp_poll_recv_from, self._bufaddr, n, self._nref, self._addrref,
                               self._truncref)
        return Datagram(string_at(self._bufaddr, got), self._sender(), self._trunc.value != 0)

    async def recv(self, n: int = MAX_DATAGRAM) -> Datagram:
        """``recv_from`` for a connected socket (``address`` is None). A closed
        peer port is ``ConnectionRefusedError``."""
        if n is not MAX_DATAGRAM:
            n = self._size(n)
        got = await self._poll(self._rt.lib.eddy_udp_poll_recv, self._bufaddr, n, self._nref, self._truncref)
        return Datagram(string_at(self._bufaddr, got), None, self._trunc.value != 0)

    async def send_to(self, data: BytesLike, address: Address) -> int:
        """Send ``data`` as one datagram to ``(host, port)`` (numeric host).
        Longer than a datagram can be: ``OSError`` (EMSGSIZE)."""
        b = data if data.__class__ is bytes else as_bytes(data)
        if address.__class__ is not tuple or address != self._last_to:
            self._last_to = None
            to_addr(address, self._dest)
            self._last_to = address
        return await self._poll(self._rt.lib.eddy_udp_poll_send_to, b, len(b), self._destref, self._nref)

    async def send(self, data: BytesLike) -> int:
        """Send ``data`` as one datagram to the connected peer."""
        b = data if data.__class__ is bytes else as_bytes(data)
        return await self._poll(self._rt.lib.eddy_udp_poll_send, b, len(b), self._nref)

    @staticmethod
    def _size(n: object) -> int:
        n = check_size(n, "n")
        if n > MAX_DATAGRAM:
            raise InvalidArgumentError(f"n must be at most {MAX_DATAGRAM} (no datagram is longer), got {n}")
        return n

    # ---- setup, options, addresses ----

    def connect(self, address: Address) -> None:
        """Set the default destination and accept datagrams from it only; ICMP
        errors from it are then reported (``ConnectionRefusedError``)."""
        rt = self._use()
        a = _lib.eddy_addr_t()
        to_addr(address, a)
        check(rt.lib.eddy_udp_connect(self._h, byref(a)))

    def set_option(self, option: Union[SocketOption, int], value: int) -> None:
        """Set a ``SocketOption`` (BROADCAST, MULTICAST_TTL, RCVBUF ...)."""
        rt = self._use()
        check(rt.lib.eddy_udp_set_option(self._h, int32(option, "option"), int32(value, "value")))

    def get_option(self, option: Union[SocketOption, int]) -> int:
        """Read a ``SocketOption``."""
        rt = self._use()
        v = c_int()
        check(rt.lib.eddy_udp_get_option(self._h, int32(option, "option"), byref(v)))
        return v.value

    def join_multicast(self, group: str, ifindex: int = 0) -> None:
        """Join multicast ``group`` on interface index ``ifindex``
        (``socket.if_nametoindex("lo")`` keeps it on this host; 0: the kernel's choice)."""
        self._membership(group, ifindex, 1)

    def leave_multicast(self, group: str, ifindex: int = 0) -> None:
        """Leave a joined group (``OSError`` EADDRNOTAVAIL if not a member)."""
        self._membership(group, ifindex, 0)

    def _membership(self, group: str, ifindex: int, join: int) -> None:
        rt = self._use()
        if not isinstance(group, str):
            raise TypeError(f"group must be a str, not {type(group).__name__}")
        if "\x00" in group:
            raise InvalidArgumentError("group must not contain NUL characters")
        if isinstance(ifindex, bool) or not isinstance(ifindex, int) or not 0 <= ifindex < 2**31:
            raise InvalidArgumentError(f"ifindex must be an int in 0..2**31-1, got {ifindex!r}")
        check(rt.lib.eddy_udp_multicast(self._h, group.encode(), ifindex, join))

    @property
    def local_address(self) -> Address:
        """The bound ``(host, port)``."""
        rt = self._use()
        a = _lib.eddy_addr_t()
        check(rt.lib.eddy_udp_local_addr(self._h, byref(a)))
        return from_addr(a)

    @property
    def peer_address(self) -> Address:
        """The connected peer (``OSError`` ENOTCONN if not connected)."""
        rt = self._use()
        a = _lib.eddy_addr_t()
        check(rt.lib.eddy_udp_peer_addr(self._h, byref(a)))
        return from_addr(a)

    def fileno(self) -> int:
        """The descriptor (Eddy owns it: never close it)."""
        rt = self._use()
        fd = c_int()
        check(rt.lib.eddy_udp_fd(self._h, byref(fd)))
        return fd.value


async def bind_udp(host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False) -> UdpSocket:
    """A UDP socket bound to a numeric ``host`` and ``port`` (0: ephemeral, see
    ``local_address``); ``reuse_port`` sets SO_REUSEPORT first."""
    rt = running()
    a = _lib.eddy_addr_t()
    to_addr((host, port), a)  # validates host and port before C sees them
    check(rt.lib.eddy_udp_bind(rt.h, host.encode(), port, 1 if reuse_port else 0, rt.out_ref))
    return UdpSocket(rt, rt.out.value)
