"""TCP: echo under load, errors, timeouts and cancellation at each await point."""
from __future__ import annotations

import os
import socket
import struct
import threading
import time

import pytest

import eddy


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def echo_handler(stream: eddy.TcpStream) -> None:
    async with stream:
        while True:
            data = await stream.read(65536)
            if not data:
                break
            await stream.write_all(data)
        await stream.shutdown()


async def echo_server(listener: eddy.TcpListener) -> None:
    tasks = []
    try:
        while True:
            s = await listener.accept()
            tasks.append(eddy.spawn(echo_handler(s)))
    finally:
        for t in tasks:
            t.cancel()


def test_echo_200_concurrent_connections():
    N = 200

    async def client(port: int, i: int) -> int:
        payload = os.urandom(1000 + 97 * i)  # up to ~20 KB, distinct per client
        async with await eddy.connect("127.0.0.1", port) as s:
            s.set_nodelay(True)

            async def send():
                await s.write_all(payload)
                await s.shutdown()

            w = eddy.spawn(send())
            got = bytearray()
            while True:
                chunk = await s.read(8192)
                if not chunk:
                    break
                got += chunk
            await w
        assert bytes(got) == payload, f"client {i}: {len(got)} of {len(payload)} bytes, or corrupted"
        return len(payload)

    async def main():
        async with await eddy.listen("127.0.0.1", 0, backlog=256) as listener:
            assert listener.port > 0
            srv = eddy.spawn(echo_server(listener))
            sizes = await eddy.wait_for(eddy.gather(*(client(listener.port, i) for i in range(N))), 30)
            srv.cancel()
            return sum(sizes)

    total = eddy.run(main())
    assert total == sum(1000 + 97 * i for i in range(N))


def test_read_exactly_and_eof():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:

            async def serve():
                async with await lst.accept() as s:
                    await s.write_all(b"0123456789")
                    await s.shutdown()

            t = eddy.spawn(serve())
            async with await eddy.connect("127.0.0.1", lst.port) as c:
                assert await c.read_exactly(4) == b"0123"
                assert await c.read_exactly(0) == b""
                with pytest.raises(eddy.IncompleteReadError) as ei:
                    await c.read_exactly(100)
                assert ei.value.partial == b"456789" and ei.value.expected == 100
                assert await c.read(10) == b""  # EOF again
            await t

    eddy.run(main())


def test_write_accepts_bytes_like():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:
            srv = eddy.spawn(echo_server(lst))
            async with await eddy.connect("127.0.0.1", lst.port) as c:
                await c.write_all(b"ab")
                await c.write_all(bytearray(b"cd"))
                await c.write_all(memoryview(b"xxef")[2:])
                await c.write_all(memoryview(bytearray(b"gh")))
                assert await c.write(b"") == 0
                await c.shutdown()
                data = b""
                while len(data) < 8:
                    chunk = await c.read(100)
                    if not chunk:
                        break
                    data += chunk
                assert data == b"abcdefgh"
                with pytest.raises(TypeError):
                    await c.write("str")
                with pytest.raises(TypeError):
                    await c.write(123)
            srv.cancel()

    eddy.run(main())


def test_connect_refused():
    port = free_port()

    async def main():
        with pytest.raises(ConnectionRefusedError) as ei:
            await eddy.connect("127.0.0.1", port)
        assert ei.value.errno == 111 and "refused" in str(ei.value).lower()

    eddy.run(main())


def test_listen_address_in_use():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]

    async def main():
        with pytest.raises(OSError) as ei:
            await eddy.listen("127.0.0.1", port)
        assert ei.value.errno == 98

    try:
        eddy.run(main())
    finally:
        s.close()


def _rst_server(ready: threading.Event, port_box: list) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port_box.append(srv.getsockname()[1])
    ready.set()
    conn, _ = srv.accept()
    conn.recv(100)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # RST
    srv.close()


def test_peer_reset():
    ready, box = threading.Event(), []
    th = threading.Thread(target=_rst_server, args=(ready, box), daemon=True)
    th.start()
    ready.wait(5)

    async def main():
        async with await eddy.connect("127.0.0.1", box[0]) as c:
            await c.write_all(b"hello")
            with pytest.raises(ConnectionResetError):
                await eddy.wait_for(c.read(100), 5)
            # writing to a reset connection fails with an exception, no SIGPIPE
            with pytest.raises((BrokenPipeError, ConnectionResetError)):
                for _ in range(100):
                    await c.write_all(b"x" * 65536)

    eddy.run(main())
    th.join(5)


# ------------------------------------------------ timeouts/cancel at each await


def test_timeout_on_read_keeps_stream_usable():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:
            async with await eddy.connect("127.0.0.1", lst.port) as c:
                async with await lst.accept() as s:
                    with pytest.raises(TimeoutError):
                        await eddy.wait_for(c.read(10), 0.05)
                    await s.write_all(b"late")
                    assert await eddy.wait_for(c.read(10), 5) == b"late"

    eddy.run(main())


def test_timeout_on_accept():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:
            t = time.monotonic()
            with pytest.raises(TimeoutError):
                async with eddy.timeout(0.05):
                    await lst.accept()
            assert time.monotonic() - t < 2
            # the listener still works
            c = await eddy.connect("127.0.0.1", lst.port)
            s = await eddy.wait_for(lst.accept(), 5)
            c.close()
            s.close()

    eddy.run(main())


