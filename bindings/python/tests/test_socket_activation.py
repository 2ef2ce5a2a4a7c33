"""systemd socket activation (issue 15 item 4, LISTEN_FDS): the example in
docs/NETWORKING.md run the way systemd starts a service — the listening socket at
descriptor 3, LISTEN_FDS=1 and LISTEN_PID the service's own pid — takes its listener
with TcpListener.from_fd(3) and serves on it. Loopback only."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

BINDING = Path(__file__).resolve().parent.parent

# The service: docs/NETWORKING.md's example, serving one echo on the listener it got.
SERVICE = r'''
import os, sys
sys.path.insert(0, sys.argv[1])
import eddy

async def main():
    if os.environ.get("LISTEN_PID") == str(os.getpid()) and int(os.environ.get("LISTEN_FDS", "0")) >= 1:
        listener = eddy.TcpListener.from_fd(3)   # SD_LISTEN_FDS_START
        how = "activated"
    else:
        listener = await eddy.listen("127.0.0.1", 0)
        how = "own"
    print(how, listener.local_address[1], flush=True)
    async with listener, await listener.accept() as conn:
        await conn.write_all(await conn.readline())

eddy.run(main())
'''


def test_listen_fds_socket_activation():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    # As systemd does: the socket becomes descriptor 3, LISTEN_PID is the pid that execs
    # the service (exec keeps it), LISTEN_FDS the count.
    launcher = ("import os, sys; fd = int(sys.argv[1])\nif fd != 3: os.dup2(fd, 3); os.close(fd)\n"
                "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1'); "
                "os.execv(sys.executable, [sys.executable, '-c', sys.argv[2], sys.argv[3]])")
    env = {k: v for k, v in os.environ.items() if k not in ("LISTEN_PID", "LISTEN_FDS")}
    child = subprocess.Popen([sys.executable, "-c", launcher, str(fd), SERVICE, str(BINDING)],
                             pass_fds=(fd,), stdout=subprocess.PIPE, text=True, env=env)
    try:
        how, got_port = child.stdout.readline().split()  # type: ignore[union-attr]
        assert how == "activated" and int(got_port) == port
        listener.close()  # the service holds its own copy now
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.sendall(b"activated\n")
            assert c.makefile("rb").readline() == b"activated\n"
        assert child.wait(timeout=60) == 0
    finally:
        listener.close()
        if child.poll() is None:
            child.kill()
            child.wait()
