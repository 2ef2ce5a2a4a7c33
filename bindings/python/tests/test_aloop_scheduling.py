"""eddy.EventLoop (issue 17): scheduling, lifecycle, tasks, exception handlers, policy."""
from __future__ import annotations

import asyncio
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


def test_is_an_asyncio_loop_and_uses_asyncio_futures(loop):
    assert isinstance(loop, asyncio.AbstractEventLoop)
    fut = loop.create_future()
    assert type(fut) is asyncio.Future  # the C-accelerated Future

    async def main():
        assert asyncio.get_running_loop() is loop
        return type(asyncio.current_task())

    assert loop.run_until_complete(main()) is asyncio.Task


def test_call_soon_runs_in_order_with_args(loop):
    seen = []
    for i in range(5):
        loop.call_soon(seen.append, i)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert seen == [0, 1, 2, 3, 4]


def test_call_soon_scheduled_by_callback_runs_next_iteration(loop):
    seen = []

    def first():
        seen.append("first")
        loop.call_soon(seen.append, "third")

    loop.call_soon(first)
    loop.call_soon(seen.append, "second")
    loop.call_soon(loop.call_soon, loop.stop)
    loop.run_forever()
    assert seen == ["first", "second", "third"]


def test_call_later_and_call_at_wait_on_eddy_timer(loop):
    seen = []
    t0 = loop.time()
    loop.call_later(0.10, seen.append, "b")
    loop.call_at(t0 + 0.05, seen.append, "a")
    h = loop.call_later(0.07, seen.append, "cancelled")
    h.cancel()
    loop.call_later(0.15, loop.stop)
    loop.run_forever()
    elapsed = loop.time() - t0
    assert seen == ["a", "b"]
    assert elapsed >= 0.15 - loop._clock_resolution
    assert elapsed < 5.0  # the timer ended the wait (no busy spin needed to get here)


def test_idle_loop_blocks_instead_of_spinning(loop):
    # A 0.3 s sleep on an idle loop costs little CPU: the turn waits in the reactor.
    c0 = time.process_time()
    loop.run_until_complete(asyncio.sleep(0.3))
    assert time.process_time() - c0 < 0.2


def test_time_is_monotonic(loop):
    a = loop.time()
    b = loop.time()
    assert b >= a
    assert abs(a - time.monotonic()) < 1.0


def test_run_until_complete_returns_and_raises(loop):
    async def ok():
        await asyncio.sleep(0.01)
        return 42

    async def bad():
        await asyncio.sleep(0)
        raise KeyError("x")

    assert loop.run_until_complete(ok()) == 42
    with pytest.raises(KeyError):
        loop.run_until_complete(bad())


def test_is_running_close_is_closed(loop):
    states = []

    def probe():
        states.append(loop.is_running())
        with pytest.raises(RuntimeError):
            loop.close()
        with pytest.raises(RuntimeError):
            loop.run_forever()
        loop.stop()

    loop.call_soon(probe)
    loop.run_forever()
    assert states == [True]
    assert not loop.is_running()
    loop.close()
    assert loop.is_closed()
    loop.close()  # idempotent
    with pytest.raises(RuntimeError):
        loop.call_soon(print)
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        loop.run_until_complete(coro)
    coro.close()


def test_call_soon_threadsafe_wakes_a_blocked_loop(loop):
    got = []

    def other():
        time.sleep(0.1)
        loop.call_soon_threadsafe(got.append, threading.get_ident())
        loop.call_soon_threadsafe(loop.stop)

    t = threading.Thread(target=other)
    t0 = time.monotonic()
    t.start()
    loop.run_forever()  # nothing else scheduled: only the other thread can wake it
    t.join()
    assert got == [t.ident]
    assert time.monotonic() - t0 < 10


def test_create_task_and_task_factory(loop):
    made = []

    def factory(lp, coro):
        task = asyncio.Task(coro, loop=lp)
        made.append(task)
        return task

    loop.set_task_factory(factory)
    assert loop.get_task_factory() is factory

    async def child():
        return "child"

    async def main():
        return await loop.create_task(child())

    assert loop.run_until_complete(main()) == "child"
    assert len(made) == 2  # main and child
    loop.set_task_factory(None)
    assert loop.get_task_factory() is None


