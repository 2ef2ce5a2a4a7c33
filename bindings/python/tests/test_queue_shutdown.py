"""eddy.Queue's close semantics (issue 16 item 1, "senders see closed ... receivers
see the end"), with asyncio 3.13's names: ``Queue.shutdown(immediate=False)`` and
``QueueShutDown``. The expected values are asyncio 3.13's documented behaviour (this
interpreter's asyncio may predate it, so the scenarios are not run under both)."""
from __future__ import annotations

import asyncio
import threading

import pytest

import eddy


def test_shutdown_refuses_puts_and_ends_gets_after_the_last_item():
    async def main():
        q = eddy.Queue(maxsize=3)
        q.put_nowait(1)
        q.put_nowait(2)
        q.shutdown()
        t = []
        for put in (lambda: q.put_nowait(3),):
            try:
                put()
            except eddy.QueueShutDown:
                t.append("put_nowait shut")
        try:
            await q.put(3)
        except eddy.QueueShutDown:
            t.append("put shut")
        t.append(q.get_nowait())  # what was queued before the shutdown is still delivered
        t.append(await q.get())
        try:
            q.get_nowait()
        except eddy.QueueShutDown:
            t.append("get_nowait shut")  # not QueueEmpty: the end, not "empty for now"
        try:
            await q.get()
        except eddy.QueueShutDown:
            t.append("get shut")
        q.task_done()
        q.task_done()
        await q.join()
        return t

    assert eddy.run(main()) == ["put_nowait shut", "put shut", 1, 2, "get_nowait shut", "get shut"]


def test_shutdown_wakes_waiting_getters_and_putters():
    async def main():
        empty, full = eddy.Queue(), eddy.Queue(maxsize=1)
        full.put_nowait("x")
        getters = [eddy.spawn(empty.get()) for _ in range(2)]
        putter = eddy.spawn(full.put("y"))
        await eddy.sleep(0.01)
        empty.shutdown()
        full.shutdown()
        t = []
        for task in getters + [putter]:
            try:
                await task
                t.append("returned")
            except eddy.QueueShutDown:
                t.append("shut")
        t.append(full.get_nowait())  # the item queued before the shutdown stays
        return t

    assert eddy.run(main()) == ["shut", "shut", "shut", "x"]


def test_immediate_shutdown_drops_the_items_and_releases_join():
    async def main():
        q = eddy.Queue()
        for i in range(3):
            q.put_nowait(i)
        q.get_nowait()  # one taken, not task_done'd yet: join still waits for it
        joiner = eddy.spawn(q.join())
        await eddy.sleep(0.01)
        q.shutdown(immediate=True)
        t = [q.qsize(), q.empty()]
        try:
            q.get_nowait()
        except eddy.QueueShutDown:
            t.append("shut")
        await eddy.sleep(0.01)
        t.append(joiner.done())  # one task is still unfinished
        q.task_done()
        await eddy.wait_for(joiner, 5)
        return t

    assert eddy.run(main()) == [0, True, "shut", False]


def test_shutdown_from_a_plain_thread_wakes_a_waiting_getter():
    q = eddy.Queue()

    async def main():
        getter = eddy.spawn(q.get())
        await eddy.sleep(0.01)
        threading.Thread(target=q.shutdown).start()
        try:
            await eddy.wait_for(getter, 10)
        except eddy.QueueShutDown:
            return "shut"
        return "returned"

    assert eddy.run(main()) == "shut"


def test_queue_shut_down_is_asyncios_when_asyncio_has_it():
    assert issubclass(eddy.QueueShutDown, Exception)
    if hasattr(asyncio, "QueueShutDown"):
        assert issubclass(eddy.QueueShutDown, asyncio.QueueShutDown)
    assert "QueueShutDown" in eddy.__all__


@pytest.mark.parametrize("kind", [eddy.LifoQueue, eddy.PriorityQueue])
def test_subclasses_shut_down_too(kind):
    async def main():
        q = kind()
        q.put_nowait(1)
        q.shutdown()
        t = [q.get_nowait()]
        try:
            q.put_nowait(2)
        except eddy.QueueShutDown:
            t.append("shut")
        return t

    assert eddy.run(main()) == [1, "shut"]
