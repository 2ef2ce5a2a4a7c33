"""Misuse, lifetimes, signals, fork, descriptors, the examples."""
from __future__ import annotations

import asyncio
import gc
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import eddy
from conftest import REPO, assert_not_killed, child_env, open_fds, run_snippet


# ---------------------------------------------------------------- misuse


def test_misuse_outside_run():
    with pytest.raises(TypeError):
        eddy.run(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        eddy.run(eddy.sleep)  # type: ignore[arg-type]
    coro = eddy.sleep(0.1)
    with pytest.raises(RuntimeError, match="no running eddy runtime"):
        coro.send(None)
    coro.close()

    async def noop():
        pass

    c = noop()
    with pytest.raises(RuntimeError):
        eddy.spawn(c)
    with pytest.raises(TypeError):
        eddy.spawn(42)  # type: ignore[arg-type]
    # eddy awaitables under asyncio: an error, not a hang or a crash
    with pytest.raises(RuntimeError):
        asyncio.run(eddy.sleep(0.01))


def test_nested_run_rejected():
    async def inner():
        return 1

    async def main():
        c = inner()
        with pytest.raises(RuntimeError, match="another eddy.run"):
            eddy.run(c)
        return "ok"

    assert eddy.run(main()) == "ok"


def test_awaiting_asyncio_objects_inside_eddy_is_an_error():
    async def main():
        with pytest.raises(RuntimeError):
            await asyncio.sleep(0.01)  # asyncio itself refuses: no event loop
        with pytest.raises(RuntimeError, match="eddy awaitables"):
            await asyncio.sleep(0)  # a bare yield reaches eddy's driver
        return "ok"

    assert eddy.run(main()) == "ok"


def test_argument_validation():
    async def main():
        for port in (-1, 65536, 10**20):
            with pytest.raises(ValueError):
                await eddy.connect("127.0.0.1", port)
            with pytest.raises(ValueError):
                await eddy.listen("127.0.0.1", port)
        for port in ("80", 1.5, None, True):
            with pytest.raises(TypeError):
                await eddy.connect("127.0.0.1", port)
        with pytest.raises(TypeError):
            await eddy.connect(b"127.0.0.1", 80)
        with pytest.raises(ValueError):
            await eddy.connect("127.0.0.1\x00evil", 80)
        with pytest.raises(ValueError):
            await eddy.listen("127.0.0.1", 0, backlog=-5)
        async with await eddy.listen("127.0.0.1", 0) as lst:
            async with await eddy.connect("127.0.0.1", lst.port) as c, await lst.accept() as s:
                with pytest.raises(ValueError):
                    await c.read(-1)
                with pytest.raises(TypeError):
                    await c.read("10")
                with pytest.raises(ValueError):
                    await c.read_exactly(-3)
                # An absurd size allocates nothing up front (issue 15): it waits for data.
                with pytest.raises(TimeoutError):
                    await eddy.wait_for(c.read_exactly(1 << 62), 0.05)
                await s.write_all(b"abc")
                assert await c.read(10**12) == b"abc"  # huge n: capped by the buffer
                assert await c.read(0) == b""

    eddy.run(main())


def test_closed_and_reused_objects():
    async def main():
        lst = await eddy.listen("127.0.0.1", 0)
        c = await eddy.connect("127.0.0.1", lst.port)
        s = await lst.accept()
        c.close()
        c.close()  # idempotent
        assert c.closed
        for aw in (lambda: c.read(1), lambda: c.write_all(b"x"), lambda: c.shutdown(), lambda: c.read_exactly(2)):
            with pytest.raises(eddy.ClosedResourceError):
                await aw()
        with pytest.raises(eddy.ClosedResourceError):
            c.set_nodelay(True)
        lst.close()
        with pytest.raises(eddy.ClosedResourceError):
            await lst.accept()
        assert isinstance(eddy.ClosedResourceError(), OSError)
        return s

    s = eddy.run(main())

    # after the run ended: using its objects raises, closing is harmless
    async def later():
        with pytest.raises(eddy.RuntimeEndedError):
            await s.read(1)
        with pytest.raises(eddy.RuntimeEndedError):
            await s.write_all(b"x")
        with pytest.raises(eddy.RuntimeEndedError):
            s.set_nodelay(True)
        s.close()
        return "ok"

    assert eddy.run(later()) == "ok"
    s.close()


def test_task_from_finished_run():
    async def child():
        await eddy.sleep(30)
        return 3

    async def main():
        return eddy.spawn(child())

    t = eddy.run(main())  # returned pending: cancelled at shutdown
    assert t.done() and t.cancelled()

    async def again():
        with pytest.raises(RuntimeError):
            await t

    eddy.run(again())


def test_eddy_error_codes():
    e = eddy.EddyError(-5001)
    assert isinstance(e, OSError) and e.code == -5001
    assert "EBADHANDLE" in e.name and str(e)
    assert isinstance(eddy.ForkedError(), eddy.EddyError)
    from eddy._errors import error_from_code

    assert isinstance(error_from_code(-111), ConnectionRefusedError)
    assert isinstance(error_from_code(-104), ConnectionResetError)
    assert isinstance(error_from_code(-32), BrokenPipeError)
    assert isinstance(error_from_code(-110), TimeoutError)
    e = error_from_code(-98)
    assert type(e) is OSError and e.errno == 98 and e.strerror
    assert isinstance(error_from_code(-5003), eddy.EddyError)


DANGEROUS = r"""
import ctypes, gc, os, sys, eddy
from eddy import _net, _driver, _lib

results = []
def expect(exc, f):
    try:
        f()
    except exc as e:
        results.append(type(e).__name__)
    else:
        raise SystemExit(f"no {exc}")

async def main():
    rt = _driver.running()
    # forged and stale handles reach C and come back as EBADHANDLE
    for forged in (0, 1, 12345, 2**64 - 1, 0xdeadbeefdeadbeef):
        s = _net.TcpStream(rt, forged)
        s._fin.detach()
        for op in (s.read(10), s.write_all(b"x"), s.shutdown()):
            try:
                await op
            except eddy.EddyError as e:
                assert e.code == _lib.EBADHANDLE, e
            else:
                raise SystemExit("forged handle accepted")
        s.close()
    l = await eddy.listen("127.0.0.1", 0)
    h = l._h
    l.close()
    ghost = _net.TcpListener(rt, h)   # reuse of a closed handle
    ghost._fin.detach()
    try:
        await ghost.accept()
    except eddy.EddyError as e:
        assert e.code == _lib.EBADHANDLE
    # C functions called with a cx that is not the current one
    lib = rt.lib
    assert lib.eddy_future_poll(1, None) < 0
    assert lib.eddy_tcp_poll_read(1, 12345, None, 10, None) < 0
    return "done"

print(eddy.run(main()))
# after the run: handles of a freed runtime
lib = _lib.load()
print(lib.eddy_tcp_close(12345), lib.eddy_runtime_free(0))
print("survived")
"""


def test_dangerous_misuse_in_subprocess():
    p = run_snippet(DANGEROUS)
    assert_not_killed(p)
    assert p.returncode == 0, p.stderr
    assert "survived" in p.stdout


# ---------------------------------------------------------------- lifetimes


def test_resource_warning_on_forgotten_stream():
    async def main():
        lst = await eddy.listen("127.0.0.1", 0)
        c = await eddy.connect("127.0.0.1", lst.port)
        s = await lst.accept()
        with pytest.warns(ResourceWarning, match="unclosed eddy TcpStream"):
            del c
            gc.collect()
        s.close()
        with pytest.warns(ResourceWarning, match="unclosed eddy TcpListener"):
            del lst
            gc.collect()
        await eddy.sleep(0.01)  # the deferred close runs on the loop

    eddy.run(main())


def test_no_fd_left_after_run():
    import ctypes

    usleep = ctypes.CDLL(None).usleep
    usleep.argtypes = [ctypes.c_uint]
    gc.collect()
    before = open_fds()

    async def handler(s):
        async with s:
            data = await s.read(100)
            await s.write_all(data)

    async def main():
        lst = await eddy.listen("127.0.0.1", 0)

        async def serve():
            while True:
                eddy.spawn(handler(await lst.accept()))

        eddy.spawn(serve())
        for i in range(20):
            async with await eddy.connect("127.0.0.1", lst.port) as c:
                await c.write_all(b"ping")
                assert await c.read(10) == b"ping"
        forgotten = await eddy.connect("127.0.0.1", lst.port)  # never closed
        await eddy.blocking_call(usleep, 1000)
        try:
            await eddy.connect("127.0.0.1", 1)
        except OSError:
            pass
        return forgotten

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        f = eddy.run(main())
        del f
        gc.collect()
    assert open_fds() == before, os.listdir("/proc/self/fd")


class _FailingList(list):
    """Stands in for the runtime's housekeeping list: append() raises, as any
    code inside a callback may (MemoryError, a signal handler's exception ...)."""

    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def append(self, item):
        self.calls.append(item)
        raise RuntimeError("raised inside the ctypes callback")


def test_callback_exception_never_escapes(monkeypatch):
    # The binding's C-called callback (_THEN_FN: eddy_future_then's completion of a
    # blocking call whose awaiting task went away) raises. Nothing may reach
    # ctypes (which would only print it and hand C a garbage return), and the
    # call's memory must not be freed: the entry stays, kept for good.
    import ctypes

    from eddy import _driver

    read = ctypes.CDLL(None).read
    read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    read.restype = ctypes.c_ssize_t
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    rfd, wfd = os.pipe()
    calls = []

    async def main():
        rt = _driver.running()
        buf = ctypes.create_string_buffer(64)
        pending_before = set(_driver.then_pending)
        with pytest.raises(TimeoutError):
            await eddy.wait_for(eddy.blocking_call(read, rfd, buf, 4), 0.05)
        (key,) = set(_driver.then_pending) - pending_before  # the orphaned call
        rt._hk = _FailingList(calls)
        os.write(wfd, b"done")  # the worker's read() completes; C calls _THEN_FN on this thread
        deadline = time.monotonic() + 30
        while not calls and time.monotonic() < deadline:
            await eddy.sleep(0.01)
        rt._hk = []
        assert calls, "the completion callback never ran"
        assert key in _driver.then_pending, "the call's memory was released although its callback failed"
        assert buf.raw[:4] == b"done"
        _driver.then_pending.pop(key)
        return "ok"

    try:
        assert eddy.run(main()) == "ok"
    finally:
        os.close(rfd)
        os.close(wfd)
    assert unraisable == [], [u.exc_value for u in unraisable]


def test_exception_in_a_user_callback_on_a_worker():
    # A C function run by blocking_call calls back into Python on a worker
    # thread (qsort's comparator) and the callback raises: ctypes reports it
    # (unraisable hook) and hands C 0; the call completes, the run goes on.
    import ctypes

    libc = ctypes.CDLL(None)
    CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
    qsort = libc.qsort
    qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, CMP]
    qsort.restype = None
    seen = []

    def cmp(a, b):
        seen.append(threading.get_ident())
        if a[0] == 13 or b[0] == 13:
            raise LookupError("comparator failed")
        return a[0] - b[0]

    unraisable = []
    old = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        async def main():
            arr = (ctypes.c_int * 8)(5, 3, 7, 1, 13, 2, 8, 6)
            await eddy.blocking_call(qsort, arr, 8, ctypes.sizeof(ctypes.c_int), CMP(cmp))
            ok = (ctypes.c_int * 4)(4, 3, 2, 1)
            await eddy.blocking_call(qsort, ok, 4, ctypes.sizeof(ctypes.c_int), CMP(cmp))
            return sorted(arr), list(ok)

        values, ok = eddy.run(main())
    finally:
        sys.unraisablehook = old
    assert values == [1, 2, 3, 5, 6, 7, 8, 13]  # the same numbers, whatever order C made of them
    assert ok == [1, 2, 3, 4]
    assert seen and threading.get_ident() not in seen  # called on a worker thread
    assert unraisable and all(isinstance(u.exc_value, LookupError) for u in unraisable)


