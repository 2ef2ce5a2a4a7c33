#!/usr/bin/env python3
"""Runs one idle-connection server (prints `PORT p`, then RESULT lines) against the
holder process (bench/micro/c/holder), which keeps N client ends open.
  idle.py HOLDER N -- server command..."""
import subprocess, sys

def main():
    holder, n = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    port = None
    for line in srv.stdout:
        if line.startswith("PORT "):
            port = line.split()[1]
            break
        sys.stdout.write(line)
    if port is None:
        sys.exit("idle.py: server printed no PORT line")
    h = subprocess.Popen([holder, port, n], stdin=subprocess.PIPE)
    try:
        out, _ = srv.communicate(timeout=120)
        sys.stdout.write(out)
    finally:
        h.stdin.close()
        h.wait(timeout=30)
        if srv.poll() is None:
            srv.kill()
    sys.exit(srv.returncode)

main()
