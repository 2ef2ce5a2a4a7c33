"""Process spawn + wait per second (issue 16): eddy.create_subprocess_exec vs
asyncio's, same Python, same machine, interleaved rounds.

    python3 bench/proc_spawn.py [--n N] [--rounds R]

Workloads (N children of /bin/true each, best of R rounds, children per second):
  sequential   spawn, wait; one child at a time
  concurrent8  8 tasks, each spawning and waiting in a loop
  piped        spawn with stdout=PIPE, communicate() (the stream set-up and EOF too)
Run with the library in .build/release (EDDY_LIBRARY overrides)."""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bindings" / "python"))
import eddy  # noqa: E402

TRUE = "/bin/true"


async def sequential(ns, n):
    t0 = time.perf_counter()
    for _ in range(n):
        p = await ns.exec(TRUE)
        await p.wait()
    return time.perf_counter() - t0


async def concurrent8(ns, n):
    async def worker(k):
        for _ in range(k):
            p = await ns.exec(TRUE)
            await p.wait()

    t0 = time.perf_counter()
    await ns.gather(*(worker(n // 8) for _ in range(8)))
    return time.perf_counter() - t0


async def piped(ns, n):
    t0 = time.perf_counter()
    for _ in range(n):
        p = await ns.exec(TRUE, stdout=ns.PIPE)
        await p.communicate()
    return time.perf_counter() - t0


ASYNCIO = SimpleNamespace(name="asyncio", run=asyncio.run, exec=asyncio.create_subprocess_exec,
                          gather=asyncio.gather, PIPE=asyncio.subprocess.PIPE)
EDDY = SimpleNamespace(name="eddy", run=eddy.run, exec=eddy.create_subprocess_exec, gather=eddy.gather,
                       PIPE=eddy.PIPE)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    n = args.n - args.n % 8
    best = {}
    for r in range(args.rounds):
        for wl in (sequential, concurrent8, piped):
            for ns in (ASYNCIO, EDDY) if r % 2 == 0 else (EDDY, ASYNCIO):  # interleaved
                t = ns.run(wl(ns, n))
                key = (wl.__name__, ns.name)
                best[key] = min(best.get(key, t), t)
    print(f"process spawn+wait, {n} children of {TRUE} per cell, best of {args.rounds} rounds "
          f"(Python {platform.python_version()}, {os.cpu_count()} CPUs, kernel {platform.release()})")
    print("| workload | eddy children/s | asyncio children/s | eddy ÷ asyncio |")
    print("|---|---:|---:|---:|")
    for wl in ("sequential", "concurrent8", "piped"):
        e, a = n / best[(wl, "eddy")], n / best[(wl, "asyncio")]
        print(f"| {wl} | {e:,.0f} | {a:,.0f} | {e / a:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
