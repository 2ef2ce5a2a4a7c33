"""eddy.Broadcast and eddy.Watch (issue 16 item 1): fan-out to every receiver,
lagging receivers told how many values they missed, the end after close, send
with no receiver left, receiving after close, watch's latest value and
changed(), cancellation of a waiting receiver."""
from __future__ import annotations

import gc

import pytest

import eddy


def test_every_receiver_gets_every_value_in_order():
    async def main():
        tx = eddy.Broadcast(8)
        rxs = [tx.subscribe() for _ in range(3)]
        got = [[] for _ in rxs]

        async def consume(i, rx):
            async for v in rx:
                got[i].append(v)

        tasks = [eddy.spawn(consume(i, rx)) for i, rx in enumerate(rxs)]
        await eddy.sleep(0)
        counts = []
        for v in range(5):
            counts.append(tx.send(v))
            await eddy.sleep(0)
        tx.close()
        for t in tasks:
            await t
        return counts, got

    counts, got = eddy.run(main())
    assert counts == [3] * 5
    assert got == [[0, 1, 2, 3, 4]] * 3


def test_lagged_receiver_is_told_how_many_it_missed():
    async def main():
        tx = eddy.Broadcast(3)
        slow, fast = tx.subscribe(), tx.subscribe()
        for v in range(10):
            tx.send(v)
            assert await fast.recv() == v
        with pytest.raises(eddy.Lagged) as e:
            await slow.recv()
        # After the report it goes on from the oldest value kept.
        return e.value.missed, [await slow.recv() for _ in range(3)]

    assert eddy.run(main()) == (7, [7, 8, 9])


def test_receive_after_close_and_send_after_every_receiver_is_gone():
    async def main():
        tx = eddy.Broadcast(4)
        rx = tx.subscribe()
        tx.send("a")
        tx.close()
        first = await rx.recv()  # what is kept is still delivered
        with pytest.raises(eddy.ChannelClosed):
            await rx.recv()
        with pytest.raises(eddy.ChannelClosed):
            rx.try_recv()  # and it stays the end
        with pytest.raises(eddy.ChannelClosed):
            tx.send("b")  # sending on a closed channel
        tx2 = eddy.Broadcast(2)
        r = tx2.subscribe()
        r.close()
        del r
        gc.collect()
        return first, tx2.send("nobody")  # taken, 0 receivers

    assert eddy.run(main()) == ("a", 0)


def test_try_recv_empty_and_bad_capacity():
    tx = eddy.Broadcast(1)
    rx = tx.subscribe()
    with pytest.raises(eddy.QueueEmpty):
        rx.try_recv()
    tx.send(1)
    assert rx.try_recv() == 1
    for bad in (0, -1, 1.5, True, 1 << 25):
        with pytest.raises(ValueError):
            eddy.Broadcast(bad)


def test_a_cancelled_waiting_receiver_leaves_no_waiter():
    async def main():
        tx = eddy.Broadcast(2)
        rx = tx.subscribe()
        with pytest.raises(TimeoutError):
            await eddy.wait_for(rx.recv(), 0.01)
        waiting = len(tx._waiters)
        tx.send(1)
        return waiting, await rx.recv()

    assert eddy.run(main()) == (0, 1)


def test_watch_latest_value_and_changed():
    async def main():
        tx = eddy.Watch(0)
        rx = tx.subscribe()
        seen = []

        async def watcher():
            while True:
                try:
                    await rx.changed()
                except eddy.ChannelClosed:
                    return
                seen.append(rx.get())

        t = eddy.spawn(watcher())
        await eddy.sleep(0)
        tx.send(1)
        tx.send(2)  # 1 is superseded before the watcher runs: skipped
        await eddy.sleep(0)
        await eddy.sleep(0)
        tx.send(3)
        await eddy.sleep(0)
        tx.close()
        await t
        late = tx.subscribe()
        with pytest.raises(eddy.ChannelClosed):
            tx.send(4)
        return seen, late.get(), late.has_changed(), tx.value

    seen, late, changed, value = eddy.run(main())
    assert seen == [2, 3]
    assert (late, changed, value) == (3, False, 3)


def test_watch_changed_after_close_when_unseen_change_returns():
    async def main():
        tx = eddy.Watch("a")
        rx = tx.subscribe()
        tx.send("b")
        tx.close()
        assert rx.has_changed()
        await rx.changed()  # a change not yet seen is still reported
        v = rx.get()
        with pytest.raises(eddy.ChannelClosed):
            await rx.changed()
        return v

    assert eddy.run(main()) == "b"
