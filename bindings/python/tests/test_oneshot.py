"""eddy.oneshot(): one value from one sender to one receiver (issue 16 item 1, as
Swift's `oneshot(of:)` and C's `eddy_oneshot_new`), across tasks, runtimes and
plain threads; the bad input "receiving twice from a oneshot"."""
from __future__ import annotations

import asyncio
import gc
import threading

import pytest

import eddy


def test_the_value_arrives_once_then_receiving_again_is_an_error():
    async def main():
        tx, rx = eddy.oneshot()
        waiter = eddy.spawn(rx.recv())
        await eddy.sleep(0.01)
        t = [waiter.done()]
        tx.send("v")
        t.append(await waiter)
        for again in (rx.try_recv, ):
            try:
                again()
            except asyncio.InvalidStateError:
                t.append("already received")
        try:
            await rx.recv()
        except asyncio.InvalidStateError:
            t.append("already received")
        return t

    assert eddy.run(main()) == [False, "v", "already received", "already received"]


def test_try_recv_before_the_send_and_sending_twice():
    tx, rx = eddy.oneshot()
    with pytest.raises(eddy.QueueEmpty):
        rx.try_recv()
    tx.send(1)
    with pytest.raises(asyncio.InvalidStateError):
        tx.send(2)
    assert rx.try_recv() == 1


def test_sender_gone_unsent_ends_the_receiver():
    async def main():
        tx, rx = eddy.oneshot()
        waiter = eddy.spawn(rx.recv())
        await eddy.sleep(0.01)
        del tx  # dropped unsent, like a closed sender
        gc.collect()
        try:
            await eddy.wait_for(waiter, 5)
        except eddy.ChannelClosed:
            return "closed"
        return "returned"

    assert eddy.run(main()) == "closed"
    tx, rx = eddy.oneshot()
    tx.close()
    with pytest.raises(eddy.ChannelClosed):
        rx.try_recv()


def test_send_after_the_receiver_is_gone_is_closed():
    tx, rx = eddy.oneshot()
    assert not tx.is_closed()
    rx.close()
    assert tx.is_closed()
    with pytest.raises(eddy.ChannelClosed):
        tx.send("nobody")
    tx2, rx2 = eddy.oneshot()
    del rx2
    gc.collect()
    with pytest.raises(eddy.ChannelClosed):
        tx2.send("nobody")


def test_a_plain_thread_and_another_runtime_send():
    async def main():
        tx, rx = eddy.oneshot()
        threading.Timer(0.05, tx.send, args=("from a thread",)).start()
        a = await eddy.wait_for(rx.recv(), 10)
        tx, rx = eddy.oneshot()

        def other_runtime():
            async def send():
                await eddy.sleep(0.02)
                tx.send("from a runtime")
            eddy.run(send())

        th = threading.Thread(target=other_runtime)
        th.start()
        b = await eddy.wait_for(rx.recv(), 10)
        th.join()
        return [a, b]

    assert eddy.run(main()) == ["from a thread", "from a runtime"]


def test_a_cancelled_recv_leaves_the_value_for_the_next():
    async def main():
        tx, rx = eddy.oneshot()
        try:
            await eddy.wait_for(rx.recv(), 0.02)
        except asyncio.TimeoutError:
            pass
        tx.send(7)
        return await rx.recv()

    assert eddy.run(main()) == 7
