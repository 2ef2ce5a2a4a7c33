"""Socket addresses and options shared by the TCP and UDP modules (issue 15)."""

from __future__ import annotations

import enum
import socket
from ctypes import byref
from typing import Tuple

from . import _lib
from ._errors import InvalidArgumentError

Address = Tuple[str, int]


class SocketOption(enum.IntEnum):
    """Socket options (the C ABI's ``EDDY_OPT_*``); booleans take 0/1."""

    REUSEADDR = 1
    REUSEPORT = 2
    KEEPALIVE = 3
    KEEPALIVE_IDLE = 4
    KEEPALIVE_INTERVAL = 5
    KEEPALIVE_COUNT = 6
    SNDBUF = 7
    RCVBUF = 8
    LINGER = 9
    NODELAY = 10
    BROADCAST = 11
    MULTICAST_LOOP = 12
    MULTICAST_TTL = 13
    MULTICAST_IF = 14


def to_addr(address: object, out: _lib.eddy_addr_t) -> None:
    """Fills ``out`` from ``(host, port)`` (numeric host only: a name, "localhost"
    included, is InvalidArgumentError)."""
    if not isinstance(address, tuple) or len(address) < 2:
        raise TypeError(f"address must be a (host, port) tuple, not {address!r}")
    host, port = address[0], address[1]
    if not isinstance(host, str):
        raise TypeError(f"host must be a str, not {type(host).__name__}")
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {type(port).__name__}")
    if not 0 <= port <= 65535:
        raise InvalidArgumentError(f"port must be in 0..65535, got {port}")
    if "\x00" in host:
        raise InvalidArgumentError("host must not contain NUL characters")
    lib = _lib.load()
    if lib.eddy_addr_parse(host.encode(), port, byref(out)) != 0:
        raise InvalidArgumentError(f"not a numeric IPv4/IPv6 address: {host!r}")


def from_addr(a: _lib.eddy_addr_t) -> Address:
    """``(host, port)`` of an eddy_addr_t."""
    if a.family == _lib.ADDR_IPV4:
        return socket.inet_ntop(socket.AF_INET, bytes(a.addr[:4])), a.port
    return socket.inet_ntop(socket.AF_INET6, bytes(a.addr)), a.port


def int32(v: object, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{what} must be an int, not {type(v).__name__}")
    if not -(2**31) <= v < 2**31:
        raise InvalidArgumentError(f"{what} out of the C int range: {v}")
    return int(v)
