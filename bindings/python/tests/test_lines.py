"""Reading lines and frames (issue 15 item 5): readline/readuntil/readexactly with
asyncio's names and exceptions, async for, the limit, mixing with read(), bad input
(peer reset mid-line, a line over the limit, negative/absurd sizes), no fd leak."""
from __future__ import annotations

import asyncio
import socket
import struct
import tracemalloc

import pytest

import eddy
from conftest import open_fds


async def pair():
    listener = await eddy.listen("127.0.0.1", 0)
    acc = eddy.spawn(listener.accept())
    c = await eddy.connect("127.0.0.1", listener.port)
    s = await acc
    listener.close()
    return c, s


def test_readline_readuntil_readexactly_and_read_share_one_buffer():
    async def main():
        c, s = await pair()
        async with c, s:
            await c.write_all(b"one\ntwo\r\nthree|rest-of-it")
            await c.shutdown()
            assert await s.readline() == b"one\n"
            assert await s.readuntil(b"\r\n") == b"two\r\n"
            assert await s.readuntil(b"|") == b"three|"
            assert await s.readexactly(4) == b"rest"
            # plain read() gets what readline read ahead, then the socket again
            assert await s.read(3) == b"-of"
            assert await s.read() == b"-it"
            assert await s.read() == b""
            assert await s.readline() == b""

    eddy.run(main())


def test_read_exactly_is_kept_as_an_alias():
    assert eddy.TcpStream.read_exactly is eddy.TcpStream.readexactly


def test_async_for_yields_lines_then_the_unterminated_tail():
    async def main():
        c, s = await pair()
        async with c, s:
            async def send():
                for part in (b"a\nb", b"b\n", b"", b"c\nno-newline"):
                    await c.write_all(part)
                    await eddy.sleep(0.01)
                await c.shutdown()

            t = eddy.spawn(send())
            got = [line async for line in s]
            await t
            assert got == [b"a\n", b"bb\n", b"c\n", b"no-newline"]

    eddy.run(main())


def test_lines_split_across_many_small_writes():
    async def main():
        c, s = await pair()
        async with c, s:
            payload = b"".join(b"line %d\n" % i for i in range(500))

            async def send():
                for i in range(0, len(payload), 7):
                    await c.write_all(payload[i : i + 7])
                await c.shutdown()

            t = eddy.spawn(send())
            lines = [line async for line in s]
            await t
            assert lines == [b"line %d\n" % i for i in range(500)]

    eddy.run(main())


def test_readuntil_eof_is_asyncio_incomplete_read_error():
    async def main():
        c, s = await pair()
        async with c, s:
            await c.write_all(b"no separator")
            await c.shutdown()
            with pytest.raises(asyncio.IncompleteReadError) as ei:
                await s.readuntil(b"\n")
            assert isinstance(ei.value, eddy.IncompleteReadError)
            assert ei.value.partial == b"no separator" and ei.value.expected is None
            assert await s.read() == b""  # consumed

    eddy.run(main())


def test_line_over_the_limit_raises_and_memory_stays_bounded():
    async def main():
        c, s = await pair()
        async with c, s:
            s.limit = 1000

            async def send():
                await c.write_all(b"x" * 200_000)  # no newline, far over the limit
                await c.write_all(b"\nok\n")
                await c.shutdown()

            t = eddy.spawn(send())
            with pytest.raises(asyncio.LimitOverrunError) as ei:
                await s.readuntil(b"\n")
            assert isinstance(ei.value, eddy.LimitOverrunError)
            # it stopped reading soon after the limit: at most one socket read more
            assert len(s._pending) <= 1000 + 64 * 1024
            # readline(): ValueError (asyncio's), the over-long data dropped
            with pytest.raises(ValueError):
                await s.readline()
            # the stream still works: skip the rest of the long line
            while True:
                try:
                    line = await s.readline()
                    break
                except ValueError:
                    continue
            # the tail of the long line (when it fits the limit), then the next line
            if line != b"ok\n":
                assert line.strip(b"x") == b"\n" and len(line) <= 1001
                line = await s.readline()
            assert line == b"ok\n"
            await t

    eddy.run(main())


