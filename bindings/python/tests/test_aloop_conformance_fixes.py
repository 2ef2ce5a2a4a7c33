"""eddy.EventLoop (issue 17): behaviours CPython's test_sendfile / test_tasks found
missing, checked on their own (real sockets and files, 127.0.0.1)."""
from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

import eddy


@pytest.fixture
def loop():
    lp = eddy.new_event_loop()
    yield lp
    if not lp.is_closed():
        lp.close()


def test_executor_job_raising_concurrent_cancelled_error_is_asyncio_cancelled(loop):
    # As asyncio.wrap_future does for the default executor: a job that re-raises
    # concurrent.futures.CancelledError (e.g. future.result() of a cancelled
    # run_coroutine_threadsafe) cancels the awaiting side with asyncio's CancelledError.
    def job():
        raise concurrent.futures.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        loop.run_until_complete(loop.run_in_executor(None, job))

    def timeout():
        raise concurrent.futures.TimeoutError("slow")

    with pytest.raises(asyncio.TimeoutError):
        loop.run_until_complete(loop.run_in_executor(None, timeout))


def test_executor_job_raising_stop_iteration_is_an_error_not_a_hang(loop):
    def job():
        raise StopIteration

    with pytest.raises(RuntimeError) as ei:
        loop.run_until_complete(asyncio.wait_for(loop.run_in_executor(None, job), 10))
    assert isinstance(ei.value.__cause__, StopIteration)


def test_datagram_transport_repr_does_not_need_a_selector(loop):
    async def main():
        tr, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
        try:
            open_repr = repr(tr)
        finally:
            tr.close()
        return open_repr, repr(tr)

    open_repr, closing_repr = loop.run_until_complete(main())
    assert "read=polling" in open_repr and "write=<idle, bufsize=0>" in open_repr
    assert "closing" in closing_repr


def test_loop_sendfile_on_a_socket_transport_is_native(loop, tmp_path):
    data = bytes(range(256)) * 4096  # 1 MiB
    path = tmp_path / "f"
    path.write_bytes(data)

    async def main():
        got = bytearray()
        done = loop.create_future()

        class Sink(asyncio.Protocol):
            def data_received(self, d):
                got.extend(d)
                if len(got) >= len(data) + 3:
                    done.set_result(None)

        server = await loop.create_server(Sink, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        tr, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        used = []
        native = loop._sock_sendfile_native

        async def spy(*a):
            used.append(True)
            return await native(*a)

        loop._sock_sendfile_native = spy
        tr.write(b"pre")
        with open(path, "rb") as f:
            n = await loop.sendfile(tr, f)
        await asyncio.wait_for(done, 30)
        tr.close()
        server.close()
        await server.wait_closed()
        return n, bytes(got), used

    n, got, used = loop.run_until_complete(main())
    assert n == len(data)
    assert got == b"pre" + data
    assert used == [True]  # os.sendfile, not asyncio's read-and-write fallback


def test_write_during_sendfile_raises(loop, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * (8 * 1024 * 1024))

    async def main():
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        tr, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        with open(path, "rb") as f:
            task = asyncio.ensure_future(loop.sendfile(tr, f))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            with pytest.raises(RuntimeError, match="sendfile is in progress"):
                tr.write(b"no")
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, ConnectionError):
                pass
        tr.abort()
        server.close()

    loop.run_until_complete(main())
