"""eddy.EventLoop (issue 17): add_reader/add_writer and the sock_* methods, on real
sockets over 127.0.0.1."""
from __future__ import annotations

import asyncio
import os
import socket

import pytest

import eddy


@pytest.fixture
def loop():
    lp = eddy.new_event_loop()
    yield lp
    if not lp.is_closed():
        lp.close()


def _pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def test_add_reader_is_level_triggered_until_drained(loop):
    a, b = _pair()
    calls = []

    def on_readable():
        calls.append(1)
        if len(calls) == 3:
            a.recv(100)  # drained on the third call: no more calls after it

    b.send(b"xyz")
    loop.add_reader(a, on_readable)
    loop.run_until_complete(asyncio.sleep(0.2))
    assert len(calls) == 3
    assert loop.remove_reader(a) is True
    assert loop.remove_reader(a) is False
    b.send(b"more")
    loop.run_until_complete(asyncio.sleep(0.05))
    assert len(calls) == 3  # removed: not called
    a.close()
    b.close()


def test_add_reader_waits_for_data_then_fires(loop):
    a, b = _pair()
    fut = loop.create_future()
    loop.add_reader(a.fileno(), lambda: fut.done() or fut.set_result(a.recv(10)))
    loop.call_later(0.05, b.send, b"late")
    assert loop.run_until_complete(asyncio.wait_for(fut, 10)) == b"late"
    loop.remove_reader(a.fileno())
    a.close()
    b.close()


def test_add_writer_fires_when_writable_and_remove_writer(loop):
    a, b = _pair()
    fut = loop.create_future()
    loop.add_writer(a, lambda: fut.done() or fut.set_result("w"))
    assert loop.run_until_complete(fut) == "w"
    assert loop.remove_writer(a) is True
    assert loop.remove_writer(a) is False
    a.close()
    b.close()


def test_add_reader_replaces_the_previous_callback(loop):
    a, b = _pair()
    seen = []
    loop.add_reader(a, seen.append, "old")
    loop.add_reader(a, lambda: (seen.append("new"), a.recv(10)))
    b.send(b"x")
    loop.run_until_complete(asyncio.sleep(0.05))
    assert "old" not in seen and "new" in seen
    loop.remove_reader(a)
    a.close()
    b.close()


def test_add_reader_on_pipe_and_bad_fds(loop):
    r, w = os.pipe()
    os.set_blocking(r, False)
    fut = loop.create_future()
    loop.add_reader(r, lambda: fut.done() or fut.set_result(os.read(r, 10)))
    os.write(w, b"p")
    assert loop.run_until_complete(fut) == b"p"
    loop.remove_reader(r)
    os.close(r)
    os.close(w)
    with pytest.raises(ValueError):
        loop.add_reader(-1, print)
    with pytest.raises(ValueError):
        loop.add_reader(object(), print)


def test_sock_accept_connect_recv_sendall(loop):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    payload = os.urandom(4 * 1024 * 1024)  # larger than the socket buffers: sendall must wait

    async def server():
        conn, addr = await loop.sock_accept(lsock)
        assert addr[0] == "127.0.0.1"
        with conn:
            got = bytearray()
            while len(got) < len(payload):
                chunk = await loop.sock_recv(conn, 65536)
                assert chunk
                got += chunk
            await loop.sock_sendall(conn, b"done")
        return bytes(got)

    async def client():
        c = socket.socket()
        c.setblocking(False)
        with c:
            await loop.sock_connect(c, ("127.0.0.1", port))
            await loop.sock_sendall(c, payload)
            buf = bytearray(16)
            n = await loop.sock_recv_into(c, buf)
            return bytes(buf[:n])

    async def main():
        return await asyncio.gather(server(), client())

    got, reply = loop.run_until_complete(main())
    assert got == payload
    assert reply == b"done"
    lsock.close()


def test_sock_connect_refused_and_name(loop):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = socket.socket()
    c.setblocking(False)
    with pytest.raises(ConnectionRefusedError):
        loop.run_until_complete(loop.sock_connect(c, ("127.0.0.1", port)))
    c.close()


def test_sock_recv_cancelled_leaves_no_watch(loop):
    a, b = _pair()

    async def main():
        t = loop.create_task(loop.sock_recv(a, 10))
        await asyncio.sleep(0.02)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert a.fileno() not in loop._fds  # the wait's watch is gone
        b.send(b"after")
        return await asyncio.wait_for(loop.sock_recv(a, 10), 10)

    assert loop.run_until_complete(main()) == b"after"
    a.close()
    b.close()


def test_reader_that_closes_its_fd_is_not_called_again(loop):
    r, w = os.pipe()
    os.set_blocking(r, False)
    calls = []

    def on_readable():
        calls.append(1)
        os.close(r)  # closed without remove_reader, as some libraries do

    os.write(w, b"x")
    loop.add_reader(r, on_readable)
    loop.run_until_complete(asyncio.sleep(0.2))
    assert calls == [1]
    loop.remove_reader(r)  # the fd is gone: nothing to undo, no error
    os.close(w)
