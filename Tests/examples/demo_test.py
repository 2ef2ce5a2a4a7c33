#!/usr/bin/env python3
"""Tests of `make demo` (scripts/demo.sh) when the demo port is taken (Python 3 stdlib only).

usage: demo_test.py PATH/TO/eddy-delayserver [--make]

Every case holds a port with a listener that never answers (what made the old demo's
clients hang) and checks that the demo never talks to it:
  busy port     the server's own EADDRINUSE message is shown, the server moves to a
                free port, the client is handed that port and gets a real reply
  hung client   a client that never ends is stopped by DEMO_CLIENT_TIMEOUT, and so is
                the server
  dead server   a server that exits before its ready line fails the demo at once
  --make        also `make demo DEMO_PORT=<busy>` end to end (Swift, C, Python clients;
                SCRATCH from the environment)
The clients in the first three cases are this file run as a stand-in for make
(`--fake-make TARGET DEMO_PORT=N`). Prints `N passed, M failed`; exits non-zero on any
failure.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "demo.sh")
# Generous bounds for a loaded 2-core machine; the old demo waited 28 s per client.
QUICK_S = 30
results = []


def fake_make(argv):
    """Stand-in for `make -s --no-print-directory TARGET DEMO_PORT=N`."""
    target = next(a for a in argv if not a.startswith("-") and "=" not in a)
    port = int(next(a for a in argv if a.startswith("DEMO_PORT=")).split("=", 1)[1])
    if target == "hang":
        with open(os.environ["DEMO_TEST_PIDFILE"], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(600)
        return 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.settimeout(10)
        s.sendall(b"GET /100/demo-ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    print(f"fake client on port {port}: {data.splitlines()[0].decode() if data else 'no reply'}"
          f"{' body demo-ok' if data.endswith(b'demo-ok') else ''}")
    return 0 if data.startswith(b"HTTP/1.1 200") and data.endswith(b"demo-ok") else 1


def busy_port():
    """A listener on a free port that accepts (through the backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s, s.getsockname()[1]


def run_demo(server, port, targets, timeout_s=None, extra_env=None, cmd=None):
    env = dict(os.environ)
    env["MAKE"] = f"{sys.executable} {os.path.abspath(__file__)} --fake-make"
    if extra_env:
        env.update(extra_env)
    cmd = cmd or ["sh", SCRIPT, server, str(port)] + targets
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s or 600)
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def check(name, ok, detail=""):
    results.append((name, bool(ok)))
    print(f"{'PASS' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")


def served_port(out):
    m = re.search(r"^== eddy-delayserver on 127\.0\.0\.1:(\d+) \(pid \d+\)$", out, re.M)
    return int(m.group(1)) if m else None


def test_busy_port(server):
    holder, port = busy_port()
    with holder:
        rc, out, dt = run_demo(server, port, ["ok"])
        got = served_port(out)
        check("busy port: demo succeeds", rc == 0, f"exit {rc}\n{out}")
        check("busy port: the server's own message names the busy port",
              re.search(rf"cannot listen on 127\.0\.0\.1:{port}: EADDRINUSE", out), out)
        check("busy port: served on another, real port", got is not None and got != port, out)
        check("busy port: the client was handed that port and got a reply",
              f"fake client on port {got}: HTTP/1.1 200" in out and "body demo-ok" in out, out)
        check(f"busy port: done in < {QUICK_S} s", dt < QUICK_S, f"{dt:.1f} s")
        check("busy port: server stopped afterwards", got is None or not listening(got), f"port {got}")


def test_hung_client(server):
    holder, port = busy_port()
    with holder, tempfile.TemporaryDirectory() as tmp:
        pidfile = os.path.join(tmp, "pid")
        rc, out, dt = run_demo(server, port, ["hang", "ok"],
                               extra_env={"DEMO_CLIENT_TIMEOUT": "2", "DEMO_TEST_PIDFILE": pidfile})
        got = served_port(out)
        check("hung client: demo fails", rc != 0, out)
        check("hung client: the timeout is named", "hang did not finish within 2 s" in out, out)
        check("hung client: later clients do not run", "fake client" not in out, out)
        check(f"hung client: done in < {QUICK_S} s", dt < QUICK_S, f"{dt:.1f} s")
        alive = True
        try:
            with open(pidfile) as f:
                os.kill(int(f.read()), 0)
        except (OSError, ValueError):
            alive = False
        check("hung client: the client process was killed", not alive, "still running")
        check("hung client: server stopped", got is not None and not listening(got), f"port {got}")


def test_dead_server():
    holder, port = busy_port()
    with holder:
        rc, out, dt = run_demo("/bin/false", port, ["ok"])
        check("dead server: demo fails", rc == 1, f"exit {rc}\n{out}")
        check("dead server: says the server exited", "exited before listening" in out, out)
        check("dead server: no client ran", "== ok" not in out and "fake client" not in out, out)
        check(f"dead server: done in < {QUICK_S} s", dt < QUICK_S, f"{dt:.1f} s")


def test_make_demo():
    holder, port = busy_port()
    with holder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
        t0 = time.monotonic()
        scratch = [f"SCRATCH={os.environ['SCRATCH']}"] if os.environ.get("SCRATCH") else []
        p = subprocess.run(["make", "-s", "--no-print-directory", "demo", f"DEMO_PORT={port}"] + scratch, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
        out, dt = p.stdout + p.stderr, time.monotonic() - t0
        got = served_port(out)
        check("make demo, busy port: succeeds", p.returncode == 0, f"exit {p.returncode}\n{out}")
        check("make demo, busy port: served on another port", got is not None and got != port, out)
        check("make demo, busy port: EADDRINUSE shown", f"127.0.0.1:{port}: EADDRINUSE" in out, out)
        print(f"make demo with a busy port: {dt:.1f} s")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--fake-make":
        return fake_make(sys.argv[2:])
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    server = os.path.abspath(sys.argv[1])
    test_busy_port(server)
    test_hung_client(server)
    test_dead_server()
    if "--make" in sys.argv[2:]:
        test_make_demo()
    failed = sum(1 for _, ok in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
