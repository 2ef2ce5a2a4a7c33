"""The driver over host-driven tasks: read sizes, reads/writes that wait (the
operations of eddy_host_turn), wakes while an operation is outstanding, more
ready tasks than one turn returns, and a stream used from another runtime."""
from __future__ import annotations

import threading

import pytest

import eddy
from eddy import _protocol


async def pair():
    lst = await eddy.listen("127.0.0.1", 0)
    c = await eddy.connect("127.0.0.1", lst.port)
    s = await lst.accept()
    lst.close()
    return c, s


def test_read_sizes_and_types():
    async def sizes():
        c, s = await pair()
        async with c, s:
            await c.write_all(b"0123456789")
            assert await s.read(3) == b"012"  # a smaller size than the last one
            assert await s.read(0) == b""
            with pytest.raises(TypeError):
                await s.read(65536.0)  # equal to the buffer size, still not an int
            with pytest.raises(TypeError):
                await s.read(True)
            with pytest.raises(ValueError):
                await s.read(-1)
            assert await s.read(1 << 20) == b"3456789"  # capped at the buffer size
        return "ok"

    async def waits():
        c, s = await pair()
        async with c, s:
            with pytest.raises(TimeoutError):
                async with eddy.timeout(0.05):
                    await s.read(4)  # its READ operation ends with a wake (the timer)
            await c.write_all(b"xy")
            assert await s.read(4) == b"xy"  # the stream still works after the timeout
        return "ok"

    assert eddy.run(sizes()) == "ok"
    assert eddy.run(waits()) == "ok"


def test_cancel_reader_then_other_task_reads():
    async def main():
        c, s = await pair()
        async with c, s:
            reader = eddy.spawn(s.read(100))
            await eddy.sleep(0.02)  # the reader's READ operation is outstanding
            assert reader.cancel()
            with pytest.raises(eddy.CancelledError):
                await reader
            await c.write_all(b"after")

            async def read_it():
                return await s.read(100)

            assert await eddy.spawn(read_it()) == b"after"  # no data was lost
        return "ok"

    assert eddy.run(main()) == "ok"


def test_second_reader_refused_while_first_waits():
    async def main():
        c, s = await pair()
        async with c, s:
            first = eddy.spawn(s.read(10))
            await eddy.sleep(0.01)
            with pytest.raises(RuntimeError, match="another task is waiting"):
                await s.read(10)
            await c.write_all(b"z")
            assert await first == b"z"

            async def read_with_timeout():
                async with eddy.timeout(10):  # attention pending the whole time
                    return await s.read(10)

            first = eddy.spawn(read_with_timeout())
            await eddy.sleep(0.01)
            with pytest.raises(RuntimeError, match="another task is waiting"):
                await s.read(10)
            s.close()  # wakes the waiting reader
            with pytest.raises(eddy.ClosedResourceError):
                await first
        return "ok"

    assert eddy.run(main()) == "ok"


def test_large_write_waits_for_the_socket():
    # 16 MiB does not fit in the socket buffers: write_all's direct write is
    # partial, then it yields WRITE operations until the peer has read it all.
    payload = bytes(range(256)) * (1 << 16)

    async def main():
        c, s = await pair()
        async with c, s:
            want = len(payload) + 4

            async def drain():
                got = bytearray()
                while len(got) < want:
                    chunk = await s.read(65536)
                    assert chunk
                    got += chunk
                    if len(got) % (1 << 20) < 65536:
                        await eddy.sleep(0.001)  # a slow reader
                return bytes(got)

            t = eddy.spawn(drain())
            assert await c.write_all(payload) is None
            assert await c.write_all(memoryview(bytearray(b"tail"))) is None  # a non-bytes buffer
            assert await t == payload + b"tail"
        return "ok"

    assert eddy.run(main()) == "ok"


def test_write_through_eddy_after_the_writer_task_changed():
    # A non-bytes buffer goes through eddy_host_write, which names the writing
    # task: after one task wrote and finished, another task's write must pass its
    # own id (the first one's is stale: EDDY_EBADHANDLE).
    async def main():
        c, s = await pair()
        async with c, s:

            async def writer(data):
                return await c.write(bytearray(data))

            assert await eddy.spawn(writer(b"ab")) == 2
            assert await eddy.spawn(writer(b"cd")) == 2  # a new task, the first one finished
            assert await c.write(bytearray(b"e")) == 1  # and the main task
            assert await s.read_exactly(5) == b"abcde"
        return "ok"

    assert eddy.run(main()) == "ok"


def test_write_results_on_the_direct_path():
    # write_all returns a finished awaitable when the socket took everything at
    # once; awaiting it gives None every time. write returns the count.
    async def main():
        c, s = await pair()
        async with c, s:
            done = c.write_all(b"abc")  # written by the call
            assert await s.read(3) == b"abc"
            assert await done is None
            assert await c.write_all(b"") is None
            assert await c.write(b"de") == 2
            assert await c.write(b"") == 0
            assert await c.write(bytearray(b"f")) == 1  # not bytes: through Eddy
            assert await s.read_exactly(3) == b"def"
            c.close()
            with pytest.raises(eddy.ClosedResourceError):
                await c.write_all(b"late")
            with pytest.raises(eddy.ClosedResourceError):
                await c.write(b"late")
        return "ok"

    assert eddy.run(main()) == "ok"


def test_more_ready_tasks_than_one_turn_returns():
    n = _protocol.TURN_EVENTS + 44

    async def main():
        pairs = [await pair() for _ in range(n)]

        async def echo(s):
            data = await s.read(100)
            await s.write_all(data)

        tasks = [eddy.spawn(echo(s)) for _, s in pairs]
        for i, (c, _) in enumerate(pairs):
            await c.write_all(b"%d" % i)
        for i, (c, _) in enumerate(pairs):
            assert await c.read(100) == b"%d" % i
        await eddy.gather(*tasks)
        for c, s in pairs:
            c.close()
            s.close()
        return "ok"

    assert eddy.run(main()) == "ok"


def test_stream_of_another_runtime_is_refused():
    box = {}
    ready = threading.Event()
    done = threading.Event()

    def other_thread():
        async def serve():
            c, s = await pair()
            box["stream"] = s
            box["peer"] = c
            ready.set()
            while not done.is_set():
                await eddy.sleep(0.01)
            c.close()
            s.close()

        eddy.run(serve())

    th = threading.Thread(target=other_thread)
    th.start()
    try:
        assert ready.wait(10)

        async def main():
            s = box["stream"]
            with pytest.raises(RuntimeError):
                await s.read(10)
            with pytest.raises(RuntimeError):
                await s.write_all(b"x")
            return "ok"

        assert eddy.run(main()) == "ok"
    finally:
        done.set()
        th.join(10)
