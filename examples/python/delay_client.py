#!/usr/bin/env python3
"""N concurrent HTTP GETs /{ms}/{text} against the delay server, on Eddy.

    python3 examples/python/delay_client.py --host 127.0.0.1 --port 8080 -n 10

Request i asks the server to wait (n - i) * step ms before answering, so replies
arrive in reverse order; with a concurrent client the total is about the longest
delay, not the sum.
"""
from __future__ import annotations

import argparse
import sys
import time

import _path  # noqa: F401

import eddy


def parse_response(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        status = 0
    return status, body


async def fetch(host: str, port: int, ms: int, text: str) -> bytes:
    async with await eddy.connect(host, port) as s:
        req = f"GET /{ms}/{text} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
        await s.write_all(req.encode())
        chunks = []
        length = None
        total = 0
        while True:
            chunk = await s.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if length is None:
                data = b"".join(chunks)
                if b"\r\n\r\n" in data:
                    head = data.split(b"\r\n\r\n", 1)[0].lower()
                    for line in head.split(b"\r\n"):
                        if line.startswith(b"content-length:"):
                            length = len(head) + 4 + int(line.split(b":", 1)[1])
            if length is not None and total >= length:
                break
        return b"".join(chunks)


async def main(host: str, port: int, n: int, step: int, timeout: float) -> int:
    start = time.monotonic()

    async def one(i: int) -> None:
        ms = (n - i) * step
        raw = await eddy.wait_for(fetch(host, port, ms, f"request-{i}"), timeout)
        status, body = parse_response(raw)
        print(f"[{time.monotonic() - start:6.3f}s] #{i} ({ms} ms) -> {status} {body.decode(errors='replace')}", flush=True)
        if status != 200:
            raise RuntimeError(f"request {i}: HTTP status {status}")

    results = await eddy.gather(*(one(i) for i in range(n)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    for r in failed:
        print(f"error ({host} port {port}): {r}", file=sys.stderr)
    print(f"{n - len(failed)}/{n} replies in {time.monotonic() - start:.3f}s total")
    return 1 if failed else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("-n", type=int, default=10, help="number of concurrent requests")
    ap.add_argument("--step", type=int, default=100, help="delay step in ms")
    ap.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    a = ap.parse_args()
    try:
        sys.exit(eddy.run(main(a.host, a.port, a.n, a.step, a.timeout)))
    except KeyboardInterrupt:
        sys.exit(130)
