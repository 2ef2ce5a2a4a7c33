"""eddy.EventLoop (issue 17): run_in_executor / getaddrinfo / getnameinfo on
Eddy's blocking pool; Unix sockets, datagrams, signals, subprocesses on the loop."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
import time

import pytest

import eddy


@pytest.fixture
def loop():
    lp = eddy.new_event_loop()
    yield lp
    if not lp.is_closed():
        lp.close()


def test_run_in_executor_runs_on_eddy_pool(loop):
    main = threading.get_ident()

    def work(x):
        t = threading.current_thread()
        # Eddy's pool threads are not threading.Thread objects: Python sees a dummy thread.
        return x * 2, threading.get_ident(), isinstance(t, threading._DummyThread)

    async def go():
        return await asyncio.gather(*(loop.run_in_executor(None, work, i) for i in range(20)))

    out = loop.run_until_complete(go())
    assert [r[0] for r in out] == [i * 2 for i in range(20)]
    assert all(r[1] != main and r[2] for r in out)
    assert loop._default_executor is None  # no ThreadPoolExecutor was made


def test_run_in_executor_exception_and_parallelism(loop):
    def fail():
        raise LookupError("from pool")

    with pytest.raises(LookupError):
        loop.run_until_complete(loop.run_in_executor(None, fail))

    async def go():
        t0 = time.monotonic()
        await asyncio.gather(*(loop.run_in_executor(None, time.sleep, 0.2) for _ in range(4)))
        return time.monotonic() - t0

    assert loop.run_until_complete(go()) < 0.75  # 4 sleeps of 0.2 s overlap on the pool


def test_run_in_executor_cancelled_before_start_never_runs():
    lp = eddy.EventLoop(blocking_threads=1)
    ran = []
    gate = threading.Event()

    async def go():
        busy = lp.run_in_executor(None, gate.wait, 10)  # occupies the only pool thread
        queued = lp.run_in_executor(None, ran.append, 1)
        await asyncio.sleep(0.05)
        queued.cancel()
        # The cancellation reaches the job table in the future's done callback,
        # which the loop runs in its next iteration (asyncio schedules them).
        await asyncio.sleep(0)
        gate.set()
        await busy
        await asyncio.sleep(0.1)

    try:
        lp.run_until_complete(go())
    finally:
        lp.close()
    assert ran == []


def test_getaddrinfo_and_getnameinfo(loop):
    infos = loop.run_until_complete(loop.getaddrinfo("localhost", 80, family=socket.AF_INET, type=socket.SOCK_STREAM))
    assert infos and all(i[0] == socket.AF_INET and i[4][1] == 80 for i in infos)
    assert ("127.0.0.1", 80) in [i[4] for i in infos]
    host, port = loop.run_until_complete(loop.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV))
    assert (host, port) == ("127.0.0.1", "80")
    with pytest.raises(socket.gaierror):
        loop.run_until_complete(loop.getaddrinfo("name.invalid", 80))


def test_unix_connection_and_server(loop, tmp_path):
    path = str(tmp_path / "s.sock")

    async def handle(r, w):
        w.write(await r.readline())
        await w.drain()
        w.close()

    async def main():
        srv = await asyncio.start_unix_server(handle, path)
        r, w = await asyncio.open_unix_connection(path)
        w.write(b"unix\n")
        got = await r.readline()
        w.close()
        await w.wait_closed()
        srv.close()
        await srv.wait_closed()
        return got

    assert loop.run_until_complete(main()) == b"unix\n"


def test_datagram_endpoint(loop):
    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, tr):
            self.tr = tr

        def datagram_received(self, data, addr):
            self.tr.sendto(data.upper(), addr)

    class Client(asyncio.DatagramProtocol):
        def __init__(self):
            self.got = loop.create_future()

        def datagram_received(self, data, addr):
            self.got.set_result(data)

    async def main():
        st, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        port = st.get_extra_info("sockname")[1]
        ct, cp = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
        ct.sendto(b"dgram")
        got = await asyncio.wait_for(cp.got, 10)
        ct.close()
        st.close()
        return got

    assert loop.run_until_complete(main()) == b"DGRAM"


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_signal_handler_runs_in_the_loop(loop):
    got = []

    def on_usr1(tag):
        got.append((tag, threading.get_ident()))
        loop.stop()

    loop.add_signal_handler(signal.SIGUSR1, on_usr1, "usr1")
    try:
        loop.call_later(0.05, os.kill, os.getpid(), signal.SIGUSR1)
        loop.call_later(10, loop.stop)
        loop.run_forever()
    finally:
        assert loop.remove_signal_handler(signal.SIGUSR1) is True
    assert got == [("usr1", threading.get_ident())]
    with pytest.raises(TypeError):
        loop.add_signal_handler(signal.SIGUSR1, asyncio.sleep)


def test_subprocess_exec(loop):

    async def main():
        p = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await p.communicate(b"through eddy")
        return out, p.returncode

    asyncio.set_event_loop(loop)
    try:
        assert loop.run_until_complete(main()) == (b"THROUGH EDDY", 0)
    finally:
        asyncio.set_event_loop(None)
