"""eddy.Queue vs asyncio.Queue: put/get throughput (issue 16), and the choice
behind eddy.Queue's design: pure Python over the binding's suspension, or a thin
wrapper over the C channel (eddy_channel_try_send / try_recv through ctypes).

    python3 bench/py_queue.py [--items N] [--rounds R]

Workloads (N items each, best of R rounds, items per second):
  nowait     put_nowait + get_nowait pairs in one task (no waiting: the data path)
  pingpong   one producer, one consumer, maxsize 1 (every item wakes the other task)
  bounded    4 producers, 1 consumer, maxsize 1024
and, for the design choice, "c-channel nowait": the same pairs through the C
channel via ctypes, what an eddy.Queue over the C channel would pay at least.
Run with the library in .build/release (EDDY_LIBRARY overrides)."""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bindings" / "python"))
import eddy  # noqa: E402
from eddy import _lib  # noqa: E402


async def nowait(ns, n):
    q = ns.Queue()
    t0 = time.perf_counter()
    for i in range(n):
        q.put_nowait(i)
        q.get_nowait()
    return time.perf_counter() - t0


async def pingpong(ns, n):
    q = ns.Queue(1)

    async def consumer():
        for _ in range(n):
            await q.get()

    t0 = time.perf_counter()
    c = ns.spawn(consumer())
    for i in range(n):
        await q.put(i)
    await c
    return time.perf_counter() - t0


async def bounded(ns, n):
    q = ns.Queue(1024)
    per = n // 4

    async def producer():
        for i in range(per):
            await q.put(i)

    t0 = time.perf_counter()
    ps = [ns.spawn(producer()) for _ in range(4)]
    for _ in range(per * 4):
        await q.get()
    for p in ps:
        await p
    return time.perf_counter() - t0


def c_channel_nowait(n):
    lib = _lib.load()
    lib.eddy_runtime_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64)]
    lib.eddy_channel_new.argtypes = [ctypes.c_uint64, ctypes.c_size_t, ctypes.c_void_p,
                                     ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64)]
    lib.eddy_channel_try_send.argtypes = [ctypes.c_uint64, ctypes.c_void_p]
    lib.eddy_channel_try_recv.argtypes = [ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p)]
    rt, tx, rx = ctypes.c_uint64(), ctypes.c_uint64(), ctypes.c_uint64()
    assert lib.eddy_runtime_new(None, ctypes.byref(rt)) == 0
    assert lib.eddy_channel_new(rt.value, 1024, None, ctypes.byref(tx), ctypes.byref(rx)) == 0
    out = ctypes.c_void_p()
    send, recv, t, r, ref = lib.eddy_channel_try_send, lib.eddy_channel_try_recv, tx.value, rx.value, ctypes.byref(out)
    t0 = time.perf_counter()
    for i in range(n):
        send(t, i + 1)
        recv(r, ref)
    dt = time.perf_counter() - t0
    lib.eddy_runtime_free(rt.value)
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    n = a.items
    aio = type("ns", (), {"Queue": asyncio.Queue, "spawn": staticmethod(asyncio.create_task)})
    edd = type("ns", (), {"Queue": eddy.Queue, "spawn": staticmethod(eddy.spawn)})
    print(f"{'workload':<22}{'asyncio.Queue':>16}{'eddy.Queue':>14}{'eddy/asyncio':>14}   (items/s, best of {a.rounds})")
    for name, fn in (("nowait", nowait), ("pingpong (maxsize 1)", pingpong), ("4 producers, 1024", bounded)):
        ta = min(asyncio.run(fn(aio, n)) for _ in range(a.rounds))
        te = min(eddy.run(fn(edd, n)) for _ in range(a.rounds))
        print(f"{name:<22}{n / ta:>16,.0f}{n / te:>14,.0f}{ta / te:>14.2f}")
    tc = min(c_channel_nowait(n) for _ in range(a.rounds))
    te = min(eddy.run(nowait(edd, n)) for _ in range(a.rounds))
    print(f"{'c-channel nowait':<22}{'':>16}{n / tc:>14,.0f}   (eddy.Queue nowait is {tc / te:.2f}x faster)")


if __name__ == "__main__":
    main()
