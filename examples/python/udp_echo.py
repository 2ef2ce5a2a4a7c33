#!/usr/bin/env python3
"""UDP echo server on Eddy: every datagram goes back to its sender.

    python3 examples/python/udp_echo.py --port 9000

The first line on stdout is ``listening on HOST:PORT (udp)``. Stops cleanly on
SIGINT or SIGTERM (exit status 0).
"""
from __future__ import annotations

import argparse
import signal
import sys

import _path  # noqa: F401

import eddy


async def main(host: str, port: int) -> None:
    async with await eddy.bind_udp(host, port) as sock:
        h, p = sock.local_address
        print(f"listening on {'[' + h + ']' if ':' in h else h}:{p} (udp)", flush=True)
        while True:
            try:
                d = await sock.recv_from()
                await sock.send_to(d.data, d.address)
            except OSError:
                continue  # one datagram's error (an ICMP error surfacing ...) is not the server's


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    a = ap.parse_args()
    try:
        eddy.run(main(a.host, a.port), stop_signals=(signal.SIGINT, signal.SIGTERM))
    except (KeyboardInterrupt, SystemExit):
        print("udp echo server stopped", flush=True)
    sys.exit(0)
