"""eddy.EventLoop (issue 17, item 6): asyncio code and C tasks spawned through
libeddy (eddy_spawn on loop.eddy_runtime) run on one loop, in one thread; asyncio
code awaits a C task with loop.eddy_join. The C task (tests/c_tasks/) is compiled
with gcc here; it talks TCP with Eddy's own futures to an asyncio server."""
from __future__ import annotations

import asyncio
import ctypes
import subprocess
import threading
from ctypes import POINTER, byref, c_char, c_int, c_size_t, c_uint16, c_uint64, c_void_p
from pathlib import Path

import pytest

import eddy
from eddy import _lib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent


class Job(ctypes.Structure):
    _fields_ = [
        ("rt", c_uint64), ("port", c_uint16), ("step", c_int), ("fut", c_uint64), ("tcp", c_uint64),
        ("off", c_size_t), ("outlen", c_size_t), ("inlen", c_size_t),
        ("out", c_char * 4096), ("inp", c_char * 8192),
    ]


@pytest.fixture(scope="module")
def c_task(tmp_path_factory):
    """(libeddy loaded RTLD_GLOBAL with eddy_spawn/eddy_task_free declared, the
    task's poll function). gcc is a build dependency of the project (make deps)."""
    so = tmp_path_factory.mktemp("ctask") / "echo_client_task.so"
    subprocess.run(
        ["gcc", "-O1", "-shared", "-fPIC", "-I", str(REPO / "include"), "-o", str(so), str(HERE / "c_tasks" / "echo_client_task.c")],
        check=True, timeout=120,
    )
    # The task calls libeddy's functions: the loaded libeddy (the one the binding
    # uses, so the same runtime handles) made global resolves them.
    g = ctypes.CDLL(_lib.load()._name, mode=ctypes.RTLD_GLOBAL)
    g.eddy_spawn.argtypes = [c_uint64, c_void_p, c_void_p, c_void_p, POINTER(c_uint64)]
    g.eddy_spawn.restype = c_int
    g.eddy_task_free.argtypes = [c_uint64]
    g.eddy_task_free.restype = c_int
    task = ctypes.CDLL(str(so))
    return g, ctypes.cast(task.echo_client_poll, c_void_p)


def _spawn(g, poll, loop, port, payload: bytes):
    job = Job(rt=loop.eddy_runtime, port=port, outlen=len(payload))
    job.out = payload
    tid = c_uint64()
    rc = g.eddy_spawn(loop.eddy_runtime, poll, ctypes.addressof(job), None, byref(tid))
    assert rc == 0, rc
    return job, tid.value


async def _upper_server():
    async def handle(reader, writer):
        assert isinstance(asyncio.get_running_loop(), eddy.EventLoop)
        data = await reader.read()  # until the client's EOF
        writer.write(data.upper())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_c_tasks_and_asyncio_on_one_loop(c_task):
    g, poll = c_task
    loop = eddy.new_event_loop()
    main_thread = threading.get_ident()

    async def main():
        assert asyncio.get_running_loop() is loop and threading.get_ident() == main_thread
        server = await _upper_server()
        port = server.sockets[0].getsockname()[1]

        async def py_client(i):
            r, w = await asyncio.open_connection("127.0.0.1", port)
            msg = f"asyncio client {i} ".encode() * 50
            w.write(msg)
            w.write_eof()
            got = await r.read()
            w.close()
            return got == msg.upper()

        # C tasks spawned while the loop runs, from inside a coroutine (its thread).
        jobs = [_spawn(g, poll, loop, port, f"c task {i} ".encode() * 100) for i in range(8)]
        c_status = asyncio.gather(*(loop.eddy_join(tid) for _, tid in jobs))
        py_ok = await asyncio.wait_for(asyncio.gather(*(py_client(i) for i in range(8))), 30)
        statuses = await asyncio.wait_for(c_status, 30)
        for _, tid in jobs:
            assert g.eddy_task_free(tid) == 0
        server.close()
        await server.wait_closed()
        return py_ok, statuses, jobs

    try:
        py_ok, statuses, jobs = loop.run_until_complete(main())
    finally:
        loop.close()
    assert py_ok == [True] * 8
    assert statuses == [0] * 8
    for i, (job, _) in enumerate(jobs):
        sent = f"c task {i} ".encode() * 100
        assert job.inp[: job.inlen] == sent.upper()  # the C task's data went both ways


def test_c_task_spawned_before_run_and_its_error_status(c_task):
    g, poll = c_task
    loop = eddy.new_event_loop()
    try:
        # A free port with nothing listening: the C task's connect fails; its poll
        # function returns the error, which is the join's status.
        s = __import__("socket").socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        job, tid = _spawn(g, poll, loop, port, b"x")
        status = loop.run_until_complete(asyncio.wait_for(loop.eddy_join(tid), 30))
        assert status == _lib.ECONNREFUSED
        assert g.eddy_task_free(tid) == 0
        with pytest.raises(ValueError):
            loop.eddy_join(0)
        with pytest.raises(eddy.EddyError):  # a freed handle: an error value, no crash
            loop.run_until_complete(asyncio.wait_for(loop.eddy_join(tid), 30))
    finally:
        loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        loop.eddy_runtime


def test_eddy_async_api_and_asyncio_in_one_thread():
    """What can await what (docs/ASYNCIO.md): each coroutine world awaits its own
    awaitables; eddy.run works before, after and even inside asyncio code on
    eddy.EventLoop (a runtime of its own, run to completion); crossing the worlds is
    a RuntimeError value, never a hang or a crash."""

    async def eddy_main(tag):
        await eddy.sleep(0.01)
        return tag

    async def eddy_awaits_asyncio():
        await asyncio.sleep(0.01)

    async def aio_main():
        await asyncio.sleep(0.01)
        inner = eddy.run(eddy_main("inside"))  # blocks this loop until it is done
        with pytest.raises(RuntimeError, match="no running eddy runtime"):
            await asyncio.wait_for(eddy.sleep(0.01), 5)
        return inner

    assert eddy.run(eddy_main("before")) == "before"
    with asyncio.Runner(loop_factory=eddy.new_event_loop) as r:
        assert r.run(aio_main()) == "inside"
        assert r.run(asyncio.sleep(0, "loop fine")) == "loop fine"
    with pytest.raises(RuntimeError, match="no running event loop"):
        eddy.run(eddy_awaits_asyncio())
    assert eddy.run(eddy_main("after")) == "after"
