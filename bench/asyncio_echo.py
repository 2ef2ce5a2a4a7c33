"""asyncio / uvloop echo server in the three modes of uvloop's own echo benchmark
(uvloop examples/bench/echoserver.py): the anchors for Eddy's Python front door.

    python3 bench/asyncio_echo.py --port 9000 [--uvloop | --eddy] [--mode protocol|streams|sock]

- protocol: an asyncio.Protocol whose data_received writes the data back (callbacks, no
  coroutine per connection; the fastest mode of both loops).
- streams: asyncio.start_server, `reader.read` then `writer.write` (no drain(), as in
  uvloop's benchmark: a ping-pong client never lets the write buffer grow).
- sock: a coroutine per connection on loop.sock_recv / loop.sock_sendall.

Every mode reads up to 64 KiB per call like the other servers here (uvloop's benchmark
asks for 1 MB) and sets TCP_NODELAY on each connection. Exits 0 on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import signal
import socket

BUF = 65536


def nodelay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        nodelay(transport.get_extra_info("socket"))
        self.transport = transport

    def connection_lost(self, exc):
        self.transport = None

    def data_received(self, data):
        self.transport.write(data)


async def echo_streams(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    nodelay(writer.get_extra_info("socket"))
    try:
        while data := await reader.read(BUF):
            writer.write(data)
    except ConnectionError:
        pass
    finally:
        writer.close()


async def echo_sock(loop: asyncio.AbstractEventLoop, client: socket.socket) -> None:
    nodelay(client)
    with client:
        try:
            while data := await loop.sock_recv(client, BUF):
                await loop.sock_sendall(client, data)
        except ConnectionError:
            pass


async def accept_sock(loop: asyncio.AbstractEventLoop, lsock: socket.socket) -> None:
    while True:
        client, _ = await loop.sock_accept(lsock)
        client.setblocking(False)
        loop.create_task(echo_sock(loop, client))


async def main(port: int, mode: str) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    if mode == "protocol":
        server = await loop.create_server(EchoProtocol, "127.0.0.1", port, backlog=1024)
    elif mode == "streams":
        server = await asyncio.start_server(echo_streams, "127.0.0.1", port, backlog=1024)
    else:
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", port))
        lsock.listen(1024)
        lsock.setblocking(False)
        acceptor = loop.create_task(accept_sock(loop, lsock))
        try:
            await stop
        finally:
            acceptor.cancel()
            lsock.close()
        return
    async with server:
        await stop


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--eddy", action="store_true", help="eddy.EventLoop (issue 17; EDDY_LIBRARY, bindings/python on the path)")
    ap.add_argument("--mode", choices=("protocol", "streams", "sock"), default="streams")
    args = ap.parse_args()
    if args.uvloop:
        import uvloop  # type: ignore[import-not-found]
        uvloop.install()
    if args.eddy:
        import os
        import sys

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
        import eddy

        eddy.install()
    asyncio.run(main(args.port, args.mode))
