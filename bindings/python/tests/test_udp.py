"""UDP (issue 15): bind, send_to/recv_from, connected send/recv, truncation, empty
datagrams, ICMP refused, options, broadcast and multicast on loopback only (TTL 0,
interface lo), adoption of a descriptor, bad input. Loopback addresses only."""
from __future__ import annotations

import errno
import socket

import pytest

import eddy
from conftest import open_fds


def run(coro):
    return eddy.run(coro)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_send_to_recv_from(host):
    async def main():
        async with await eddy.bind_udp(host, 0) as a, await eddy.bind_udp(host, 0) as b:
            assert a.local_address[0] == host and a.local_address[1] != 0
            waiter = eddy.spawn(b.recv_from())  # waits first: woken by the datagram
            assert await a.send_to(b"ping", b.local_address) == 4
            d = await waiter
            assert d == eddy.Datagram(b"ping", a.local_address, False)
            await b.send_to(bytearray(b"pong"), d.address)
            assert (await a.recv_from()).data == b"pong"

    run(main())


def test_truncation_and_empty_datagrams():
    async def main():
        async with await eddy.bind_udp() as a, await eddy.bind_udp() as b:
            await a.send_to(bytes(range(100)), b.local_address)
            await a.send_to(b"", b.local_address)
            d = await b.recv_from(10)
            assert d.data == bytes(range(10)) and d.truncated
            e = await b.recv_from(10)
            assert e.data == b"" and not e.truncated  # an empty datagram is not EOF

    run(main())


def test_connected_and_icmp_refused():
    async def main():
        probe = await eddy.bind_udp()
        dead = probe.local_address
        probe.close()
        async with await eddy.bind_udp() as a, await eddy.bind_udp() as b:
            a.connect(b.local_address)
            assert a.peer_address == b.local_address
            await a.send(b"hi")
            assert (await b.recv_from()).address == a.local_address
            await b.send_to(b"yo", a.local_address)
            assert await a.recv() == eddy.Datagram(b"yo", None, False)
            a.connect(dead)
            waiter = eddy.spawn(a.recv())
            await a.send(b"x")
            with pytest.raises(ConnectionRefusedError):
                await waiter

    run(main())


def test_bad_input():
    fds = open_fds()

    async def main():
        async with await eddy.bind_udp() as a:
            with pytest.raises(OSError) as ei:
                await a.send_to(b"x" * 70000, a.local_address)
            assert ei.value.errno == errno.EMSGSIZE
            for n in (-1, 65536, 1 << 40):
                with pytest.raises(ValueError):
                    await a.recv_from(n)
            with pytest.raises(TypeError):
                await a.recv_from("10")
            with pytest.raises(TypeError):
                await a.send_to("text", a.local_address)
            with pytest.raises(ValueError):
                await a.send_to(b"x", ("example.invalid", 1))
            with pytest.raises(ValueError):
                await a.send_to(b"x", ("127.0.0.1", 70000))
            with pytest.raises(TypeError):
                await a.send_to(b"x", "127.0.0.1:1")
            with pytest.raises(OSError) as ei:
                await a.send(b"x")  # not connected
            assert ei.value.errno == errno.EDESTADDRREQ
            with pytest.raises(OSError):
                a.peer_address
            with pytest.raises(ValueError):
                a.set_option(eddy.SocketOption.MULTICAST_TTL, 256)
            with pytest.raises(ValueError):
                a.set_option(99, 1)
            with pytest.raises(ValueError):
                a.set_option(eddy.SocketOption.RCVBUF, 1 << 40)
        with pytest.raises(ValueError):
            await eddy.bind_udp("nonsense", 0)
        with pytest.raises(ValueError):
            await eddy.bind_udp("127.0.0.1", -1)
        with pytest.raises(eddy.ClosedResourceError):
            await a.recv_from()

    run(main())
    assert open_fds() == fds


def test_close_wakes_receiver():
    async def main():
        a = await eddy.bind_udp()
        waiter = eddy.spawn(a.recv_from())
        await eddy.sleep(0.01)
        a.close()
        with pytest.raises(eddy.ClosedResourceError):
            await waiter

    run(main())