# ---------------------------------------------------------------- signals


SIGINT_CHILD = r"""
import os, sys, eddy
before = len(os.listdir("/proc/self/fd"))
async def main():
    lst = await eddy.listen("127.0.0.1", 0)
    try:
        print("ready", flush=True)
        await eddy.sleep(60)
    finally:
        lst.close()
        print("cleanup", flush=True)
try:
    eddy.run(main())
except KeyboardInterrupt:
    print("KeyboardInterrupt", len(os.listdir("/proc/self/fd")) - before, flush=True)
    sys.exit(42)
print("returned normally")
"""


def _spawn_child(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code], env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_line(p: subprocess.Popen, want: str, timeout: float = 10) -> None:
    box = []
    th = threading.Thread(target=lambda: box.append(p.stdout.readline()), daemon=True)
    th.start()
    th.join(timeout)
    if not box or want not in box[0]:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"child did not print {want!r}: {box} {out} {err}")


def test_keyboard_interrupt_stops_run_cleanly():
    p = _spawn_child(SIGINT_CHILD)
    _wait_line(p, "ready")
    t = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail("eddy.run did not stop on SIGINT (hang)")
    assert p.returncode == 42, (p.returncode, out, err)
    assert "cleanup" in out and "KeyboardInterrupt 0" in out, out  # finally ran, no fd left
    assert time.monotonic() - t < 5


