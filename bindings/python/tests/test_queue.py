"""eddy.Queue: asyncio.Queue's API and semantics (scenarios run under both and
must agree), FIFO waiters, cancellation, bad input."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

import eddy

ASYNCIO = SimpleNamespace(run=asyncio.run, spawn=asyncio.create_task, sleep=asyncio.sleep, Queue=asyncio.Queue,
                          LifoQueue=asyncio.LifoQueue, PriorityQueue=asyncio.PriorityQueue,
                          QueueFull=asyncio.QueueFull, QueueEmpty=asyncio.QueueEmpty,
                          CancelledError=asyncio.CancelledError, wait_for=asyncio.wait_for)
EDDY = SimpleNamespace(run=eddy.run, spawn=eddy.spawn, sleep=eddy.sleep, Queue=eddy.Queue,
                       LifoQueue=eddy.LifoQueue, PriorityQueue=eddy.PriorityQueue, QueueFull=eddy.QueueFull,
                       QueueEmpty=eddy.QueueEmpty, CancelledError=eddy.CancelledError, wait_for=eddy.wait_for)


def both(scenario):
    a = asyncio.run(scenario(ASYNCIO))
    e = eddy.run(scenario(EDDY))
    assert e == a, f"eddy {e!r} != asyncio {a!r}"
    return e


async def nowait_scenario(ns):
    q = ns.Queue(maxsize=2)
    t = [q.maxsize, q.empty(), q.full(), q.qsize()]
    q.put_nowait(1)
    q.put_nowait(2)
    t += [q.full(), q.qsize()]
    try:
        q.put_nowait(3)
    except ns.QueueFull:
        t.append("full")
    t += [q.get_nowait(), q.get_nowait()]
    try:
        q.get_nowait()
    except ns.QueueEmpty:
        t.append("empty")
    lifo, prio = ns.LifoQueue(), ns.PriorityQueue()
    for x in (3, 1, 2):
        lifo.put_nowait(x)
        prio.put_nowait(x)
    t += [[lifo.get_nowait() for _ in range(3)], [prio.get_nowait() for _ in range(3)]]
    t.append(ns.Queue().full())  # maxsize 0: unbounded
    return t


def test_nowait_api():
    assert both(nowait_scenario) == [2, True, False, 0, True, 2, "full", 1, 2, "empty", [2, 1, 3], [1, 2, 3], False]


async def producer_consumer(ns):
    q = ns.Queue(maxsize=3)
    out = []

    async def producer(base):
        for i in range(20):
            await q.put(base + i)

    async def consumer():
        while True:
            item = await q.get()
            out.append(item)
            q.task_done()

    cs = [ns.spawn(consumer()) for _ in range(2)]
    ps = [ns.spawn(producer(k * 100)) for k in range(3)]
    for p in ps:
        await p
    await q.join()
    for c in cs:
        c.cancel()
    for c in cs:
        try:
            await c
        except ns.CancelledError:
            pass
    return sorted(out), q.qsize(), q.empty()


def test_put_get_backpressure_join():
    r = both(producer_consumer)
    assert r[0] == sorted(k * 100 + i for k in range(3) for i in range(20))


async def getters_fifo(ns):
    q = ns.Queue()
    got = []

    async def getter(i):
        got.append((i, await q.get()))

    ts = [ns.spawn(getter(i)) for i in range(4)]
    await ns.sleep(0.01)
    for x in "abcd":
        q.put_nowait(x)
    for t in ts:
        await t
    return got


def test_getters_are_served_in_order():
    assert both(getters_fifo) == [(0, "a"), (1, "b"), (2, "c"), (3, "d")]


async def cancelled_getter(ns):
    q = ns.Queue()
    got = []

    async def getter(i):
        got.append((i, await q.get()))

    a, b = ns.spawn(getter(0)), ns.spawn(getter(1))
    await ns.sleep(0.01)
    q.put_nowait("x")  # wakes a ...
    a.cancel()  # ... cancelled before it ran: b gets the item
    await b
    try:
        await a
    except ns.CancelledError:
        got.append("a cancelled")
    return got, q.qsize()


def test_a_woken_getter_cancelled_passes_the_item_on():
    assert both(cancelled_getter) == ([(1, "x"), "a cancelled"], 0)


async def two_parked_putters(ns):
    """A full queue (maxsize 1, holding 0) and two putters parked on it: a (of 1), then b (of 2)."""
    q = ns.Queue(maxsize=1)
    q.put_nowait(0)
    a, b = ns.spawn(q.put(1)), ns.spawn(q.put(2))
    await ns.sleep(0.01)
    return q, a, b


async def cancelled_putter(ns):
    q, a, b = await two_parked_putters(ns)
    a.cancel()
    try:
        await a
    except ns.CancelledError:
        pass
    got = [q.get_nowait()]
    await b
    got.append(q.get_nowait())
    return got, q.qsize()


def test_a_cancelled_putter_gives_back_its_place():
    assert both(cancelled_putter) == ([0, 2], 0)


async def woken_putter_cancelled(ns):
    q, a, b = await two_parked_putters(ns)
    got = [q.get_nowait()]  # frees the slot: wakes a ...
    a.cancel()  # ... cancelled before it ran: the slot goes to b
    try:
        await a
    except ns.CancelledError:
        got.append("a cancelled")
    await ns.wait_for(b, 10)  # a slot lost with a would leave b parked: fail, not hang
    got.append(q.get_nowait())
    return got, q.qsize()


def test_a_woken_putter_cancelled_passes_the_slot_on():
    assert both(woken_putter_cancelled) == ([0, "a cancelled", 2], 0)


async def get_timeout(ns):
    q = ns.Queue()
    try:
        await ns.wait_for(q.get(), 0.01)
    except (TimeoutError, asyncio.TimeoutError):
        pass
    q.put_nowait(5)
    return await q.get(), len(getattr(q, "_getters"))


def test_get_with_timeout_leaves_no_waiter():
    assert both(get_timeout) == (5, 0)


def test_task_done_too_many_times():
    async def main():
        q = eddy.Queue()
        with pytest.raises(ValueError, match="too many"):
            q.task_done()
        q.put_nowait(1)
        q.get_nowait()
        q.task_done()
        await q.join()  # returns at once
        with pytest.raises(ValueError):
            q.task_done()
        return "ok"

    assert eddy.run(main()) == "ok"


def test_exceptions_are_asyncios_too():
    assert issubclass(eddy.QueueFull, asyncio.QueueFull)
    assert issubclass(eddy.QueueEmpty, asyncio.QueueEmpty)
    q = eddy.Queue(1)  # nowait calls work outside eddy.run (no waiting)
    q.put_nowait(1)
    with pytest.raises(asyncio.QueueFull):
        q.put_nowait(2)
