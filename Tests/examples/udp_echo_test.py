#!/usr/bin/env python3
"""End-to-end test of the three UDP echo examples (issue 15):

    udp_echo_test.py EDDY_ECHO C_UDP_ECHO

eddy-echo --udp (Swift), examples/c/udp_echo.c and examples/python/udp_echo.py are each
started with --port 0; the test reads `listening on HOST:PORT (udp)`, checks that
datagrams of 0, 1, 1 000 and 65 507 bytes (the largest IPv4 datagram) come back
byte for byte to the right sender, that a burst of 200 datagrams from two clients comes
back complete, and that SIGTERM ends the server with status 0. 127.0.0.1 only."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start(cmd: list[str]) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+) \(udp\)$", line.strip())
    if not m:
        p.kill()
        raise AssertionError(f"{cmd[0]}: unexpected first line {line!r}, stderr {p.stderr.read()!r}")
    return p, int(m.group(1))


def check_echo(port: int, name: str) -> None:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(10)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    for size in (0, 1, 1000, 65507):
        payload = bytes((i * 7 + size) & 0xFF for i in range(size))
        c.sendto(payload, ("127.0.0.1", port))
        data, addr = c.recvfrom(65536)
        assert data == payload, f"{name}: {size}-byte datagram came back as {len(data)} bytes"
        assert addr == ("127.0.0.1", port), f"{name}: reply from {addr}"
    # A burst from two clients: each gets exactly its own datagrams back.
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d.settimeout(10)
    for s in (c, d):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    for i in range(100):
        c.sendto(b"c%03d" % i, ("127.0.0.1", port))
        d.sendto(b"d%03d" % i, ("127.0.0.1", port))
    got_c = sorted(c.recvfrom(100)[0] for _ in range(100))
    got_d = sorted(d.recvfrom(100)[0] for _ in range(100))
    assert got_c == [b"c%03d" % i for i in range(100)], f"{name}: burst to client c incomplete"
    assert got_d == [b"d%03d" % i for i in range(100)], f"{name}: burst to client d incomplete"
    c.close()
    d.close()


def stop(p: subprocess.Popen, name: str) -> None:
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError(f"{name} ignored SIGTERM")
    assert rc == 0, f"{name}: exit status {rc} after SIGTERM, stderr {p.stderr.read()!r}"


def main() -> int:
    swift_echo, c_echo = sys.argv[1], sys.argv[2]
    servers = [
        ("eddy-echo --udp", [swift_echo, "--udp", "--port", "0"]),
        ("udp_echo.c", [c_echo, "--port", "0"]),
        ("udp_echo.py", [sys.executable, os.path.join(REPO, "examples", "python", "udp_echo.py"), "--port", "0"]),
    ]
    for name, cmd in servers:
        t0 = time.monotonic()
        p, port = start(cmd)
        try:
            check_echo(port, name)
        finally:
            if p.poll() is None:
                stop(p, name)
        print(f"ok: {name} (port {port}, {time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
