"""Real kernel faults through the Python front door, on loopback sockets (the C side is
Tests/c/test_faults.c; docs/RELIABILITY.md lists both): peer reset mid-read and
mid-write, half-close both ways, an EINTR storm on the loop thread, a slow reader with a
fast writer (RSS bounded), and fork (child raises, parent keeps serving)."""
from __future__ import annotations

import os
import re
import signal
import socket
import struct
import threading
import time

import eddy
from conftest import assert_not_killed, open_fds, run_snippet


def _rst(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def _pattern(n: int, seed: int) -> bytes:
    return bytes(((i * 31 + seed) ^ (i >> 8)) & 0xFF for i in range(n))


def _serve_one_echo(lst: "eddy.TcpListener"):
    async def go():
        s = await lst.accept()
        async with s:
            data = await s.read_exactly(5)
            await s.write_all(data)

    return go()


def _wait_full(sock: socket.socket, limit: float = 10.0) -> None:
    """Waits (an event, not a guess) until bytes are queued on `sock` and their count
    stops growing: the sender's buffers are full and its write is parked."""
    import fcntl
    import termios

    deadline, last, still = time.monotonic() + limit, -1, 0
    while time.monotonic() < deadline and still < 5:
        n = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
        still = still + 1 if n == last and n > 0 else 0
        last = n
        time.sleep(0.01)
    assert still >= 5, f"the peer's write never filled the buffers ({last} bytes queued)"


def _ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"ping!")
        return c.recv(5)


def test_reset_mid_read_then_serves_another():
    fds0 = open_fds()
    out = {}

    async def main():
        lst = await eddy.listen("127.0.0.1", 0)
        armed = threading.Event()

        def peer():
            c = socket.create_connection(("127.0.0.1", lst.port), timeout=10)
            c.sendall(b"x" * 1000)
            armed.wait(10)
            time.sleep(0.02)
            _rst(c)
            out["ping"] = _ping(lst.port)

        th = threading.Thread(target=peer)
        th.start()
        s = await lst.accept()
        got = 0
        try:
            while True:
                if got == 1000:
                    armed.set()
                chunk = await s.read(65536)
                if not chunk:
                    out["eof"] = True
                    break
                got += len(chunk)
        except ConnectionResetError as e:
            out["err"] = e
        s.close()
        out["got"] = got
        await _serve_one_echo(lst)
        lst.close()
        await eddy.to_thread(th.join)

    eddy.run(main())
    assert out["got"] == 1000
    assert isinstance(out.get("err"), ConnectionResetError), out
    assert out["ping"] == b"ping!"  # the loop is alive and serves the next client
    assert open_fds() == fds0


def test_reset_mid_write_then_serves_another():
    fds0 = open_fds()
    out = {}

    async def main():
        lst = await eddy.listen("127.0.0.1", 0)
        accepted = threading.Event()

        def peer():
            c = socket.create_connection(("127.0.0.1", lst.port), timeout=10)
            accepted.wait(10)
            _wait_full(c)  # the writer is now parked on a full socket buffer
            _rst(c)
            out["ping"] = _ping(lst.port)

        th = threading.Thread(target=peer)
        th.start()
        s = await lst.accept()
        accepted.set()
        try:
            await s.write_all(b"y" * (64 << 20))
        except (ConnectionResetError, BrokenPipeError) as e:
            out["err"] = e
        s.close()
        await _serve_one_echo(lst)
        lst.close()
        await eddy.to_thread(th.join)

    eddy.run(main())
    assert isinstance(out.get("err"), (ConnectionResetError, BrokenPipeError)), out
    assert out["ping"] == b"ping!"
    assert open_fds() == fds0