STUBBORN_CHILD = r"""
import sys, eddy
async def main():
    print("ready", flush=True)
    while True:
        try:
            await eddy.sleep(60)
        except KeyboardInterrupt:
            print("ignored", flush=True)
try:
    eddy.run(main())
except KeyboardInterrupt:
    print("stopped", flush=True)
    sys.exit(42)
"""


def test_second_sigint_stops_a_stubborn_main():
    p = _spawn_child(STUBBORN_CHILD)
    _wait_line(p, "ready")
    p.send_signal(signal.SIGINT)
    _wait_line(p, "ignored")
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail("second SIGINT did not stop eddy.run")
    assert p.returncode == 42, (out, err)


def test_sigint_during_blocking_call():
    code = r"""
import ctypes, sys, eddy
usleep = ctypes.CDLL(None).usleep
usleep.argtypes = [ctypes.c_uint]
async def main():
    print("ready", flush=True)
    await eddy.gather(*(eddy.blocking_call(usleep, 300_000) for _ in range(8)))
    await eddy.sleep(60)
try:
    eddy.run(main())
except KeyboardInterrupt:
    print("KI", flush=True)
    sys.exit(42)
"""
    p = _spawn_child(code)
    _wait_line(p, "ready")
    time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail("SIGINT during blocking calls: hang")
    assert p.returncode == 42, (p.returncode, out, err)


