"""eddy.EventLoop (issue 17): create_connection / create_server and the socket
transport's flow control, on real sockets over 127.0.0.1."""
from __future__ import annotations

import asyncio
import socket

import pytest

import eddy


@pytest.fixture
def loop():
    lp = eddy.new_event_loop()
    yield lp
    if not lp.is_closed():
        lp.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False


class Collect(asyncio.Protocol):
    def __init__(self, loop):
        self.data = bytearray()
        self.lost = loop.create_future()
        self.paused = 0
        self.resumed = 0
        self.eof = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.data += data

    def eof_received(self):
        self.eof = True

    def pause_writing(self):
        self.paused += 1

    def resume_writing(self):
        self.resumed += 1

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(exc)


async def _until(pred, timeout=10.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def test_echo_and_extra_info(loop):
    async def main():
        srv = await loop.create_server(Echo, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        tr, pr = await loop.create_connection(lambda: Collect(loop), "127.0.0.1", port)
        assert tr.get_extra_info("peername") == ("127.0.0.1", port)
        assert tr.get_extra_info("sockname")[0] == "127.0.0.1"
        assert tr.get_extra_info("socket").fileno() >= 0
        assert tr.get_extra_info("missing", "dflt") == "dflt"
        tr.write(b"hello ")
        tr.writelines([b"wor", bytearray(b"ld"), memoryview(b"!")])
        await _until(lambda: bytes(pr.data) == b"hello world!")
        assert tr.can_write_eof()
        tr.write_eof()
        with pytest.raises(RuntimeError):
            tr.write(b"after eof")
        exc = await asyncio.wait_for(pr.lost, 10)  # the echo side closes on EOF
        assert exc is None
        assert tr.is_closing()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_create_connection_with_a_host_name(loop):
    async def main():
        srv = await loop.create_server(Echo, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        tr, pr = await loop.create_connection(lambda: Collect(loop), "localhost", port, family=socket.AF_INET)
        tr.write(b"named")
        await _until(lambda: bytes(pr.data) == b"named")
        tr.close()
        await pr.lost
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_pause_and_resume_reading(loop):
    async def main():
        got = Collect(loop)
        srv = await loop.create_server(lambda: got, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        await _until(lambda: hasattr(got, "transport"))
        got.transport.pause_reading()
        assert not got.transport.is_reading()
        w.write(b"while paused")
        await w.drain()
        await asyncio.sleep(0.1)
        assert bytes(got.data) == b""  # nothing delivered while paused
        got.transport.resume_reading()
        assert got.transport.is_reading()
        await _until(lambda: bytes(got.data) == b"while paused")
        w.close()
        await w.wait_closed()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_write_flow_control_pauses_and_resumes_the_protocol(loop):
    async def main():
        # The server does not read until told to: the client's buffer must fill.
        server_side = []

        class Slow(asyncio.Protocol):
            def connection_made(self, tr):
                tr.pause_reading()
                server_side.append(tr)

        srv = await loop.create_server(Slow, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        tr, pr = await loop.create_connection(lambda: Collect(loop), "127.0.0.1", port)
        tr.set_write_buffer_limits(high=64 * 1024, low=16 * 1024)
        assert tr.get_write_buffer_limits() == (16 * 1024, 64 * 1024)
        chunk = b"x" * 65536
        sent = 0
        while pr.paused == 0 and sent < 256 * 1024 * 1024:
            tr.write(chunk)
            sent += len(chunk)
        assert pr.paused == 1
        assert tr.get_write_buffer_size() > 64 * 1024
        await _until(lambda: server_side)
        server_side[0].resume_reading()
        await _until(lambda: pr.resumed == 1)
        assert tr.get_write_buffer_size() <= 16 * 1024
        await _until(lambda: tr.get_write_buffer_size() == 0)
        tr.close()
        await pr.lost
        server_side[0].close()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_abort_drops_buffer_and_resets(loop):
    async def main():
        peers = []

        class Keep(asyncio.Protocol):
            def connection_made(self, tr):
                tr.pause_reading()
                peers.append(tr)

        srv = await loop.create_server(Keep, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        tr, pr = await loop.create_connection(lambda: Collect(loop), "127.0.0.1", port)
        tr.write(b"y" * (8 * 1024 * 1024))
        assert tr.get_write_buffer_size() > 0
        tr.abort()
        assert tr.is_closing()
        assert await asyncio.wait_for(pr.lost, 10) is None
        assert tr.get_write_buffer_size() == 0
        await _until(lambda: peers)
        peers[0].close()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_close_flushes_buffer_then_loses_connection(loop):
    async def main():
        received = bytearray()
        done = loop.create_future()

        class Sink(asyncio.Protocol):
            def data_received(self, d):
                received.extend(d)

            def connection_lost(self, exc):
                done.set_result(None)

        srv = await loop.create_server(Sink, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        tr, pr = await loop.create_connection(lambda: Collect(loop), "127.0.0.1", port)
        blob = bytes(range(256)) * 20000  # ~5 MB: buffered
        tr.write(blob)
        tr.close()
        tr.close()  # idempotent
        await asyncio.wait_for(pr.lost, 30)
        await asyncio.wait_for(done, 30)
        assert bytes(received) == blob
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_buffered_protocol(loop):
    class Buf(asyncio.BufferedProtocol):
        def __init__(self):
            self.buf = bytearray(7)  # small: many get_buffer calls
            self.got = bytearray()
            self.lost = loop.create_future()

        def get_buffer(self, sizehint):
            return self.buf

        def buffer_updated(self, n):
            self.got += self.buf[:n]

        def connection_lost(self, exc):
            self.lost.set_result(exc)

    async def main():
        srv = await loop.create_server(Echo, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        tr, pr = await loop.create_connection(Buf, "127.0.0.1", port)
        msg = b"buffered protocol over eddy " * 100
        tr.write(msg)
        await _until(lambda: bytes(pr.got) == msg)
        tr.close()
        await pr.lost
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_protocol_exception_goes_to_handler_and_closes(loop):
    contexts = []
    loop.set_exception_handler(lambda lp, ctx: contexts.append(ctx))

    class Bad(asyncio.Protocol):
        def data_received(self, data):
            raise ZeroDivisionError

    async def main():
        srv = await loop.create_server(Bad, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"x")
        assert await asyncio.wait_for(r.read(), 10) == b""  # server side closed
        w.close()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())
    assert any(isinstance(c.get("exception"), ZeroDivisionError) for c in contexts)


def test_create_server_several_hosts_reuse_port_start_serving(loop):
    async def main():
        srv = await loop.create_server(Echo, "127.0.0.1", 0, reuse_port=True, start_serving=False)
        port = srv.sockets[0].getsockname()[1]
        assert not srv.is_serving()
        assert srv.sockets[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        # a second server on the same port: reuse_port allows it
        srv2 = await loop.create_server(Echo, "127.0.0.1", port, reuse_port=True)
        await srv.start_serving()
        assert srv.is_serving()
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"rp")
        assert await r.readexactly(2) == b"rp"
        w.close()
        await w.wait_closed()
        srv2.close()
        srv.close()
        await srv.wait_closed()
        await srv2.wait_closed()

    loop.run_until_complete(main())


def test_create_server_several_hosts(loop):
    async def main():
        has6 = socket.has_ipv6
        hosts = ["127.0.0.1", "::1"] if has6 else ["127.0.0.1"]
        try:
            srv = await loop.create_server(Echo, hosts, 0)
        except OSError:
            srv = await loop.create_server(Echo, ["127.0.0.1"], 0)  # no IPv6 loopback here
        fams = {s.family for s in srv.sockets}
        assert socket.AF_INET in fams
        for s in srv.sockets:
            host, port = s.getsockname()[:2]
            r, w = await asyncio.open_connection(host, port)
            w.write(b"h")
            assert await r.readexactly(1) == b"h"
            w.close()
            await w.wait_closed()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())


def test_streams_many_concurrent_connections(loop):
    async def handle(reader, writer):
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def client(port, i):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        for j in range(20):
            msg = f"{i}:{j}\n".encode()
            w.write(msg)
            await w.drain()
            assert await r.readline() == msg
        w.close()
        await w.wait_closed()

    async def main():
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        await asyncio.gather(*(client(port, i) for i in range(100)))
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())
    assert len(loop._fds) == 0  # every watch of the closed connections is gone


def test_eof_right_behind_the_data_is_seen(loop):
    # Data and FIN arrive before the transport watches the socket: one edge carries
    # both, the read is short (readiness cleared) and only the hang-up state left in
    # Eddy's readiness cache says that EOF follows. A loop that waits for another
    # edge after a short read hangs here.
    import threading

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()

    def serve():
        conn, _ = lsock.accept()
        conn.sendall(b"last words")
        conn.close()

    th = threading.Thread(target=serve)
    th.start()
    c = socket.create_connection(lsock.getsockname())
    th.join()

    async def main():
        tr, pr = await loop.create_connection(lambda: Collect(loop), sock=c)
        exc = await asyncio.wait_for(pr.lost, 10)
        return bytes(pr.data), pr.eof, exc

    assert loop.run_until_complete(main()) == (b"last words", True, None)
    lsock.close()


def test_pause_resume_reading_reuses_the_host_task(loop):
    # A paused reader keeps its host task (its operation stays valid while the
    # descriptor stays watched): many pause/resume cycles with the writer busy must
    # not make a host task per cycle (one would be left waiting forever each time).
    async def main():
        peers = []

        class Keep(asyncio.Protocol):
            def connection_made(self, tr):
                tr.pause_reading()
                peers.append(tr)

        srv = await loop.create_server(Keep, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        tr, pr = await loop.create_connection(lambda: Collect(loop), "127.0.0.1", port)
        tr.write(b"z" * (16 * 1024 * 1024))  # the peer does not read: the writer stays watched
        assert tr.get_write_buffer_size() > 0
        await asyncio.sleep(0.01)
        before = sum(t is not None for t in loop._reactor.by_slot)
        for _ in range(200):
            tr.pause_reading()
            await asyncio.sleep(0)
            tr.resume_reading()
            await asyncio.sleep(0)
        after = sum(t is not None for t in loop._reactor.by_slot)
        assert after - before < 5, (before, after)
        tr.abort()
        await pr.lost
        await _until(lambda: peers)
        peers[0].close()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())
