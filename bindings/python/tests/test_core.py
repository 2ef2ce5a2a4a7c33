"""Driver, tasks, timers, timeouts, cancellation, gather, blocking calls."""
from __future__ import annotations

import ctypes
import time

import pytest

import eddy

libc = ctypes.CDLL(None, use_errno=True)


def test_run_returns_value_and_reraises():
    async def ok():
        return 42

    async def bad():
        raise ValueError("boom")

    assert eddy.run(ok()) == 42
    with pytest.raises(ValueError, match="boom"):
        eddy.run(bad())


def test_sleep_duration():
    async def main():
        t = time.monotonic()
        await eddy.sleep(0.1)
        return time.monotonic() - t

    dt = eddy.run(main())
    assert 0.09 <= dt < 1.0


def test_sleep_zero_yields_to_other_tasks():
    order = []

    async def worker(name):
        for i in range(3):
            order.append((name, i))
            await eddy.sleep(0)

    async def main():
        a = eddy.spawn(worker("a"))
        b = eddy.spawn(worker("b"))
        await a
        await b

    eddy.run(main())
    assert [n for n, _ in order[:4]] in (["a", "b", "a", "b"], ["b", "a", "b", "a"])


def test_many_concurrent_sleeps_take_the_longest_time():
    async def main():
        t = time.monotonic()
        await eddy.gather(*(eddy.sleep(0.2) for _ in range(500)))
        return time.monotonic() - t

    dt = eddy.run(main())
    assert 0.19 <= dt < 1.5


def test_task_result_and_exception_propagate_to_awaiter():
    async def child(x):
        await eddy.sleep(0.01)
        if x < 0:
            raise KeyError(x)
        return x * 2

    async def main():
        t = eddy.spawn(child(21))
        assert not t.done()
        with pytest.raises(eddy.InvalidStateError):
            t.result()
        assert await t == 42
        assert t.done() and t.result() == 42
        bad = eddy.spawn(child(-1))
        with pytest.raises(KeyError):
            await bad
        assert isinstance(bad.exception(), KeyError)
        # two awaiters of the same task are both woken
        t2 = eddy.spawn(child(5))
        w1 = eddy.spawn(_await(t2))
        w2 = eddy.spawn(_await(t2))
        assert await w1 == 10 and await w2 == 10

    async def _await(t):
        return await t

    eddy.run(main())


def test_unhandled_exception_in_main_reraised_after_cleanup():
    cleaned = []

    async def child():
        try:
            await eddy.sleep(30)
        finally:
            cleaned.append("child")

    async def main():
        eddy.spawn(child())
        await eddy.sleep(0.01)
        raise RuntimeError("top")

    t = time.monotonic()
    with pytest.raises(RuntimeError, match="top"):
        eddy.run(main())
    assert cleaned == ["child"]  # pending tasks are cancelled and unwound
    assert time.monotonic() - t < 5


# ---------------------------------------------------------------- cancellation


def test_cancel_sleeping_task():
    async def sleeper(log):
        try:
            await eddy.sleep(30)
        except eddy.CancelledError:
            log.append("cancelled")
            raise

    async def main():
        log = []
        t = eddy.spawn(sleeper(log))
        await eddy.sleep(0.02)
        assert t.cancel() is True
        with pytest.raises(eddy.CancelledError):
            await t
        assert t.cancelled() and log == ["cancelled"]
        assert t.cancel() is False  # already done

    t0 = time.monotonic()
    eddy.run(main())
    assert time.monotonic() - t0 < 5


def test_cancelled_error_is_asyncio_like():
    import asyncio

    assert issubclass(eddy.CancelledError, asyncio.CancelledError)
    assert issubclass(eddy.CancelledError, BaseException)
    assert not issubclass(eddy.CancelledError, Exception)


def test_cancel_before_first_poll_and_self_cancel():
    ran = []

    async def never():
        ran.append(1)

    async def selfcancel():
        eddy.current_task().cancel()
        await eddy.sleep(0.01)
        ran.append("after")

    async def main():
        t = eddy.spawn(never())
        t.cancel()
        with pytest.raises(eddy.CancelledError):
            await t
        s = eddy.spawn(selfcancel())
        with pytest.raises(eddy.CancelledError):
            await s

    eddy.run(main())
    assert ran == []


