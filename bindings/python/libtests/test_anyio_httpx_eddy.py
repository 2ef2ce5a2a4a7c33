"""anyio (asyncio backend) and httpx, an HTTP client built on it, on eddy.EventLoop
(issue 17, item 5: "HTTP clients built on anyio"), over 127.0.0.1."""
from __future__ import annotations

import asyncio
import hashlib
import os

import anyio
import httpx
from aiohttp import web

import eddy

CONNS = 50


def _run(coro):
    with asyncio.Runner(loop_factory=eddy.new_event_loop) as r:
        return r.run(coro)


def test_anyio_tcp_listener_and_streams_both_ways():
    async def main():
        assert type(asyncio.get_running_loop()) is eddy.EventLoop
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)

        async def handle(stream):
            async with stream:
                data = b""
                while not data.endswith(b"\n"):
                    data += await stream.receive()
                await stream.send(data[::-1])

        results = []

        async def client(i):
            async with await anyio.connect_tcp("127.0.0.1", port) as s:
                msg = os.urandom(2000 + i).hex().encode() + b"\n"
                await s.send(msg)
                got = b""
                try:
                    while True:
                        got += await s.receive()
                except anyio.EndOfStream:
                    pass
                results.append(got == msg[::-1])

        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, handle)
            with anyio.fail_after(60):
                async with anyio.create_task_group() as clients:
                    for i in range(CONNS):
                        clients.start_soon(client, i)
            tg.cancel_scope.cancel()
        return results

    assert _run(main()) == [True] * CONNS


def test_httpx_async_client_against_aiohttp_server():
    async def main():
        assert type(asyncio.get_running_loop()) is eddy.EventLoop

        async def echo(request):
            body = await request.read()
            return web.Response(body=body, headers={"X-Sha": hashlib.sha256(body).hexdigest()})

        async def big(request):
            return web.Response(body=b"z" * int(request.match_info["n"]))

        app = web.Application(client_max_size=2**20)
        app.router.add_post("/echo", echo)
        app.router.add_get("/big/{n}", big)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        limits = httpx.Limits(max_connections=CONNS)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as c:
                async def one(i):
                    body = os.urandom(32 * 1024 + i)
                    r = await c.post("/echo", content=body)
                    assert r.status_code == 200 and r.content == body
                    assert r.headers["x-sha"] == hashlib.sha256(body).hexdigest()
                    n = 0
                    async with c.stream("GET", f"/big/{100000 + i}") as s:
                        async for chunk in s.aiter_bytes():
                            n += len(chunk)
                    assert n == 100000 + i
                    return True

                return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(CONNS))), 120)
        finally:
            await runner.cleanup()

    assert _run(main()) == [True] * CONNS
