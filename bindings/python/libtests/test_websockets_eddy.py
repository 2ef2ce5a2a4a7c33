"""websockets server and client on eddy.EventLoop (issue 17, item 5): messages both
ways over 127.0.0.1 with many concurrent connections."""
from __future__ import annotations

import asyncio
import os

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

import eddy

CONNS = 100
MESSAGES = 20


def _run(coro):
    with asyncio.Runner(loop_factory=eddy.new_event_loop) as r:
        return r.run(coro)


def test_websockets_many_connections_both_ways():
    async def main():
        assert type(asyncio.get_running_loop()) is eddy.EventLoop
        seen = []

        async def handler(ws):
            assert isinstance(asyncio.get_running_loop(), eddy.EventLoop)
            n = 0
            async for msg in ws:
                n += 1
                # Text frames reversed, binary frames doubled: the client checks each.
                await ws.send(msg[::-1] if isinstance(msg, str) else msg + msg)
            seen.append(n)

        async with serve(handler, "127.0.0.1", 0, max_size=2**22) as server:
            port = server.sockets[0].getsockname()[1]

            async def client(i: int) -> int:
                moved = 0
                async with connect(f"ws://127.0.0.1:{port}", max_size=2**22) as ws:
                    for k in range(MESSAGES):
                        if k % 2:
                            data = os.urandom(1 + (i * 131 + k * 977) % 65536)
                            await ws.send(data)
                            assert await ws.recv() == data + data
                            moved += 3 * len(data)
                        else:
                            text = f"client {i} message {k} " * (k + 1)
                            await ws.send(text)
                            assert await ws.recv() == text[::-1]
                            moved += 2 * len(text)
                    # A server-initiated burst: the server sends while the client only reads.
                    await ws.send("burst")
                    assert await ws.recv() == "tsrub"
                return moved

            moved = await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(CONNS))), 120)
            # Handlers finish when their client closed.
            for _ in range(1000):
                if len(seen) == CONNS:
                    break
                await asyncio.sleep(0.01)
        return moved, seen

    moved, seen = _run(main())
    assert len(moved) == CONNS and all(m > 0 for m in moved)
    assert sorted(seen) == [MESSAGES + 1] * CONNS


def test_websockets_server_pushes_stream():
    """The server pushes 200 messages per connection without the client asking (data
    flowing server to client under back-pressure), 50 connections at once."""

    async def main():
        assert type(asyncio.get_running_loop()) is eddy.EventLoop

        async def push(ws):
            for k in range(200):
                await ws.send(k.to_bytes(4, "big") * 256)
            await ws.close()

        async with serve(push, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]

            async def client() -> int:
                got = 0
                async with connect(f"ws://127.0.0.1:{port}") as ws:
                    try:
                        while True:
                            msg = await ws.recv()
                            assert msg == got.to_bytes(4, "big") * 256
                            got += 1
                    except websockets.ConnectionClosedOK:
                        pass
                return got

            return await asyncio.wait_for(asyncio.gather(*(client() for _ in range(50))), 120)

    assert _run(main()) == [200] * 50