def test_cancel_caught_and_task_continues():
    async def stubborn():
        try:
            await eddy.sleep(30)
        except eddy.CancelledError:
            pass
        await eddy.sleep(0.01)
        return "survived"

    async def main():
        t = eddy.spawn(stubborn())
        await eddy.sleep(0.01)
        t.cancel()
        return await t

    assert eddy.run(main()) == "survived"


# ---------------------------------------------------------------- timeouts


def test_timeout_on_sleep():
    async def main():
        t = time.monotonic()
        with pytest.raises(TimeoutError):
            async with eddy.timeout(0.05) as cm:
                await eddy.sleep(10)
        assert cm.expired()
        with pytest.raises(TimeoutError):
            await eddy.wait_for(eddy.sleep(10), 0.05)
        return time.monotonic() - t

    assert eddy.run(main()) < 2


def test_timeout_not_expired_and_none():
    async def main():
        async with eddy.timeout(1) as cm:
            await eddy.sleep(0.01)
        assert not cm.expired()
        async with eddy.timeout(None):
            await eddy.sleep(0.01)
        assert await eddy.wait_for(eddy.sleep(0.01, "v"), 1) == "v"
        assert await eddy.wait_for(eddy.sleep(0.01, "w"), None) == "w"
        # a timeout that expired after the block ended does not fire later
        async with eddy.timeout(0.02):
            pass
        await eddy.sleep(0.05)
        return "ok"

    assert eddy.run(main()) == "ok"


def test_nested_timeouts_outer_wins():
    async def main():
        inner_saw = []
        with pytest.raises(TimeoutError):
            async with eddy.timeout(0.05):
                try:
                    async with eddy.timeout(5):
                        await eddy.sleep(10)
                except TimeoutError:
                    inner_saw.append("inner")  # must not happen
                    raise
        assert inner_saw == []
        # inner expires first: caught inside, outer continues
        async with eddy.timeout(5):
            with pytest.raises(TimeoutError):
                async with eddy.timeout(0.02):
                    await eddy.sleep(10)
            await eddy.sleep(0.01)
        return True

    assert eddy.run(main())


def test_wait_for_task_cancels_it():
    async def main():
        t = eddy.spawn(eddy.sleep(30))
        with pytest.raises(TimeoutError):
            await eddy.wait_for(t, 0.02)
        await eddy.sleep(0.01)
        assert t.cancelled()

    eddy.run(main())


def test_timeout_zero_fires_at_next_suspension():
    async def main():
        with pytest.raises(TimeoutError):
            async with eddy.timeout(0):
                await eddy.sleep(1)

    eddy.run(main())


def test_timeout_arguments_validated():
    async def main():
        for bad in (-1, -0.001, float("nan")):
            with pytest.raises(ValueError):
                await eddy.sleep(bad)
            with pytest.raises(ValueError):
                eddy.timeout(bad)
        for bad in ("1", None, True, [1]):
            with pytest.raises(TypeError):
                await eddy.sleep(bad)
        with pytest.raises(TypeError):
            eddy.timeout("1")
        # huge values are clamped, not overflowed
        with pytest.raises(TimeoutError):
            async with eddy.timeout(0.02):
                await eddy.sleep(1e300)
        with pytest.raises(TimeoutError):
            async with eddy.timeout(0.02):
                async with eddy.timeout(float("inf")):
                    await eddy.sleep(10**30)

    eddy.run(main())


# ---------------------------------------------------------------- gather


def test_gather_results_in_order():
    async def val(x, d):
        await eddy.sleep(d)
        return x

    async def main():
        return await eddy.gather(val(1, 0.03), val(2, 0.01), val(3, 0.02))

    assert eddy.run(main()) == [1, 2, 3]


def test_gather_one_failing_task():
    finished = []

    async def slow():
        try:
            await eddy.sleep(10)
        finally:
            finished.append("slow")

    async def fail():
        await eddy.sleep(0.02)
        raise ValueError("failed")

    async def ok():
        await eddy.sleep(0.01)
        return "ok"

    async def main():
        t = time.monotonic()
        with pytest.raises(ValueError, match="failed"):
            await eddy.gather(ok(), fail(), slow())
        assert time.monotonic() - t < 2  # raised at once, not after slow()
        await eddy.sleep(0.01)
        assert finished == ["slow"]  # the remaining child was cancelled
        res = await eddy.gather(ok(), fail(), return_exceptions=True)
        assert res[0] == "ok" and isinstance(res[1], ValueError)

    eddy.run(main())


def test_gather_rejects_non_awaitables():
    async def main():
        with pytest.raises(TypeError):
            await eddy.gather(eddy.sleep(0.01), 42)

    eddy.run(main())