# ---------------------------------------------------------------- fork


FORK_CHILD = r"""
import os, sys, eddy
async def main():
    lst = await eddy.listen("127.0.0.1", 0)
    c = await eddy.connect("127.0.0.1", lst.port)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            try:
                await eddy.sleep(0.01)
            except eddy.ForkedError:
                code |= 1
            try:
                await c.write_all(b"x")
            except eddy.ForkedError:
                code |= 2
            c.close()  # harmless
            async def other():
                return 1
            try:
                eddy.run(other())
            except eddy.EddyError as e:
                if e.code == -5002:
                    code |= 4
            try:
                eddy.spawn(other())
            except eddy.ForkedError:
                code |= 8
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    c.close(); lst.close()
    return status
st = eddy.run(main())
print("child-status", os.WIFSIGNALED(st), os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1)
"""


def test_fork_child_raises():
    p = run_snippet(FORK_CHILD)
    assert_not_killed(p)
    m = re.search(r"child-status (\w+) (-?\d+)", p.stdout)
    assert m, (p.stdout, p.stderr)
    assert m.group(1) == "False", "child killed by a signal"
    assert int(m.group(2)) == 15, f"child exit bits {m.group(2)} (want 15)\n{p.stderr}"


# ---------------------------------------------------------------- examples


class _DelayHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # /{ms}/{text}
        _, ms, text = self.path.split("/", 2)
        time.sleep(int(ms) / 1000)
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_delay_client_example():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _DelayHandler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        t = time.monotonic()
        p = subprocess.run(
            [sys.executable, str(REPO / "examples/python/delay_client.py"), "--port", str(srv.server_port), "-n", "5", "--step", "100"],
            env=child_env(), capture_output=True, text=True, timeout=30,
        )
        dt = time.monotonic() - t
    finally:
        srv.shutdown()
        srv.server_close()
    assert p.returncode == 0, (p.stdout, p.stderr)
    lines = [l for l in p.stdout.splitlines() if "->" in l]
    assert len(lines) == 5
    assert "request-4" in lines[0] and "request-0" in lines[-1]  # shortest delay first
    assert "5/5 replies" in p.stdout
    assert dt < 5  # concurrent: ~0.5 s, not the 1.5 s sum


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_echo_server_example_stops_on_signal(sig):
    p = subprocess.Popen(
        [sys.executable, str(REPO / "examples/python/echo_server.py"), "--port", "0"],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        box = []
        th = threading.Thread(target=lambda: box.append(p.stdout.readline()), daemon=True)
        th.start()
        th.join(10)
        m = re.search(r":(\d+)", box[0] if box else "")
        assert m, box
        port = int(m.group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(b"hello eddy")
            got = b""
            while len(got) < 10:
                got += c.recv(100)
            assert got == b"hello eddy"
            p.send_signal(sig)
            out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, (p.returncode, out, err)
    assert "stopped" in out


def test_delay_client_against_eddy_delayserver():
    """The demo pairing: the Swift delay server built next to libeddy.so."""
    # `make test-python` builds it beside libeddy.so: missing is a failure, not a skip.
    from eddy import _lib

    _lib.load()
    server = Path(_lib._path or "").parent / "eddy-delayserver"
    assert server.is_file(), f"{server} not built (make build builds it beside libeddy.so)"
    srv = subprocess.Popen([str(server), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        box = []
        th = threading.Thread(target=lambda: box.append(srv.stdout.readline()), daemon=True)
        th.start()
        th.join(10)
        m = re.search(r":(\d+)\s*$", box[0] if box else "")
        assert m, box
        p = subprocess.run(
            [sys.executable, str(REPO / "examples/python/delay_client.py"), "--port", m.group(1), "-n", "10", "--step", "50"],
            env=child_env(), capture_output=True, text=True, timeout=30,
        )
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "10/10 replies" in p.stdout
    finally:
        srv.terminate()
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
