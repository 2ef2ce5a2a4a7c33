#!/usr/bin/env python3
"""eddy-delayserver --unix PATH (issue 15): `curl --unix-socket PATH http://localhost/100/hi`
gets `hi`; five concurrent 300 ms requests over the socket finish together (well under
5 x 300 ms); a stale socket file left at PATH is replaced; SIGTERM exits 0 and removes
the socket file.

    delayserver_unix_test.py PATH/TO/eddy-delayserver"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def get(path: str, target: str) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    s.close()
    return data


def main() -> int:
    server = sys.argv[1]
    curl = shutil.which("curl")
    if curl is None:
        raise SystemExit("delayserver_unix_test: curl is required (apt-get install curl)")
    d = tempfile.mkdtemp(prefix="eddy-ds-unix-")
    path = os.path.join(d, "delay.sock")
    # A stale socket file in the way: bound, never listened on, closed.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()
    p = subprocess.Popen([server, "--unix", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        assert line == f"listening on unix:{path}", f"first line {line!r}"
        out = subprocess.run([curl, "-s", "--max-time", "10", "--unix-socket", path, "http://localhost/100/hi"],
                             capture_output=True, timeout=20)
        assert out.returncode == 0 and out.stdout == b"hi", f"curl: {out.returncode} {out.stdout!r} {out.stderr!r}"
        results: list[bytes] = []
        t0 = time.monotonic()
        threads = [threading.Thread(target=lambda i=i: results.append(get(path, f"/300/r{i}"))) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        took = time.monotonic() - t0
        assert len(results) == 5 and all(r.startswith(b"HTTP/1.1 200") for r in results), results
        assert sorted(r.rsplit(b"\r\n\r\n", 1)[1] for r in results) == [b"r%d" % i for i in range(5)]
        assert took < 1.4, f"5 concurrent 300 ms requests took {took:.2f} s: not concurrent"
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    assert rc == 0, f"exit status {rc} after SIGTERM: {p.stderr.read()!r}"
    assert not os.path.exists(path), "the socket file was left behind"
    shutil.rmtree(d)
    print("delayserver --unix: curl, 5 concurrent requests, stale file, clean exit: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
