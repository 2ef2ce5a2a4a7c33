"""aiohttp server and client on eddy.EventLoop (issue 17, item 5): real HTTP over
127.0.0.1, data both ways, many concurrent connections."""
from __future__ import annotations

import asyncio
import hashlib
import os

import aiohttp
from aiohttp import web

import eddy

CONNS = 100          # concurrent client connections
BODY = 64 * 1024     # bytes each client POSTs and gets back
CHUNKS = 16          # chunks of the streamed response


def _run(coro):
    with asyncio.Runner(loop_factory=eddy.new_event_loop) as r:
        return r.run(coro)


async def _app_server():
    async def echo(request: web.Request) -> web.Response:
        assert isinstance(asyncio.get_running_loop(), eddy.EventLoop)
        body = await request.read()
        peer = "%s:%d" % request.transport.get_extra_info("peername")[:2]  # type: ignore[union-attr]
        return web.Response(body=body, headers={"X-Sha": hashlib.sha256(body).hexdigest(), "X-Peer": peer})

    async def stream(request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        resp = web.StreamResponse()
        await resp.prepare(request)
        for i in range(CHUNKS):
            await resp.write(bytes([i % 256]) * n)
            await asyncio.sleep(0)
        await resp.write_eof()
        return resp

    app = web.Application(client_max_size=4 * BODY)
    app.router.add_post("/echo", echo)
    app.router.add_get("/stream/{n}", stream)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=CONNS * 2)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


def test_aiohttp_echo_and_stream_many_connections():
    async def main():
        loop = asyncio.get_running_loop()
        assert type(loop) is eddy.EventLoop
        runner, port = await _app_server()
        base = f"http://127.0.0.1:{port}"
        opened = set()

        async def client(i: int, session: aiohttp.ClientSession) -> int:
            assert isinstance(asyncio.get_running_loop(), eddy.EventLoop)
            body = os.urandom(BODY)
            async with session.post(f"{base}/echo", data=body) as r:
                assert r.status == 200
                got = await r.read()
                assert got == body
                assert r.headers["X-Sha"] == hashlib.sha256(body).hexdigest()
                opened.add(r.headers["X-Peer"])
            n = 1000 + i
            total = 0
            async with session.get(f"{base}/stream/{n}") as r:
                assert r.status == 200
                async for chunk in r.content.iter_chunked(4096):
                    total += len(chunk)
            assert total == n * CHUNKS
            return len(got) + total

        # One connector per client so every client holds its own connection at once.
        sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) for _ in range(CONNS)]
        try:
            moved = await asyncio.wait_for(asyncio.gather(*(client(i, s) for i, s in enumerate(sessions))), 120)
            # Every session still holds its keep-alive connection: CONNS open at once.
            live = len(runner.server.connections)  # type: ignore[union-attr]
        finally:
            for s in sessions:
                await s.close()
            await runner.cleanup()
        return moved, opened, live

    moved, opened, live = _run(main())
    assert len(moved) == CONNS
    assert sum(moved) == CONNS * BODY + sum((1000 + i) * CHUNKS for i in range(CONNS))
    # Distinct client connections (peer addresses), all open at the same time.
    assert len(opened) == CONNS
    assert live == CONNS


def test_aiohttp_keepalive_many_requests_one_pool():
    """A shared pool (limit 20) reusing keep-alive connections for 400 requests."""

    async def main():
        assert type(asyncio.get_running_loop()) is eddy.EventLoop
        runner, port = await _app_server()
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20)) as s:
                async def one(i: int) -> None:
                    data = i.to_bytes(4, "big") * (i % 97 + 1)
                    async with s.post(f"http://127.0.0.1:{port}/echo", data=data) as r:
                        assert await r.read() == data

                await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(400))), 120)
        finally:
            await runner.cleanup()

    _run(main())
