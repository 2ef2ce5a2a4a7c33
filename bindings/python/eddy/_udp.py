"""UDP sockets over Eddy's poll-style functions (issue 15)."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_int, c_size_t
from threading import get_ident
from typing import Any, Dict, NamedTuple, Optional, Tuple, Union

from . import _lib
from ._addr import SocketOption, from_addr, int32, to_addr
from ._dgram_socket import DatagramSocketBase, as_bytes
from ._driver import Runtime, check, running
from ._errors import InvalidArgumentError, check_size
from ._protocol import PENDING, READY, Suspends, awaitable

BytesLike = Union[bytes, bytearray, memoryview]
Address = Tuple[str, int]
MAX_DATAGRAM = 65535  # no UDP datagram is longer (a bigger recv size is refused)
INT_MAX = _lib.INT_MAX
_new = tuple.__new__  # Datagram(...) without the generated __new__'s Python frame
_CACHE = 256  # entries per address cache (cleared when full: a server with many peers pays a parse)


# The four per-datagram functions as argtypes-free prototypes (_lib.fast_call),
# bound by the first UdpSocket (the library is loaded by then).
_RECV_FROM: Any = None
_RECV: Any = None
_SEND_TO: Any = None
_SEND: Any = None


def _bind_calls() -> None:
    global _RECV_FROM, _RECV, _SEND_TO, _SEND
    f = _lib.fast_call
    _RECV_FROM, _RECV = f("eddy_udp_poll_recv_from"), f("eddy_udp_poll_recv")
    _SEND_TO, _SEND = f("eddy_udp_poll_send_to"), f("eddy_udp_poll_send")


class Datagram(NamedTuple):
    """One received datagram: ``data``, the sender's ``address`` (``(host, port)``;
    None from ``recv()``), and ``truncated``: the datagram was longer than the
    receive size and its tail is lost."""

    data: bytes
    address: Optional[Address]
    truncated: bool


class UdpSocket(DatagramSocketBase):
    """A UDP socket (``await eddy.bind_udp(...)``). Use ``async with`` or ``close()``."""

    __slots__ = ("_buf", "_bufaddr", "_addr", "_trunc", "_nref", "_addrref", "_truncref", "_harg", "_bufarg",
                 "_senders", "_dests")
    _KIND = "UdpSocket"
    _CLOSE = "eddy_udp_close"

    def __init__(self, rt: Runtime, h: int) -> None:
        super().__init__(rt, h)
        # Reused by every call: no ctypes object per datagram beyond the result bytes.
        self._buf = ctypes.create_string_buffer(MAX_DATAGRAM)
        self._bufaddr = ctypes.addressof(self._buf)
        self._n = c_size_t()
        self._addr = _lib.eddy_addr_t()
        self._trunc = c_int()
        self._nref, self._addrref, self._truncref = byref(self._n), byref(self._addr), byref(self._trunc)
        # The argtypes-free calls' arguments (_lib.fast_call), made once.
        self._harg = _lib.u64arg(h)
        self._bufarg = _lib.u64arg(self._bufaddr)
        # Small caches for the request/response case: a sender's eddy_addr_t bytes ->
        # its (host, port); a destination (host, port) -> its parsed eddy_addr_t (byref).
        self._senders: Dict[bytes, Address] = {}
        self._dests: Dict[Any, Any] = {}
        if _SEND is None:
            _bind_calls()

    @classmethod
    def from_fd(cls, fd: int) -> "UdpSocket":
        """Take over an IPv4/IPv6 datagram socket descriptor (e.g. from systemd
        socket activation). Eddy owns it from this call on, also when it raises
        (then it is closed). Inside a task run by ``eddy.run``."""
        if isinstance(fd, bool) or not isinstance(fd, int):
            raise TypeError(f"fd must be an int, not {type(fd).__name__}")
        rt = running()
        if not -(2**31) <= fd < 2**31:
            raise InvalidArgumentError(f"fd out of range: {fd}")
        check(rt.lib.eddy_udp_from_fd(rt.h, fd, rt.out_ref))
        return cls(rt, rt.out.value)

    # ---- datagrams: one argtypes-free C call each, a suspension only when none is there ----
    # Each method below inlines its helpers (the cx argument, the address caches):
    # a Python call costs ~300 instructions, and these run once per datagram.

    @awaitable
    def recv_from(self, n: int = MAX_DATAGRAM) -> Suspends[Datagram]:
        """Receive one datagram of at most ``n`` bytes (0..65535): a ``Datagram``
        (data, (host, port), truncated). An empty datagram gives ``b""``."""
        if n is not MAX_DATAGRAM:
            n = self._size(n)
        rt = self._rt
        if rt.thread != get_ident():
            self._use()  # raises (another thread; its own runtime's or none)
        while True:
            # The task's cx, published for this resumption (Runtime.cx), as an argument.
            cx = rt._cx if rt._cxtask is rt.current and rt._cx is not None else rt.cx
            rc = _RECV_FROM(self._harg, self._cxarg if cx is self._cxval else self._cx_arg(cx), self._bufarg, n,
                            self._nref, self._addrref, self._truncref)
            if rc == READY:
                raw = bytes(self._addr)
                sender = self._senders.get(raw)
                if sender is None:
                    sender = self._sender(raw)
                return _new(Datagram, (self._buf[: self._n.value], sender, self._trunc.value != 0))
            if rc != PENDING:
                raise self._failed(rc)
            yield from self._suspend()

    @awaitable
    def recv(self, n: int = MAX_DATAGRAM) -> Suspends[Datagram]:
        """``recv_from`` for a connected socket (``address`` is None). A closed
        peer port is ``ConnectionRefusedError``."""
        if n is not MAX_DATAGRAM:
            n = self._size(n)
        rt = self._rt
        if rt.thread != get_ident():
            self._use()  # raises (another thread; its own runtime's or none)
        while True:
            cx = rt._cx if rt._cxtask is rt.current and rt._cx is not None else rt.cx
            rc = _RECV(self._harg, self._cxarg if cx is self._cxval else self._cx_arg(cx), self._bufarg, n,
                       self._nref, self._truncref)
            if rc == READY:
                return _new(Datagram, (self._buf[: self._n.value], None, self._trunc.value != 0))
            if rc != PENDING:
                raise self._failed(rc)
            yield from self._suspend()

    @awaitable
    def send_to(self, data: BytesLike, address: Address) -> Suspends[int]:
        """Send ``data`` as one datagram to ``(host, port)`` (numeric host).
        Longer than a datagram can be: ``OSError`` (EMSGSIZE)."""
        b = data if data.__class__ is bytes else as_bytes(data)
        try:  # a validated (host, port) seen before (exact types: 1.0 == True == 1 would pass)
            dest = self._dests.get(address) if address.__class__ is tuple else None
        except TypeError:  # unhashable parts: _dest reports them
            dest = None
        if dest is None or address[0].__class__ is not str or address[1].__class__ is not int:
            dest = self._dest(address)
        size = len(b)
        if size > INT_MAX:
            size = c_size_t(size)
        rt = self._rt
        if rt.thread != get_ident():
            self._use()  # raises (another thread; its own runtime's or none)
        while True:
            cx = rt._cx if rt._cxtask is rt.current and rt._cx is not None else rt.cx
            rc = _SEND_TO(self._harg, self._cxarg if cx is self._cxval else self._cx_arg(cx), b, size, dest,
                          self._nref)
            if rc == READY:
                return self._n.value
            if rc != PENDING:
                raise self._failed(rc)
            yield from self._suspend()

    @awaitable
    def send(self, data: BytesLike) -> Suspends[int]:
        """Send ``data`` as one datagram to the connected peer."""
        b = data if data.__class__ is bytes else as_bytes(data)
        size = len(b)
        if size > INT_MAX:
            size = c_size_t(size)
        rt = self._rt
        if rt.thread != get_ident():
            self._use()  # raises (another thread; its own runtime's or none)
        while True:
            cx = rt._cx if rt._cxtask is rt.current and rt._cx is not None else rt.cx
            rc = _SEND(self._harg, self._cxarg if cx is self._cxval else self._cx_arg(cx), b, size, self._nref)
            if rc == READY:
                return self._n.value
            if rc != PENDING:
                raise self._failed(rc)
            yield from self._suspend()

    def _sender(self, raw: bytes) -> Address:
        """(host, port) of the sender whose eddy_addr_t bytes are ``raw``, cached."""
        t = from_addr(self._addr)
        if len(self._senders) >= _CACHE:
            self._senders.clear()
        self._senders[raw] = t
        return t

    def _dest(self, address: Any) -> Any:
        """The parsed destination of ``address`` (validated: TypeError / ValueError),
        cached when it is a plain (str, int) pair."""
        a = _lib.eddy_addr_t()
        to_addr(address, a)
        d = byref(a)  # keeps a alive
        if address.__class__ is tuple and len(address) == 2 and address[0].__class__ is str \
                and address[1].__class__ is int:
            if len(self._dests) >= _CACHE:
                self._dests.clear()
            self._dests[address] = d
        return d

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