# ---------------------------------------------------------------- blocking pool


def test_blocking_call_parallel_without_gil():
    usleep = libc.usleep
    usleep.argtypes = [ctypes.c_uint]
    usleep.restype = ctypes.c_int

    async def main():
        t = time.monotonic()
        r = await eddy.gather(eddy.blocking_call(usleep, 200_000), eddy.blocking_call(usleep, 200_000))
        return r, time.monotonic() - t

    # Meanwhile a Python thread keeps running: the GIL is free.
    import threading

    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    th = threading.Thread(target=spin)
    th.start()
    try:
        r, dt = eddy.run(main())
    finally:
        stop.set()
        th.join()
    assert r == [0, 0]

    async def serial():
        t = time.monotonic()
        await eddy.blocking_call(usleep, 200_000)
        await eddy.blocking_call(usleep, 200_000)
        return time.monotonic() - t

    # Parallel, judged against the same two calls one after the other on this machine
    # now (a fixed bound fails on a loaded machine): well under their serial time.
    serial_dt = eddy.run(serial())
    assert serial_dt >= 0.39
    assert 0.19 <= dt < 0.75 * serial_dt, f"two 200 ms calls took {dt:.3f}s, {serial_dt:.3f}s in a row: not parallel"
    assert ticks[0] > 5  # a held GIL would allow none during the calls


def test_blocking_call_types():
    strlen = libc.strlen
    strlen.argtypes = [ctypes.c_char_p]
    strlen.restype = ctypes.c_size_t
    labs = libc.labs
    labs.argtypes = [ctypes.c_long]
    labs.restype = ctypes.c_long
    sqrt = ctypes.CDLL("libm.so.6").sqrt
    sqrt.argtypes = [ctypes.c_double]
    sqrt.restype = ctypes.c_double
    getpid = libc.getpid
    getpid.argtypes = []
    getpid.restype = ctypes.c_int
    memset = libc.memset
    memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    memset.restype = ctypes.c_void_p

    async def main():
        import os

        assert await eddy.blocking_call(strlen, b"hello world") == 11
        assert await eddy.blocking_call(labs, -(2**40)) == 2**40
        assert await eddy.blocking_call(sqrt, 2.0) == pytest.approx(2**0.5)
        assert await eddy.blocking_call(getpid) == os.getpid()
        # Buffers as ctypes passes them: a ctypes array, or a view of a bytearray
        # (ctypes refuses a bare bytearray for c_void_p, and so does eddy).
        buf = bytearray(8)
        p = await eddy.blocking_call(memset, (ctypes.c_char * 8).from_buffer(buf), 0x41, 8)
        assert buf == b"A" * 8 and isinstance(p, int)
        cbuf = ctypes.create_string_buffer(4)
        await eddy.blocking_call(memset, cbuf, 0x42, 3)
        assert cbuf.value == b"BBB"

    eddy.run(main())


def test_blocking_call_misuse():
    usleep = libc.usleep
    usleep.argtypes = [ctypes.c_uint]
    memset = libc.memset
    memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]

    async def main():
        with pytest.raises(TypeError):
            await eddy.blocking_call(len, b"x")  # not a ctypes function
        with pytest.raises(TypeError):
            await eddy.blocking_call(usleep)  # wrong count
        with pytest.raises(ctypes.ArgumentError):  # as usleep("x") raises; also a TypeError
            await eddy.blocking_call(usleep, "x")
        with pytest.raises(TypeError):
            await eddy.blocking_call(usleep, None)
        with pytest.raises(TypeError):
            await eddy.blocking_call(memset, bytearray(4), 0, 4)  # ctypes refuses a bytearray for c_void_p
        f = libc.strtold
        f.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        f.restype = ctypes.c_longdouble
        with pytest.raises(TypeError):
            await eddy.blocking_call(f, b"1", None)
        g = libc.abs  # argtypes unset and arguments given
        with pytest.raises(TypeError):
            await eddy.blocking_call(g, 1)

    eddy.run(main())


# test_blocking_call_cancelled_keeps_memory_alive: test_blocking_lifetime.py


def test_to_thread():
    def work(x):
        time.sleep(0.05)
        return x + 1

    def fails():
        raise LookupError("x")

    async def main():
        assert await eddy.to_thread(work, 1) == 2
        with pytest.raises(LookupError):
            await eddy.to_thread(fails)

    eddy.run(main())
