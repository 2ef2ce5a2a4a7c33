#!/usr/bin/env python3
"""TCP echo server on Eddy: one task per connection.

    python3 examples/python/echo_server.py --port 9000

--workers N makes the runtime multi-thread (eddy.run(workers=N)). Every Python
coroutine still runs on the eddy.run thread, so this server gains nothing from it:
the extra workers serve C tasks spawned into the same runtime (see
bindings/python/README.md, "Workers").

Stops cleanly on SIGINT or SIGTERM: the signal is delivered to the main
coroutine at its await point, the listener and every connection are closed,
and the runtime is freed.
"""
from __future__ import annotations

import argparse
import signal
import sys

import _path  # noqa: F401

import eddy


async def handle(stream: eddy.TcpStream) -> None:
    async with stream:
        try:
            while True:
                data = await stream.read(65536)
                if not data:
                    break
                await stream.write_all(data)
        except (ConnectionResetError, BrokenPipeError):
            pass


async def main(host: str, port: int) -> None:
    # backlog 1 024 like the other servers bench/ measures (and the C and Swift examples):
    # at churn C=10 000 the default 128 overflows and dropped SYNs wait 1 s to be retried.
    async with await eddy.listen(host, port, backlog=1024) as listener:
        print(f"echo server listening on {host}:{listener.port}", flush=True)
        while True:
            stream = await listener.accept()
            eddy.spawn(handle(stream))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--workers", type=int, default=0, help="runtime workers (0: EDDY_WORKERS, else 1)")
    a = ap.parse_args()
    try:
        eddy.run(main(a.host, a.port), stop_signals=(signal.SIGINT, signal.SIGTERM), workers=a.workers)
    except (KeyboardInterrupt, SystemExit):
        print("echo server stopped", flush=True)
    sys.exit(0)