def test_callback_exception_goes_to_custom_handler(loop):
    contexts = []
    loop.set_exception_handler(lambda lp, ctx: contexts.append(ctx))

    def boom():
        raise ValueError("boom")

    loop.call_soon(boom)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert len(contexts) == 1
    assert isinstance(contexts[0]["exception"], ValueError)
    assert loop.get_exception_handler() is not None


def test_default_exception_handler_logs(loop, caplog):
    def boom():
        raise ValueError("logged")

    loop.call_soon(boom)
    loop.call_soon(loop.stop)
    with caplog.at_level("ERROR", logger="asyncio"):
        loop.run_forever()
    assert "logged" in caplog.text


def test_debug_flag(loop):
    assert loop.get_debug() in (True, False)
    loop.set_debug(True)
    assert loop.get_debug()

    def elsewhere():
        with pytest.raises(RuntimeError):
            loop.call_soon(print)

    async def main():
        t = threading.Thread(target=elsewhere)
        t.start()
        t.join()

    loop.run_until_complete(main())
    loop.set_debug(False)
    assert not loop.get_debug()


def test_shutdown_asyncgens_finalizes_generators(loop):
    closed = []

    async def agen():
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    async def main():
        g = agen()
        await g.__anext__()
        return g

    g = loop.run_until_complete(main())
    loop.run_until_complete(loop.shutdown_asyncgens())
    assert closed == [True]
    del g


def test_shutdown_default_executor(loop):
    import concurrent.futures

    ex = concurrent.futures.ThreadPoolExecutor(1)
    loop.set_default_executor(ex)
    assert loop.run_until_complete(loop.run_in_executor(None, lambda: 7)) == 7
    loop.run_until_complete(loop.shutdown_default_executor())
    with pytest.raises(RuntimeError):
        ex.submit(print)


def test_policy_install_and_asyncio_run():
    old = asyncio.get_event_loop_policy()
    try:
        eddy.install()
        assert isinstance(asyncio.get_event_loop_policy(), eddy.EventLoopPolicy)

        async def main():
            await asyncio.sleep(0.01)
            return type(asyncio.get_running_loop())

        assert asyncio.run(main()) is eddy.EventLoop
    finally:
        asyncio.set_event_loop_policy(old)


def test_eddy_run_still_works_next_to_the_loop(loop):
    async def native():
        await eddy.sleep(0.01)
        return "eddy"

    assert eddy.run(native()) == "eddy"
    assert loop.run_until_complete(asyncio.sleep(0, "asyncio")) == "asyncio"


def test_many_loops_open_and_close_without_leaking_fds(loop):
    import os

    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        lp = eddy.new_event_loop()
        lp.run_until_complete(asyncio.sleep(0))
        lp.close()
    assert len(os.listdir("/proc/self/fd")) <= before


def test_exception_in_the_middle_of_a_dispatch_loses_no_event(loop):
    # A signal handler may raise (KeyboardInterrupt) at any bytecode, also while
    # the turn's events are being handed to their waiters: the rest must still be
    # handed out, or their descriptors would never be watched again.
    import socket

    from eddy.loop import _watch

    pairs = [socket.socketpair() for _ in range(4)]
    got = []
    for a, b in pairs:
        a.setblocking(False)
        loop.add_reader(a, lambda a=a: got.append(a.recv(10)))
    loop.run_until_complete(asyncio.sleep(0.05))  # every reader waits in Eddy now
    orig = _watch.Direction._event
    raised = []

    def flaky(self, task, res):
        if not raised:
            raised.append(1)
            orig(self, task, res)
            raise KeyboardInterrupt  # as a signal handler would, mid-dispatch
        orig(self, task, res)

    _watch.Direction._event = flaky
    try:
        for a, b in pairs:
            b.send(b"x")
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(asyncio.sleep(1))
    finally:
        _watch.Direction._event = orig
    loop.run_until_complete(asyncio.sleep(0.1))
    assert got == [b"x"] * 4
    for a, b in pairs:
        loop.remove_reader(a)
        a.close()
        b.close()
