"""Per-connection cost of the binding: no system call beyond the socket's own.

os.getpid() is a system call (glibc does not cache it). The binding compares with the
fork-tracked ``_driver.PID`` cell instead; accept, task start, stream use and close made
~10 getpid calls per connection before (perf tracepoints: 16.2 system calls per connection
under churn, against ~7 for Eddy's C front door; docs/PERFORMANCE-LOG.md)."""
from __future__ import annotations

import os

import eddy


def test_serving_connections_calls_no_getpid(monkeypatch):
    calls = [0]
    counting = [False]
    real = os.getpid

    def counted() -> int:
        if counting[0]:
            calls[0] += 1
        return real()

    monkeypatch.setattr(os, "getpid", counted)
    N = 20

    async def handle(stream: eddy.TcpStream) -> None:
        async with stream:
            data = await stream.read(64)
            await stream.write_all(data)

    async def main() -> int:
        async with await eddy.listen("127.0.0.1", 0) as listener:
            counting[0] = True
            served = 0
            for i in range(N):
                async with await eddy.connect("127.0.0.1", listener.port) as c:
                    s = await listener.accept()
                    t = eddy.spawn(handle(s))
                    await c.write_all(b"x%02d" % i)
                    assert await c.read(64) == b"x%02d" % i
                    await eddy.wait_for(t, 10)
                    served += 1
            counting[0] = False
            return served

    assert eddy.run(main()) == N
    assert calls[0] == 0, f"{calls[0]} os.getpid() calls for {N} connections"