SIGPIPE_AT_DEFAULT = r"""
import signal, socket, struct
import eddy

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a pipeline tool's usual set-up


async def main():
    lst = await eddy.listen("127.0.0.1", 0)
    c = socket.create_connection(("127.0.0.1", lst.port), timeout=10)
    s = await lst.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # RST
    await eddy.sleep(0.05)
    errs = []
    for _ in range(3):  # ECONNRESET, then EPIPE (each raises SIGPIPE in the kernel)
        try:
            await s.write_all(b"x" * 100)
        except (ConnectionResetError, BrokenPipeError) as e:
            errs.append(type(e).__name__)
    s.close()
    lst.close()
    return errs


print("errors", *eddy.run(main()))
print("blocked", signal.SIGPIPE in signal.pthread_sigmask(signal.SIG_BLOCK, set()))
print("pending", signal.SIGPIPE in signal.sigpending())
"""


def test_write_to_reset_peer_with_sigpipe_at_default_action():
    # write() goes to the socket with os.write (no MSG_NOSIGNAL): the loop thread
    # blocks SIGPIPE during eddy.run, then drops what was raised and unblocks it.
    p = run_snippet(SIGPIPE_AT_DEFAULT)
    assert_not_killed(p)
    assert p.returncode == 0, p.stderr
    lines = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    errs = lines["errors"].split()
    assert len(errs) == 3 and "BrokenPipeError" in errs, errs
    assert lines["blocked"] == "False" and lines["pending"] == "False", p.stdout


def test_half_close_both_ways():
    fds0 = open_fds()
    payload = _pattern(200_000, 3)
    back = _pattern(70_000, 9)
    out = {}

    async def main():
        # 1. The peer shuts down first: we get every byte, then EOF (sticky), and may still write.
        lst = await eddy.listen("127.0.0.1", 0)

        def peer1():
            with socket.create_connection(("127.0.0.1", lst.port), timeout=10) as c:
                c.sendall(payload)
                c.shutdown(socket.SHUT_WR)
                buf = b""
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    buf += d
                out["peer1"] = buf

        th = threading.Thread(target=peer1)
        th.start()
        s = await lst.accept()
        got = b""
        while True:
            d = await s.read(65536)
            if not d:
                break
            got += d
        out["got1"] = got
        out["eof_again"] = await s.read(10)
        await s.write_all(b"reply")
        await s.shutdown()
        try:
            await s.write_all(b"late")
        except BrokenPipeError as e:
            out["late"] = e
        s.close()
        lst.close()
        await eddy.to_thread(th.join)

        # 2. We shut down first: the peer reads our bytes + EOF and still sends us data.
        raw = socket.socket()
        raw.bind(("127.0.0.1", 0))
        raw.listen(1)

        def peer2():
            c, _ = raw.accept()
            with c:
                buf = b""
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    buf += d
                out["peer2"] = buf
                c.sendall(back)

        th = threading.Thread(target=peer2)
        th.start()
        s = await eddy.connect("127.0.0.1", raw.getsockname()[1])
        await s.write_all(payload)
        await s.shutdown()
        got = b""
        while True:
            d = await s.read(65536)
            if not d:
                break
            got += d
        out["got2"] = got
        s.close()
        await eddy.to_thread(th.join)
        raw.close()

    eddy.run(main())
    assert out["got1"] == payload
    assert out["eof_again"] == b""
    assert out["peer1"] == b"reply"
    assert isinstance(out.get("late"), BrokenPipeError)
    assert out["peer2"] == payload
    assert out["got2"] == back
    assert open_fds() == fds0


