#!/usr/bin/env python3
"""UDP echo under callgrind (issue 15): user-space instructions per datagram echoed, for
Eddy's three UDP echo examples against a hand-written epoll UDP echo and libuv's, in one
run. Not part of `make test`: `make bench-udp` (about 3-6 minutes on 2 loaded cores).

    bench/udp_echo_ir.py --scratch .build [--clients 10] [--n1 2000] [--n2 6000] [--reps 1]

Each server runs under `valgrind --tool=callgrind` twice, for N1 and N2 ping-pong round
trips of 64-byte datagrams from `--clients` loopback sockets (each keeps one datagram in
flight); (Ir(N2) - Ir(N1)) / (N2 - N1) cancels start-up and shutdown. Stripped copies of
the Swift binaries and libeddy.so (valgrind 3.19 cannot read Swift 6.3 debug info, as for
bench/callgrind_ir.sh). The interpreted server gets N/4. 127.0.0.1 only."""
from __future__ import annotations

import argparse
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def client_load(port: int, clients: int, total: int) -> None:
    """`total` round trips spread over `clients` sockets, one datagram in flight each."""
    sel = selectors.DefaultSelector()
    socks = []
    left = {}
    payload = b"x" * 64
    for _ in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
        left[s] = total // clients
    for s in socks:
        s.send(payload)
    deadline = time.monotonic() + 600
    pending = len(socks)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=5):
            s = key.fileobj
            try:
                s.recv(100)
            except BlockingIOError:
                continue
            left[s] -= 1
            if left[s] > 0:
                s.send(payload)
            else:
                sel.unregister(s)
                pending -= 1
    for s in socks:
        s.close()
    if pending:
        raise SystemExit("udp_echo_ir: the server stopped answering (datagram lost?)")


def ir_for(cmd: list[str], env: dict, n: int, clients: int) -> int:
    out = tempfile.mkdtemp()
    cg = os.path.join(out, "cg.out")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}", *cmd],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **env})
    line = p.stdout.readline()
    m = re.search(r":(\d+) \(udp\)", line)
    if not m:
        p.kill()
        raise SystemExit(f"udp_echo_ir: {cmd}: no listening line ({line!r})")
    client_load(int(m.group(1)), clients, n)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=120)
    total = None
    for l in open(cg):
        if l.startswith(("summary:", "totals:")):
            total = int(l.split()[1])
            break
    shutil.rmtree(out)
    if total is None:
        raise SystemExit(f"udp_echo_ir: no totals for {cmd}")
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scratch", default=".build")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--n1", type=int, default=2000)
    ap.add_argument("--n2", type=int, default=6000)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--only", default="", help="run only servers whose name contains this")
    a = ap.parse_args()
    scratch = (ROOT / a.scratch).resolve()
    work = Path(tempfile.mkdtemp(prefix="eddy-udp-bench-"))
    (work / "lib").mkdir()
    for src, dst in ((scratch / "release" / "eddy-echo", work / "eddy-echo"),
                     (scratch / "release" / "libeddy.so", work / "lib" / "libeddy.so")):
        subprocess.run(["strip", "-o", str(dst), str(src)], check=True)
    (work / "lib" / "libeddy.so.0").symlink_to("libeddy.so")
    for name, extra in (("epoll_udp_echo", []), ("libuv_udp_echo", ["-luv"])):
        subprocess.run(["cc", "-O2", "-o", str(work / name), str(ROOT / "bench" / "servers" / f"{name}.c"), *extra],
                       check=True)
    strip_lib = {"LD_LIBRARY_PATH": str(work / "lib")}
    py = sys.executable
    servers = [
        ("epoll C (floor)", [str(work / "epoll_udp_echo"), "--port", "0"], {}, 1),
        ("libuv", [str(work / "libuv_udp_echo"), "--port", "0"], {}, 1),
        ("Eddy C (udp_echo.c)", [str(scratch / "c" / "udp_echo"), "--port", "0"], strip_lib, 1),
        ("Eddy Swift (eddy-echo --udp)", [str(work / "eddy-echo"), "--udp", "--port", "0"], {}, 1),
        ("Eddy Python (udp_echo.py)", [py, str(ROOT / "examples" / "python" / "udp_echo.py"), "--port", "0"],
         {"EDDY_LIBRARY": str(work / "lib" / "libeddy.so")}, 4),
    ]
    print(f"| server | user-space instructions / datagram echoed (callgrind, {a.clients} clients, 64 B) |")
    print("|---|---:|")
    for name, cmd, env, div in servers:
        if a.only not in name:
            continue
        n1, n2 = a.n1 // div, a.n2 // div
        vals = sorted((ir_for(cmd, env, n2, a.clients) - ir_for(cmd, env, n1, a.clients)) // (n2 - n1)
                      for _ in range(a.reps))
        print(f"| {name} | {vals[len(vals) // 2]:,} |".replace(",", " "), flush=True)
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