def test_broadcast_and_multicast_on_loopback():
    lo = socket.if_nametoindex("lo")

    async def main():
        async with await eddy.bind_udp("127.255.255.255", 0) as rx, await eddy.bind_udp() as tx:
            with pytest.raises(PermissionError):
                await tx.send_to(b"b", rx.local_address)
            tx.set_option(eddy.SocketOption.BROADCAST, 1)
            assert tx.get_option(eddy.SocketOption.BROADCAST) == 1
            await tx.send_to(b"b", rx.local_address)
            assert (await rx.recv_from()).data == b"b"
            async with await eddy.bind_udp("239.255.0.79", 0) as group:
                group.join_multicast("239.255.0.79", lo)
                tx.set_option(eddy.SocketOption.MULTICAST_TTL, 0)  # this host only
                tx.set_option(eddy.SocketOption.MULTICAST_IF, lo)
                tx.set_option(eddy.SocketOption.MULTICAST_LOOP, 1)
                await tx.send_to(b"m", group.local_address)
                assert (await group.recv_from()).data == b"m"
                group.leave_multicast("239.255.0.79", lo)
                with pytest.raises(OSError) as ei:
                    group.leave_multicast("239.255.0.79", lo)
                assert ei.value.errno == errno.EADDRNOTAVAIL

    run(main())


def test_from_fd():
    fds = open_fds()

    async def main():
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.bind(("127.0.0.1", 0))
        port = raw.getsockname()[1]
        u = eddy.UdpSocket.from_fd(raw.detach())
        assert u.local_address == ("127.0.0.1", port)
        await u.send_to(b"me", u.local_address)
        assert (await u.recv_from()).data == b"me"
        u.close()
        tcp = socket.socket()
        with pytest.raises(ValueError):
            eddy.UdpSocket.from_fd(tcp.detach())  # refused, and closed by Eddy
        with pytest.raises(OSError):
            eddy.UdpSocket.from_fd(-1)

    run(main())
    assert open_fds() == fds


def test_socket_options_match_the_header():
    import re
    from pathlib import Path

    header = (Path(__file__).resolve().parents[3] / "include" / "eddy.h").read_text()
    opts = {m[0]: int(m[1]) for m in re.findall(r"#define EDDY_OPT_([A-Z_]+) (\d+)", header)}
    assert opts == {o.name: o.value for o in eddy.SocketOption}


def test_per_datagram_path_checks_and_caches():
    """The per-datagram calls (argtypes-free, address caches) check what the old path
    checked: a cached destination is not reused for an equal-but-wrong-typed address,
    many destinations and senders past the caches' size stay right, and misuse (another
    thread, a closed socket, after the run) raises the same exceptions."""
    import threading

    async def main():
        async with await eddy.bind_udp() as a, await eddy.bind_udp() as b:
            host, port = b.local_address
            assert await a.send_to(b"1", (host, port)) == 1  # cached now
            for bad in ((host, True), (host, float(port))):
                with pytest.raises(TypeError):
                    await a.send_to(b"x", bad)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                await a.send_to(b"x", (host, [port]))  # type: ignore[arg-type]
            assert await b.recv_from() == (b"1", a.local_address, False)
            # More senders and destinations than the caches hold (256 each).
            senders = [await eddy.bind_udp() for _ in range(300)]
            try:
                for i, s in enumerate(senders):
                    await s.send_to(bytes([i % 256]), (host, port))
                    d = await b.recv_from()
                    assert d.address == s.local_address and d.data == bytes([i % 256])
                    await b.send_to(b"r", d.address)
                    assert (await s.recv_from()).data == b"r"
            finally:
                for s in senders:
                    s.close()
            # Another thread: the owner's check, as before.
            errors = []
            t = threading.Thread(target=lambda: errors.append(_try(a)))
            t.start()
            t.join()
            assert errors and isinstance(errors[0], RuntimeError), errors
        with pytest.raises(eddy.ClosedResourceError):
            await a.send_to(b"x", (host, port))
        with pytest.raises(eddy.ClosedResourceError):
            await a.recv()
        return b

    def _try(sock):
        try:
            sock.send_to(b"x", ("127.0.0.1", 9)).send(None)
        except BaseException as e:  # noqa: BLE001 - the exception is the result
            return e
        return None

    b = run(main())
    with pytest.raises((eddy.ClosedResourceError, RuntimeError)):
        run(_after(b))


async def _after(b):
    await b.send_to(b"x", ("127.0.0.1", 9))