def test_eintr_storm_loses_nothing():
    """SIGUSR1 (Python handler: installed without SA_RESTART) hits the loop thread
    every ~0.2 ms during reads, writes and epoll_wait: nothing fails, every byte arrives."""
    hits = [0]

    def handler(signum, frame):
        hits[0] += 1

    old = signal.signal(signal.SIGUSR1, handler)
    stop = threading.Event()
    tid = threading.get_ident()

    def storm():
        while not stop.is_set():
            signal.pthread_kill(tid, signal.SIGUSR1)
            time.sleep(0.0002)

    total = 3 << 20
    data = _pattern(total, 5)

    async def echo(s):
        async with s:
            while True:
                d = await s.read(65536)
                if not d:
                    return
                await s.write_all(d)

    async def main():
        lst = await eddy.listen("127.0.0.1", 0)
        c = await eddy.connect("127.0.0.1", lst.port)
        srv = eddy.spawn(echo(await lst.accept()))

        async def writer():
            for i in range(0, total, 50_000):
                await c.write_all(data[i : i + 50_000])
                await eddy.sleep(0.001)
            await c.shutdown()

        w = eddy.spawn(writer())
        got = bytearray()
        while True:
            d = await c.read(65536)
            if not d:
                break
            got += d
        await w
        await srv
        c.close()
        lst.close()
        return bytes(got)

    th = threading.Thread(target=storm)
    th.start()
    try:
        got = eddy.run(main())
    finally:
        stop.set()
        th.join()
        signal.signal(signal.SIGUSR1, old)
    assert hits[0] > 50
    assert got == data


def test_slow_reader_backpressure_rss_bounded():
    total = 64 << 20
    chunk = b"z" * (1 << 20)
    out = {}

    async def main():
        raw = socket.socket()
        raw.bind(("127.0.0.1", 0))
        raw.listen(1)
        started = threading.Event()

        def peer():
            c, _ = raw.accept()
            with c:
                time.sleep(1.0)  # not reading: the writer must wait
                started.set()
                n = 0
                bad = 0
                while True:
                    d = c.recv(1 << 20)
                    if not d:
                        break
                    n += len(d)
                    bad += len(d) - d.count(b"z")
                out["peer"] = (n, bad)

        th = threading.Thread(target=peer)
        th.start()
        s = await eddy.connect("127.0.0.1", raw.getsockname()[1])
        rss0 = _rss_kb()
        sent = 0
        peak = rss0
        t0 = time.monotonic()
        while sent < total:
            await s.write_all(chunk)
            sent += len(chunk)
            if not started.is_set():
                out.setdefault("before_read", sent)
            peak = max(peak, _rss_kb())
        out["stall"] = time.monotonic() - t0
        await s.shutdown()
        s.close()
        await eddy.to_thread(th.join)
        raw.close()
        out["rss"] = (rss0, peak)

    eddy.run(main())
    rss0, peak = out["rss"]
    assert out["stall"] >= 0.9  # writes pended while the peer did not read
    assert out["before_read"] < total // 4  # backpressure, not buffering
    assert peak - rss0 < 32 * 1024, out  # memory bounded: < 32 MB growth for 64 MB written
    assert out["peer"] == (total, 0)


FORK_PARENT = r"""
import os, eddy
async def echo(s):
    async with s:
        while True:
            d = await s.read(65536)
            if not d:
                return
            await s.write_all(d)
async def main():
    lst = await eddy.listen("127.0.0.1", 0)
    pid = os.fork()
    if pid == 0:
        try:
            await eddy.sleep(0.01)
            os._exit(1)
        except eddy.ForkedError:
            os._exit(0)
    _, st = os.waitpid(pid, 0)
    # The parent keeps working on the same runtime: accept, echo, connect, timers.
    c = await eddy.connect("127.0.0.1", lst.port)
    t = eddy.spawn(echo(await lst.accept()))
    data = os.urandom(300000)
    async def wr():
        await c.write_all(data)
    w = eddy.spawn(wr())
    got = await c.read_exactly(len(data))
    await w
    await c.shutdown()
    await t
    c.close(); lst.close()
    await eddy.sleep(0.01)
    return st, got == data
st, ok = eddy.run(main())
print("parent", os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, ok)
async def again():
    await eddy.sleep(0.001)
    return 7
print("new-run", eddy.run(again()))
"""


def test_fork_parent_keeps_working():
    p = run_snippet(FORK_PARENT)
    assert_not_killed(p)
    assert re.search(r"parent True True", p.stdout), (p.stdout, p.stderr)
    assert "new-run 7" in p.stdout, (p.stdout, p.stderr)
