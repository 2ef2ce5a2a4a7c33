"""Channels across runtimes and threads (issue 16 item 1): eddy.Queue,
Broadcast and Watch shared by tasks of two eddy.run (each in its own thread)
and by plain threads whose non-waiting calls wake a waiting task."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, List

import pytest

import eddy

DEADLINE = 30.0  # generous: a loaded 2-core machine, maybe valgrind


def in_thread(fn: Callable[[], Any]) -> "Result":
    r = Result()

    def body() -> None:
        try:
            r.value = fn()
        except BaseException as e:  # reported by the test
            r.error = e

    r.thread = threading.Thread(target=body, daemon=True)
    r.thread.start()
    return r


class Result:
    value: Any = None
    error: Any = None
    thread: threading.Thread

    def get(self) -> Any:
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive(), "thread did not finish"
        if self.error is not None:
            raise self.error
        return self.value


def later(delay: float, fn: Callable[[], Any]) -> threading.Thread:
    """A plain thread (no eddy.run) calling fn after delay."""
    def body() -> None:
        time.sleep(delay)
        fn()

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t


# ---- eddy.Queue ----

def test_plain_thread_put_nowait_wakes_waiting_get():
    async def main():
        q: eddy.Queue[str] = eddy.Queue()
        t = later(0.05, lambda: q.put_nowait("from a thread"))
        got = await eddy.wait_for(q.get(), DEADLINE)
        t.join()
        return got, q.qsize()

    assert eddy.run(main()) == ("from a thread", 0)


def test_plain_thread_get_nowait_wakes_waiting_put():
    async def main():
        q: eddy.Queue[int] = eddy.Queue(1)
        q.put_nowait(1)
        taken: List[int] = []
        t = later(0.05, lambda: taken.append(q.get_nowait()))
        await eddy.wait_for(q.put(2), DEADLINE)  # room made by the other thread
        t.join()
        return taken, q.get_nowait()

    assert eddy.run(main()) == ([1], 2)


def test_plain_thread_sees_full_and_empty():
    q: eddy.Queue[int] = eddy.Queue(1)

    def body():
        q.put_nowait(1)
        with pytest.raises(eddy.QueueFull):
            q.put_nowait(2)
        assert q.get_nowait() == 1
        with pytest.raises(eddy.QueueEmpty):
            q.get_nowait()
        return "ok"

    assert in_thread(body).get() == "ok"


def test_two_runtimes_share_a_bounded_queue_with_backpressure_and_join():
    n = 500
    q: eddy.Queue[int] = eddy.Queue(2)  # made outside both runtimes

    async def producer():
        for i in range(n):
            await q.put(i)  # waits for the other runtime's gets
        await q.join()  # woken by the other runtime's last task_done
        return "joined"

    async def consumer():
        got = []
        for _ in range(n):
            got.append(await q.get())
            q.task_done()
        return got

    c = in_thread(lambda: eddy.run(consumer()))
    p = in_thread(lambda: eddy.run(producer()))
    assert c.get() == list(range(n))
    assert p.get() == "joined"
    assert q.empty()


def test_two_runtimes_both_put_and_get():
    """Each runtime sends to the other through two queues (ping-pong)."""
    n = 200
    ping: eddy.Queue[int] = eddy.Queue(1)
    pong: eddy.Queue[int] = eddy.Queue(1)

    async def left():
        for i in range(n):
            await ping.put(i)
            assert await pong.get() == i + 1
        return "left"

    async def right():
        for _ in range(n):
            await pong.put(await ping.get() + 1)
        return "right"

    a = in_thread(lambda: eddy.run(left()))
    b = in_thread(lambda: eddy.run(right()))
    assert (a.get(), b.get()) == ("left", "right")


def test_many_plain_threads_put_while_a_task_gets():
    threads, per = 4, 300
    q: eddy.Queue[int] = eddy.Queue(8)

    def producer(k: int) -> None:
        for i in range(per):
            while True:
                try:
                    q.put_nowait(k * per + i)
                    break
                except eddy.QueueFull:
                    time.sleep(0.0005)

    async def main():
        ts = [threading.Thread(target=producer, args=(k,), daemon=True) for k in range(threads)]
        for t in ts:
            t.start()
        got = [await eddy.wait_for(q.get(), DEADLINE) for _ in range(threads * per)]
        for t in ts:
            t.join()
        return got

    got = eddy.run(main())
    assert sorted(got) == list(range(threads * per))
    for k in range(threads):  # each thread's items in its order
        mine = [x for x in got if x // per == k]
        assert mine == sorted(mine)


def test_cancelled_getter_of_one_runtime_passes_item_on():
    """A getter woken by another thread's put and then cancelled hands the item
    to the next getter (FIFO), across threads as within one."""
    async def main():
        q: eddy.Queue[str] = eddy.Queue()
        first = eddy.spawn(q.get())
        second = eddy.spawn(q.get())
        await eddy.sleep(0.01)
        t = later(0, lambda: q.put_nowait("x"))
        t.join()
        first.cancel()
        got = await eddy.wait_for(second, DEADLINE)
        with pytest.raises(eddy.CancelledError):
            await first
        return got

    assert eddy.run(main()) == "x"


# ---- Broadcast and Watch ----

def test_broadcast_send_from_plain_thread_and_other_runtime():
    b = eddy.Broadcast(16)
    rx1 = b.subscribe()

    async def receiver():
        got = []
        while True:
            try:
                got.append(await eddy.wait_for(rx1.recv(), DEADLINE))
            except eddy.ChannelClosed:
                return got

    async def sender():
        for i in range(5):
            b.send(i)
            await eddy.sleep(0.002)
        return "sent"

    r = in_thread(lambda: eddy.run(receiver()))
    time.sleep(0.02)
    assert in_thread(lambda: eddy.run(sender())).get() == "sent"
    t = later(0.01, lambda: (b.send(5), b.close()))  # a plain thread
    t.join()
    assert r.get() == [0, 1, 2, 3, 4, 5]


def test_watch_changed_woken_by_plain_thread():
    w = eddy.Watch(0)
    rx = w.subscribe()

    async def main():
        later(0.05, lambda: w.send(1))
        await eddy.wait_for(rx.changed(), DEADLINE)
        return rx.get()

    assert eddy.run(main()) == 1

    async def other():  # the same channel from a second runtime
        later(0.05, w.close)
        with pytest.raises(eddy.ChannelClosed):
            await eddy.wait_for(rx.changed(), DEADLINE)
        return rx.get()

    assert in_thread(lambda: eddy.run(other())).get() == 1


# ---- the single-runtime primitives refuse other threads clearly ----

@pytest.mark.parametrize("kind", ["event", "lock", "semaphore", "condition"])
def test_asyncio_primitives_refuse_wakes_from_another_thread(kind):
    """eddy.Event / Lock / Semaphore / Condition stay bound to one runtime (as
    asyncio's to one loop): a wake from another thread raises RuntimeError (the
    waiter would never be woken), and the primitive still works on its thread."""
    async def main():
        if kind == "event":
            p = eddy.Event()
            waiter = eddy.spawn(p.wait())
            wake = p.set
        elif kind == "lock":
            p = eddy.Lock()
            await p.acquire()
            waiter = eddy.spawn(p.acquire())
            wake = p.release
        elif kind == "semaphore":
            p = eddy.Semaphore(0)
            waiter = eddy.spawn(p.acquire())
            wake = p.release
        else:
            p = eddy.Condition()

            async def wait():
                async with p:
                    return await p.wait()

            waiter = eddy.spawn(wait())
            await eddy.sleep(0.01)
            await p.acquire()

            def wake():
                p.notify()

        await eddy.sleep(0.01)  # the waiter binds the primitive to this runtime
        errors = []

        def other():
            try:
                wake()
            except RuntimeError as e:
                errors.append(str(e))

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert len(errors) == 1 and "another thread" in errors[0], errors
        wake()  # from its own thread it works
        if kind == "condition":
            p.release()
        assert await eddy.wait_for(waiter, DEADLINE) is True
        return kind

    assert eddy.run(main()) == kind
