"""The rest of TCP (issue 15): addresses, shutdown of either side, options,
reuse_port, listener/stream from a descriptor, bad input. Loopback only."""
from __future__ import annotations

import socket

import pytest

import eddy
from conftest import open_fds


def run(coro):
    return eddy.run(coro)


async def pair(host="127.0.0.1"):
    listener = await eddy.listen(host, 0)
    acc = eddy.spawn(listener.accept())
    c = await eddy.connect(host, listener.port)
    s = await acc
    return listener, c, s


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_addresses(host):
    async def main():
        listener, c, s = await pair(host)
        assert listener.local_address == (host, listener.port)
        assert c.peer_address == s.local_address
        assert s.peer_address == c.local_address
        with pytest.raises(OSError):
            s.peer_credentials  # SO_PEERCRED is for Unix-domain streams
        for x in (listener, c, s):
            x.close()

    run(main())


def test_shutdown_read_write_both():
    async def main():
        listener, c, s = await pair()
        await s.shutdown(socket.SHUT_RD)
        assert await s.read(10) == b""  # reads end although the peer is open
        await s.shutdown()  # write
        assert await c.read(10) == b""
        await c.shutdown(socket.SHUT_RDWR)
        for bad in (7, -1, True, "x"):
            with pytest.raises((ValueError, TypeError)):
                await c.shutdown(bad)
        for x in (listener, c, s):
            x.close()

    run(main())


def test_options_and_reuse_port():
    O = eddy.SocketOption

    async def main():
        a = await eddy.listen("127.0.0.1", 0, reuse_port=True)
        assert a.get_option(O.REUSEADDR) == 1
        b = await eddy.listen("127.0.0.1", a.port, reuse_port=True)
        b.close()
        with pytest.raises(OSError):
            await eddy.listen("127.0.0.1", a.port)
        a.close()
        listener, c, s = await pair()
        for opt, v in ((O.KEEPALIVE, 1), (O.KEEPALIVE_IDLE, 45), (O.KEEPALIVE_INTERVAL, 6), (O.KEEPALIVE_COUNT, 2),
                       (O.NODELAY, 1), (O.LINGER, 3)):
            c.set_option(opt, v)
            assert c.get_option(opt) == v
        c.set_option(O.LINGER, -1)
        assert c.get_option(O.LINGER) == -1
        c.set_option(O.RCVBUF, 40000)
        assert c.get_option(O.RCVBUF) >= 40000
        with pytest.raises(ValueError):
            c.set_option(O.KEEPALIVE_IDLE, 0)
        with pytest.raises(ValueError):
            c.set_option(55, 1)
        with pytest.raises(ValueError):
            c.set_option(O.SNDBUF, 1 << 40)
        with pytest.raises(TypeError):
            c.set_option(O.SNDBUF, "big")
        assert c.fileno() >= 0
        for x in (listener, c, s):
            x.close()
        with pytest.raises(eddy.ClosedResourceError):
            c.get_option(O.NODELAY)

    run(main())


def test_from_fd():
    fds = open_fds()

    async def main():
        raw = socket.socket()
        raw.bind(("127.0.0.1", 0))
        raw.listen()
        port = raw.getsockname()[1]
        listener = eddy.TcpListener.from_fd(raw.detach())
        assert listener.port == port
        client = socket.create_connection(("127.0.0.1", port))  # queued before the first accept
        s = await listener.accept()
        c = eddy.TcpStream.from_fd(client.detach())
        await s.write_all(b"hi")
        assert await c.read(10) == b"hi"
        for x in (listener, c, s):
            x.close()
        with pytest.raises(ValueError):
            eddy.TcpListener.from_fd(socket.socket(socket.AF_INET, socket.SOCK_DGRAM).detach())
        with pytest.raises(ValueError):
            eddy.TcpListener.from_fd(socket.socket().detach())  # not listening
        with pytest.raises(OSError):
            eddy.TcpStream.from_fd(-1)
        with pytest.raises(TypeError):
            eddy.TcpStream.from_fd("3")
        with pytest.raises(ValueError):
            eddy.TcpStream.from_fd(1 << 40)

    run(main())
    assert open_fds() == fds
