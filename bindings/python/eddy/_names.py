"""Names (issue 15 item 1): lookups on libeddy's blocking pool (eddy_resolve),
connections to a name or an address list with Happy Eyeballs (RFC 8305), listening
on a name. A numeric host never reaches any of this (see _net.connect)."""

from __future__ import annotations

from ctypes import byref, c_size_t
from typing import Iterable, List, Optional

from . import _lib
from ._addr import Address, from_addr, to_addr
from ._driver import Runtime, check, running, wait_future
from ._errors import InvalidArgumentError, NameResolutionError

# A host name can be at most 253 characters (RFC 1035); the C side refuses longer ones.
MAX_NAME = 253
# eddy_tcp_connect_addrs takes at most this many addresses.
MAX_ADDRESSES = 1024


def check_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {type(port).__name__}")
    if not 0 <= port <= 65535:
        raise InvalidArgumentError(f"port must be in 0..65535, got {port}")
    return port


def check_name(host: object) -> bytes:
    """A host name as the C calls take it: ``str``, no NUL, 1..253 bytes."""
    if not isinstance(host, str):
        raise TypeError(f"host must be a str, not {type(host).__name__}")
    if "\x00" in host:
        raise InvalidArgumentError("host must not contain NUL characters")
    b = host.encode("idna") if not host.isascii() else host.encode()
    if not 0 < len(b) <= MAX_NAME:
        raise InvalidArgumentError(f"host name must be 1..{MAX_NAME} bytes, got {len(b)}")
    return b


def reraise_with_host(err: BaseException, host: str) -> BaseException:
    """A lookup failure from C, named with the host it was about."""
    if isinstance(err, NameResolutionError):
        return NameResolutionError(err.code, host)
    return err


async def _future_result(rt: Runtime, fut: int, host: str) -> None:
    try:
        await wait_future(rt, fut)
    except NameResolutionError as e:
        raise reraise_with_host(e, host) from None


async def resolve(host: str, port: int = 0) -> List[Address]:
    """Every IPv4/IPv6 address of ``host`` as ``(address, port)`` tuples, in
    getaddrinfo's order (run on the runtime's blocking pool; a numeric host is
    returned at once). A name that does not resolve raises
    ``NameResolutionError`` (a ``socket.gaierror``) naming the host; names in
    ``.invalid`` fail at once; a lookup is bounded (10 s: ``EDDY_EAI_AGAIN``).
    Cancelling the awaiting task drops the lookup."""
    port = check_port(port)
    name = check_name(host)
    rt = running()
    lib = rt.lib
    check(lib.eddy_resolve(rt.h, name, port, rt.out_ref))
    fut = rt.out.value
    try:
        await _future_result(rt, fut, host)
        count = c_size_t(0)
        check(lib.eddy_future_get_addrs(fut, None, 0, byref(count)))
        arr = (_lib.eddy_addr_t * max(1, count.value))()
        check(lib.eddy_future_get_addrs(fut, arr, count.value, byref(count)))
        return [from_addr(arr[i]) for i in range(count.value)]
    finally:
        lib.eddy_future_free(fut)


async def connect_name(rt: Runtime, host: str, port: int) -> int:
    """eddy_tcp_connect with a name (resolved and raced in C): a tcp handle."""
    name = check_name(host)
    lib = rt.lib
    check(lib.eddy_tcp_connect(rt.h, name, port, rt.out_ref))
    fut = rt.out.value
    try:
        await _future_result(rt, fut, host)
        check(lib.eddy_future_take_tcp(fut, rt.out_ref))
        return int(rt.out.value)
    finally:
        lib.eddy_future_free(fut)


async def connect_addresses_handle(rt: Runtime, addresses: Iterable[Address]) -> int:
    """eddy_tcp_connect_addrs (Happy Eyeballs over numeric addresses): a tcp handle."""
    items = list(addresses)
    if not 0 < len(items) <= MAX_ADDRESSES:
        raise InvalidArgumentError(f"need 1..{MAX_ADDRESSES} addresses, got {len(items)}")
    arr = (_lib.eddy_addr_t * len(items))()
    for i, a in enumerate(items):
        to_addr(a, arr[i])
    lib = rt.lib
    check(lib.eddy_tcp_connect_addrs(rt.h, arr, len(items), rt.out_ref))
    fut = rt.out.value
    try:
        await wait_future(rt, fut)
        check(lib.eddy_future_take_tcp(fut, rt.out_ref))
        return int(rt.out.value)
    finally:
        lib.eddy_future_free(fut)


async def listen_name(rt: Runtime, host: str, port: int, backlog: int, flags: int) -> int:
    """Resolves ``host`` and listens on the first address that binds: a tcp handle."""
    addrs = await resolve(host, port)
    last: Optional[int] = None
    a = _lib.eddy_addr_t()
    for addr in addrs:
        to_addr(addr, a)
        rc = rt.lib.eddy_tcp_listen_addr(rt.h, byref(a), backlog, flags, rt.out_ref)
        if rc == 0:
            return int(rt.out.value)
        last = rc
    check(last if last is not None else _lib.EAI_NONAME)
    raise AssertionError("unreachable")


__all__ = ["resolve", "connect_name", "connect_addresses_handle", "listen_name", "check_name", "check_port"]
