#!/usr/bin/env python3
"""Echo throughput of the multi-thread runtime (issue 14), side by side in one run.

    python3 bench/mt_echo.py [--rounds 3] [--secs 3] [--conns 50] [--out FILE.md]

Servers: Eddy C (examples/c/echo_server) and Eddy Swift (eddy-echo) with --workers 1
and 2, tokio current-thread and multi-thread (bench/servers/tokio_echo: one worker per
CPU, 2 here). Unlike bench/run.py (server pinned to CPU 0, load generator to CPU 1),
the server may use both CPUs and the load generator (bench/loadgen, single-threaded)
is not pinned: it competes for the same two CPUs, as in the issue's "server on 2 cores,
load generator alternating". Cells alternate between servers in every round; each
reports the median over rounds of round trips/s and server CPU (user+system) per round
trip, read from /proc over loadgen's measured window (--mark).

Build first: make build examples-c; cargo build --release --offline in
bench/servers/tokio_echo; bench/.work/loadgen (cc -O2 -o bench/.work/loadgen bench/loadgen.c).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def servers() -> list[tuple[str, list[str]]]:
    c, swift = ROOT / ".build/c/echo_server", ROOT / ".build/release/eddy-echo"
    tokio = ROOT / "bench/servers/tokio_echo/target/release/tokio_echo"
    out = []
    for w in (1, 2):
        out.append((f"Eddy C, workers={w}", [str(c), "--workers", str(w)]))
    for w in (1, 2):
        out.append((f"Eddy Swift, workers={w}", [str(swift), "--workers", str(w)]))
    if tokio.exists():
        out.append(("tokio current-thread", [str(tokio)]))
        out.append(("tokio multi-thread (2 workers)", [str(tokio), "--multi-thread"]))
    return out


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (all threads)


def wait_listening(port: int, proc: subprocess.Popen) -> bool:
    for _ in range(200):
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def cell(cmd: list[str], port: int, conns: int, secs: float) -> dict:
    env = dict(os.environ)
    env.pop("EDDY_WORKERS", None)
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        if not wait_listening(port, proc):
            return {"error": "server did not start"}
        lg = subprocess.Popen([str(ROOT / "bench/.work/loadgen"), "--mark", "-p", str(port), "-c", str(conns),
                               "-s", "64", "-w", "1", "-d", str(secs)], stdout=subprocess.PIPE, text=True)
        t0 = t1 = None
        res = None
        for line in lg.stdout:
            if line.startswith("mark: start"):
                t0 = cpu_ticks(proc.pid)
            elif line.startswith("mark: end"):
                t1 = cpu_ticks(proc.pid)
            elif "rps=" in line:
                res = dict(kv.split("=", 1) for kv in line.split())
        lg.wait()
        if res is None or t0 is None or t1 is None:
            return {"error": "loadgen failed"}
        rts = int(res["roundtrips"])
        return {"rps": float(res["rps"]), "cpu_us": (t1 - t0) / CLK_TCK * 1e6 / max(rts, 1)}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--out")
    a = ap.parse_args()
    srvs = servers()
    results: dict[str, list[dict]] = {name: [] for name, _ in srvs}
    port = 19600
    for r in range(a.rounds):
        for name, cmd in (srvs if r % 2 == 0 else list(reversed(srvs))):
            port += 1
            c = cell(cmd, port, a.conns, a.secs)
            results[name].append(c)
            print(f"round {r + 1} {name}: {c}", flush=True)
    base = None
    lines = [f"Echo, C={a.conns}, 64 B, {a.rounds} rounds x {a.secs:g} s, {os.cpu_count()} CPUs (server unpinned, "
             f"loadgen on the same CPUs), medians:", "",
             "| server | round trips/s | × Eddy C workers=1 | server CPU µs / round trip |", "|---|---:|---:|---:|"]
    for name, _ in srvs:
        ok = [c for c in results[name] if "rps" in c]
        if not ok:
            lines.append(f"| {name} | failed | | |")
            continue
        rps = statistics.median(c["rps"] for c in ok)
        cpu = statistics.median(c["cpu_us"] for c in ok)
        base = base or rps
        lines.append(f"| {name} | {rps:,.0f} | {rps / base:.2f} | {cpu:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
