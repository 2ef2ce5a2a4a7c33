"""eddy.Event / Lock / Semaphore / BoundedSemaphore / Condition: asyncio's
semantics (each scenario runs under asyncio and under eddy and must give the
same trace), FIFO handover, cancellation safety, misuse errors."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

import eddy

ASYNCIO = SimpleNamespace(name="asyncio", run=asyncio.run, spawn=asyncio.create_task, sleep=asyncio.sleep,
                          Lock=asyncio.Lock, Event=asyncio.Event, Semaphore=asyncio.Semaphore,
                          BoundedSemaphore=asyncio.BoundedSemaphore, Condition=asyncio.Condition,
                          timeout=asyncio.timeout, CancelledError=asyncio.CancelledError)
EDDY = SimpleNamespace(name="eddy", run=eddy.run, spawn=eddy.spawn, sleep=eddy.sleep, Lock=eddy.Lock,
                       Event=eddy.Event, Semaphore=eddy.Semaphore, BoundedSemaphore=eddy.BoundedSemaphore,
                       Condition=eddy.Condition, timeout=eddy.timeout, CancelledError=eddy.CancelledError)


def both(scenario):
    """Run scenario(ns) under asyncio and eddy; their traces must be equal."""
    a = asyncio.run(scenario(ASYNCIO))
    e = eddy.run(scenario(EDDY))
    assert e == a, f"eddy {e!r} != asyncio {a!r}"
    return e


async def lock_fifo(ns):
    lock = ns.Lock()
    trace = []

    async def worker(i):
        async with lock:
            trace.append(i)
            await ns.sleep(0)

    await lock.acquire()
    tasks = [ns.spawn(worker(i)) for i in range(5)]
    await ns.sleep(0.01)  # all five queued, in order
    lock.release()
    for t in tasks:
        await t
    trace.append(lock.locked())
    return trace


def test_lock_is_fifo():
    assert both(lock_fifo) == [0, 1, 2, 3, 4, False]


async def lock_cancel(ns):
    lock = ns.Lock()
    got = []

    async def worker(i):
        async with lock:
            got.append(i)

    await lock.acquire()
    a, b, c = (ns.spawn(worker(i)) for i in range(3))
    await ns.sleep(0.01)
    b.cancel()  # queued, not served: leaves the queue
    lock.release()
    for t in (a, c):
        await t
    try:
        await b
    except ns.CancelledError:
        got.append("b cancelled")
    return got + [lock.locked()]


def test_cancelled_lock_waiter_leaves_the_queue():
    assert both(lock_cancel) == [0, 2, "b cancelled", False]


def test_lock_handed_to_a_waiter_cancelled_before_it_ran_goes_on():
    async def main():
        lock = eddy.Lock()
        got = []

        async def worker(i):
            async with lock:
                got.append(i)

        await lock.acquire()
        a, b = eddy.spawn(worker(0)), eddy.spawn(worker(1))
        await eddy.sleep(0.01)
        lock.release()  # handed to a (still locked, a not yet run) ...
        assert lock.locked()
        a.cancel()  # ... which is cancelled before running: b must get it
        await b
        with pytest.raises(eddy.CancelledError):
            await a
        return got, lock.locked()

    assert eddy.run(main()) == ([1], False)


def test_releasing_an_unheld_lock_raises():
    async def main():
        lock = eddy.Lock()
        with pytest.raises(RuntimeError, match="not acquired"):
            lock.release()
        await lock.acquire()
        lock.release()
        with pytest.raises(RuntimeError):
            lock.release()
        return "ok"

    assert eddy.run(main()) == "ok"


async def event_scenario(ns):
    ev = ns.Event()
    trace = [ev.is_set()]

    async def waiter(i):
        r = await ev.wait()
        trace.append((i, r))

    ts = [ns.spawn(waiter(i)) for i in range(3)]
    await ns.sleep(0.01)
    trace.append("set")
    ev.set()
    for t in ts:
        await t
    trace.append(await ev.wait())
    ev.clear()
    trace.append(ev.is_set())
    try:
        async with ns.timeout(0.01):
            await ev.wait()
    except TimeoutError:
        trace.append("timeout")
    return trace


def test_event():
    assert both(event_scenario) == [False, "set", (0, True), (1, True), (2, True), True, False, "timeout"]


async def semaphore_scenario(ns):
    sem = ns.Semaphore(2)
    trace = []
    active = [0]

    async def worker(i):
        async with sem:
            active[0] += 1
            trace.append((i, active[0]))
            await ns.sleep(0.005)
            active[0] -= 1

    ts = [ns.spawn(worker(i)) for i in range(5)]
    for t in ts:
        await t
    trace.append(sem.locked())
    return trace


def test_semaphore_bounds_concurrency_in_order():
    # Not both(): whether the first two workers' sleeps end in the same loop turn depends
    # on timing (a loaded machine splits them), and with it how many are active when the
    # third gets in. The order and the bound are what both loops must agree on.
    for trace in (asyncio.run(semaphore_scenario(ASYNCIO)), eddy.run(semaphore_scenario(EDDY))):
        assert [i for i, _ in trace[:-1]] == [0, 1, 2, 3, 4]
        assert max(n for _, n in trace[:-1]) == 2
        assert trace[-1] is False


def test_cancelled_semaphore_waiter_gives_back_its_permit():
    async def main():
        sem = eddy.Semaphore(0)
        got = []

        async def worker(i):
            await sem.acquire()
            got.append(i)

        a, b = eddy.spawn(worker(0)), eddy.spawn(worker(1))
        await eddy.sleep(0.01)
        sem.release()  # handed to a
        a.cancel()  # before it ran: the permit goes to b
        await b
        with pytest.raises(eddy.CancelledError):
            await a
        return got, sem._value, sem.locked()

    assert eddy.run(main()) == ([1], 0, True)


def test_bounded_semaphore_over_release():
    async def main():
        s = eddy.BoundedSemaphore(1)
        with pytest.raises(ValueError, match="too many"):
            s.release()
        await s.acquire()
        s.release()
        with pytest.raises(ValueError):
            s.release()
        plain = eddy.Semaphore(1)
        plain.release()  # unbounded: allowed, as asyncio
        return plain._value

    assert eddy.run(main()) == 2
    with pytest.raises(ValueError):
        eddy.Semaphore(-1)


async def condition_scenario(ns):
    cond = ns.Condition()
    items = []
    trace = []

    async def consumer(i):
        async with cond:
            await cond.wait_for(lambda: items)
            trace.append((i, items.pop(0)))

    ts = [ns.spawn(consumer(i)) for i in range(3)]
    await ns.sleep(0.01)
    for k in range(3):
        async with cond:
            items.append(k)
            cond.notify()
        await ns.sleep(0.001)
    for t in ts:
        await t
    async with cond:
        cond.notify_all()  # nobody waits: fine
    return trace


def test_condition():
    assert both(condition_scenario) == [(0, 0), (1, 1), (2, 2)]


def test_condition_misuse_and_cancel_reacquires():
    async def main():
        cond = eddy.Condition()
        with pytest.raises(RuntimeError, match="un-acquired"):
            await cond.wait()
        with pytest.raises(RuntimeError, match="un-acquired"):
            cond.notify()

        async def waiter():
            async with cond:
                try:
                    await cond.wait()
                finally:
                    assert cond.locked()  # re-acquired even when cancelled

        t = eddy.spawn(waiter())
        await eddy.sleep(0.01)
        t.cancel()
        with pytest.raises(eddy.CancelledError):
            await t
        return cond.locked()

    assert eddy.run(main()) is False


def test_a_primitive_is_bound_to_one_runtime():
    lock = eddy.Lock()

    async def hold_and_wait():
        await lock.acquire()
        t = eddy.spawn(lock.acquire())
        await eddy.sleep(0.005)
        t.cancel()
        lock.release()

    eddy.run(hold_and_wait())

    async def other():
        await lock.acquire()  # free: no wait, no binding check needed
        t = eddy.spawn(lock.acquire())
        await eddy.sleep(0.005)
        return t

    async def other_runtime():
        t = await other()
        with pytest.raises(RuntimeError, match="different eddy runtime"):
            await t
        return "ok"

    assert eddy.run(other_runtime()) == "ok"