def test_separator_found_beyond_limit():
    async def main():
        c, s = await pair()
        async with c, s:
            s.limit = 4
            await c.write_all(b"abcdefgh\nxy\n")
            with pytest.raises(eddy.LimitOverrunError) as ei:
                await s.readuntil(b"\n")
            assert ei.value.consumed == 8
            with pytest.raises(ValueError):
                await s.readline()  # drops "abcdefgh\n" (separator was seen)
            assert await s.readline() == b"xy\n"

    eddy.run(main())


def test_bad_arguments():
    async def main():
        c, s = await pair()
        async with c, s:
            for bad in (-1, -(1 << 70)):
                with pytest.raises(ValueError):
                    await s.readexactly(bad)
            with pytest.raises(TypeError):
                await s.readexactly("3")
            with pytest.raises(ValueError):
                await s.readuntil(b"")
            with pytest.raises(TypeError):
                await s.readuntil("\n")
            for bad in (0, -5):
                with pytest.raises(ValueError):
                    s.limit = bad
            with pytest.raises(TypeError):
                s.limit = 1.5
            assert await s.readexactly(0) == b""

    eddy.run(main())


def test_readexactly_of_a_peer_supplied_absurd_size_does_not_allocate_it():
    """A length prefix of 2**40 from the peer, then a few bytes and EOF: the read
    fails with IncompleteReadError holding what came, having allocated about
    that much, not 1 TiB (before issue 15: MemoryError or an OOM)."""

    async def main():
        c, s = await pair()
        async with c, s:
            await c.write_all(struct.pack("!Q", 1 << 40) + b"z" * 1000)
            await c.shutdown()
            (n,) = struct.unpack("!Q", await s.readexactly(8))
            tracemalloc.start()
            try:
                with pytest.raises(eddy.IncompleteReadError) as ei:
                    await s.readexactly(n)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert ei.value.partial == b"z" * 1000 and ei.value.expected == 1 << 40
            assert peak < 4 * 1024 * 1024

    eddy.run(main())


def test_readexactly_large_frame_in_pieces():
    async def main():
        c, s = await pair()
        async with c, s:
            frame = bytes(range(256)) * 8000  # ~2 MB: several doubling chunks

            async def send():
                await c.write_all(struct.pack("!I", len(frame)) + frame + b"tail\n")

            t = eddy.spawn(send())
            (n,) = struct.unpack("!I", await s.readexactly(4))
            assert await s.readexactly(n) == frame
            assert await s.readline() == b"tail\n"
            await t

    eddy.run(main())


def test_cancelled_readexactly_keeps_the_bytes_it_read():
    async def main():
        c, s = await pair()
        async with c, s:
            await c.write_all(b"12345")
            t = eddy.spawn(s.readexactly(10))
            await eddy.sleep(0.05)
            t.cancel()
            with pytest.raises(eddy.CancelledError):
                await t
            await c.write_all(b"67890")
            assert await s.readexactly(10) == b"1234567890"

    eddy.run(main())


def test_peer_reset_mid_line_is_an_error_and_leaks_nothing():
    before = open_fds()

    async def main():
        listener = await eddy.listen("127.0.0.1", 0)
        raw = socket.create_connection(("127.0.0.1", listener.port))
        s = await listener.accept()
        listener.close()
        async with s:
            raw.sendall(b"half a li")
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()  # RST
            with pytest.raises(ConnectionResetError):
                while True:
                    line = await s.readline()
                    if not line:
                        raise AssertionError("EOF instead of a reset")
                    assert not line.endswith(b"\n")  # the partial line is never a whole one

    eddy.run(main())
    assert open_fds() == before


def test_closed_stream_raises_closed_resource_error():
    async def main():
        c, s = await pair()
        c.close()
        s.close()
        for aw in (lambda: s.readline(), lambda: s.readuntil(b"x"), lambda: s.readexactly(3)):
            with pytest.raises(eddy.ClosedResourceError):
                await aw()

    eddy.run(main())


def test_close_wakes_a_task_blocked_in_readline():
    async def main():
        c, s = await pair()
        async with c:
            t = eddy.spawn(s.readline())
            await eddy.sleep(0.02)
            s.close()
            with pytest.raises(eddy.ClosedResourceError):
                await t

    eddy.run(main())