def test_timeout_on_connect():
    # A listener with a full accept queue drops further SYNs: connect() stays pending.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]

    async def main():
        streams = []
        timed_out = 0
        try:
            for _ in range(16):
                try:
                    streams.append(await eddy.wait_for(eddy.connect("127.0.0.1", port), 0.2))
                except TimeoutError:
                    timed_out += 1
                    break
        finally:
            for s in streams:
                s.close()
        return timed_out

    try:
        assert eddy.run(main()) == 1
    finally:
        srv.close()


def test_timeout_on_write_under_backpressure():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:
            async with await eddy.connect("127.0.0.1", lst.port) as c:
                async with await lst.accept() as _s:  # never reads
                    big = b"x" * (64 << 20)
                    t = time.monotonic()
                    with pytest.raises(TimeoutError):
                        await eddy.wait_for(c.write_all(big), 0.2)
                    assert time.monotonic() - t < 3
                    # a single write() returns a partial count or blocks: bounded too
                    with pytest.raises(TimeoutError):
                        async with eddy.timeout(0.1):
                            while True:
                                await c.write(big)

    eddy.run(main())


def _cancel_at(make_aw):
    """Spawn a task blocked in the awaitable, cancel it, check CancelledError."""

    async def main():
        ctx = {}
        async with await eddy.listen("127.0.0.1", 0) as lst:
            c = await eddy.connect("127.0.0.1", lst.port)
            s = await lst.accept()
            ctx.update(listener=lst, client=c, server=s)
            try:
                reached = []

                async def victim():
                    reached.append(1)
                    await make_aw(ctx)

                t = eddy.spawn(victim())
                await eddy.sleep(0.05)
                assert reached and not t.done()
                t.cancel()
                with pytest.raises(eddy.CancelledError):
                    await eddy.wait_for(t, 5)
                assert t.cancelled()
            finally:
                c.close()
                s.close()

    eddy.run(main())


def test_cancel_while_sleeping():
    _cancel_at(lambda ctx: eddy.sleep(30))


def test_cancel_while_reading():
    _cancel_at(lambda ctx: ctx["client"].read(10))


def test_cancel_while_accepting():
    _cancel_at(lambda ctx: ctx["listener"].accept())


def test_cancel_while_writing_under_backpressure():
    _cancel_at(lambda ctx: ctx["client"].write_all(b"y" * (64 << 20)))


def test_cancel_while_awaiting_task_and_gather():
    _cancel_at(lambda ctx: eddy.gather(eddy.sleep(30), eddy.sleep(30)))


def test_cancel_while_connecting():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]

    async def main():
        streams = []
        try:
            # fill the accept queue
            for _ in range(16):
                try:
                    streams.append(await eddy.wait_for(eddy.connect("127.0.0.1", port), 0.2))
                except TimeoutError:
                    break
            t = eddy.spawn(eddy.connect("127.0.0.1", port))
            await eddy.sleep(0.05)
            assert not t.done()
            t.cancel()
            with pytest.raises(eddy.CancelledError):
                await t
        finally:
            for s in streams:
                s.close()

    try:
        eddy.run(main())
    finally:
        srv.close()


def test_two_readers_rejected():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:
            async with await eddy.connect("127.0.0.1", lst.port) as c, await lst.accept() as s:
                r1 = eddy.spawn(c.read(10))
                await eddy.sleep(0.02)
                with pytest.raises(RuntimeError):
                    await c.read(10)
                await s.write_all(b"z")
                assert await r1 == b"z"

    eddy.run(main())


def test_close_wakes_pending_reader():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as lst:
            c = await eddy.connect("127.0.0.1", lst.port)
            s = await lst.accept()
            r = eddy.spawn(c.read(10))
            await eddy.sleep(0.02)
            c.close()
            with pytest.raises(eddy.ClosedResourceError):
                await eddy.wait_for(r, 5)
            s.close()

    eddy.run(main())


# ------------------------------------------- hot-path call arguments (_lib.Fast)


def test_fast_path_arguments_pass_exact_64bit_values():
    # The argtypes-free prototypes take handles/pointers as _lib.u64arg(v) and
    # lengths as _lib.szarg(v): check the values C receives, through llabs().
    import ctypes

    from eddy import _lib

    llabs = ctypes.PyDLL(None).llabs
    llabs.restype = ctypes.c_int64
    for v in (0, 1, 5, 0x7FFFFFFF, 0x80000000, 0x1_0000_0005, 0x7F12_3456_789A, (1 << 63) - 1):
        assert llabs(_lib.u64arg(v)) == v
    for v in (0, 1, 65536, 0x7FFFFFFF, 0x80000000, 1 << 40):
        assert llabs(_lib.szarg(v)) == v


def test_partial_writes_of_bytes_and_buffers_keep_the_data():
    # A slow reader forces write_all() through partial writes (the path that
    # computes the data's address only when a write is partial).
    size = 6 << 20
    payloads = [os.urandom(size), bytearray(os.urandom(size)), memoryview(os.urandom(size + 1))[1:]]

    async def slow_reader(stream: eddy.TcpStream, want: int) -> bytes:
        got = bytearray()
        async with stream:
            while len(got) < want:
                chunk = await stream.read(65536)
                if not chunk:
                    break
                got += chunk
                if len(got) < (1 << 20):
                    await eddy.sleep(0.001)
        return bytes(got)

    async def main():
        async with await eddy.listen("127.0.0.1", 0) as listener:
            for p in payloads:
                async with await eddy.connect("127.0.0.1", listener.port) as c:
                    s = await listener.accept()
                    r = eddy.spawn(slow_reader(s, len(p)))
                    await c.write_all(p)
                    assert await r == bytes(p)
                    n = await c.write(p)  # one partial-or-full write()
                    assert 0 < n <= len(p)

    eddy.run(main())
