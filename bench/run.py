#!/usr/bin/env python3
"""Echo benchmark: Eddy's three front doors against the anchors, interleaved.

    bench/.venv/bin/python bench/run.py [--scratch .build] [--quick] [--rounds N]
        [--warmup S] [--duration S] [--servers a,b,...] [--workloads ...] [--no-callgrind]
        [--no-throughput] [--no-counts] [--allow-dirty]

Every cell is a fresh server process pinned to CPU 0 (taskset) and bench/loadgen pinned to
CPU 1, on 127.0.0.1 only. Servers are interleaved round by round (A B C ... A B C ...), so
slow drift of a shared, noisy machine hits every server alike; ratios to the hand-written
epoll server of the same round are what to read. Per cell we record round trips/s, p99,
and the server's user+system CPU time (from /proc/PID/stat, sampled when loadgen prints
`mark: start` / `mark: end`). Then, under callgrind, user-space instructions per round trip
(C=50, 64 B): bench/callgrind_ir.sh on stripped copies (valgrind 3.19 cannot read Swift 6.3
debug info). Then, per server at full speed, syscalls per round trip (perf tracepoints, no
strace) and mallocs per round trip (bench/malloc_count.c preloaded), at C=1 and C=50.

A full run of every server (no restricting option) is the reference run: it refuses a tree
with uncommitted changes (--allow-dirty overrides, and says so), records the commit, and
writes bench/results/latest.md, latest.json, readme-table.md and docs/bench-echo.png, from
which `make bench-docs` (bench/doc_tables.py) regenerates the README and PERFORMANCE.md
tables. Any other run writes bench/results/partial.* (not in git).
Python 3 standard library only, plus matplotlib for the chart (skipped if missing).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
STRIP = WORK / "strip"
RESULTS = BENCH / "results"
VENV_PY = BENCH / ".venv" / "bin" / "python"
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"  # never anything else

# (id, label, ping-pong conns, size, churn)
WORKLOADS = [
    ("c1", "C=1 64 B", 1, 64, False),
    ("c50", "C=50 64 B", 50, 64, False),
    ("c500", "C=500 64 B", 500, 64, False),
    ("c50-16k", "C=50 16 KiB", 50, 16384, False),
    ("churn", "churn C=50", 50, 64, True),
    # Scale (issue 18): does the cost per round trip stay flat as connections grow? Run by the
    # servers in SCALE_SERVERS only (see there), and counted (syscalls/rt) like the others.
    ("c5000", "C=5 000 64 B", 5000, 64, False),
    ("churn10k", "churn C=10 000", 10000, 64, True),
]
SCALE_WORKLOADS = ("c5000", "churn10k")
# Their warm-up (s): opening 5 000-10 000 connections at once overflows the servers' accept
# queues (backlog 1 024 everywhere), and the SYNs dropped then are retried after 1 s; the
# measured window starts once that storm is over.
SCALE_WARMUP = 2.0
# Who runs the scale workloads: Eddy's three front doors and the native anchors. The Python
# anchors stop at C=500 (PRIMARY_PY_WORKLOADS): at 5 000 connections they measure their own
# interpreter, and their cells would add minutes to the run.
SCALE_SERVERS = ("epoll", "epoll-short", "eddy-c", "eddy-swift", "eddy-py", "libuv", "tokio", "nio")


def real_python() -> str:
    """The interpreter binary itself (a pyenv shim is a shell script valgrind can't follow)."""
    return os.path.realpath(sys.executable) if "shims" not in sys.executable else sys.executable


def sh(cmd, **kw) -> subprocess.CompletedProcess:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def newer(target: Path, *sources: Path) -> bool:
    """True if target exists and is at least as new as every source."""
    if not target.exists():
        return False
    t = target.stat().st_mtime
    return all(not s.exists() or s.stat().st_mtime <= t for s in sources)


# ---------------------------------------------------------------- servers


INTERPRETED_CG_N = (2000, 8000)
# The anchors start an interpreter and import asyncio under valgrind for each of their
# callgrind runs; 3 000 round trips between N1 and N2 already count ~10-100 M instructions.
ANCHOR_CG_N = (1000, 4000)


# The Python anchors: asyncio and uvloop in the three modes of uvloop's echo benchmark.
PY_MODES = [("protocol", "Protocol"), ("streams", "streams"), ("sock", "sock_recv/sendall")]
# Secondary anchors (not the fastest mode of their loop) run fewer cells so the full run stays
# within ~17 minutes on 2 cores: the ping-pong workloads only, 1 s measured, and 1 callgrind
# run (their ratio to the fastest mode is what matters, and it is far outside the noise).
SECONDARY_WORKLOADS = ("c1", "c50")
SECONDARY_DURATION = 1.0
# The fastest mode of each loop runs the ping-pong workloads (16 KiB and churn are kernel-bound
# and say nothing about a Python loop that C=50 does not).
PRIMARY_PY_WORKLOADS = ("c1", "c50", "c500")


class Server:
    def __init__(self, sid, label, cmd, env=None, cg_cmd=None, cg_env=None, throughput=True, cg_n=None,
                 workloads=None, duration=None, cg_reps=None, group=None):
        self.id, self.label, self.cmd = sid, label, cmd
        self.env = env or {}
        self.cg_cmd = cg_cmd  # command for callgrind (stripped binaries), None = skip
        self.cg_env = cg_env or {}
        # callgrind round trips (N1, N2) when not the default: the interpreted servers run
        # 5-40 k instructions per round trip, so fewer round trips give the same precision
        # and keep `make bench` within its 10 minutes (the table shows N1 → N2 per server)
        self.cg_n = cg_n
        self.throughput = throughput
        self.workloads = workloads  # workload ids for the throughput cells, None = all
        self.duration = duration  # measured seconds per cell when not the run's
        self.cg_reps = cg_reps  # callgrind runs when not the run's
        self.group = group  # "uvloop"/"asyncio": README/PERFORMANCE compare with the group's best


def build_all(scratch: Path) -> dict:
    """Builds whatever is missing; returns paths."""
    WORK.mkdir(parents=True, exist_ok=True)
    STRIP.mkdir(parents=True, exist_ok=True)
    p = {}
    cc = os.environ.get("CC", "cc")
    for name, src, libs in [
        ("loadgen", BENCH / "loadgen.c", []),
        ("epoll_echo", BENCH / "epoll_echo.c", []),
        ("libuv_echo", BENCH / "servers" / "libuv_echo.c", ["-luv"]),
    ]:
        out = WORK / name
        if not newer(out, src):
            sh([cc, "-O2", "-Wall", "-Wextra", "-o", out, src, *libs])
        p[name] = out
    # LD_PRELOAD malloc counter for the counts phase (and bench/malloc_per_rt.sh).
    mc = WORK / "malloc_count.so"
    if not newer(mc, BENCH / "malloc_count.c"):
        sh([cc, "-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-o", mc, BENCH / "malloc_count.c", "-ldl"])
    p["malloc_count"] = mc

    tokio_dir = BENCH / "servers" / "tokio_echo"
    tokio = tokio_dir / "target" / "release" / "tokio_echo"
    if not newer(tokio, tokio_dir / "src" / "main.rs", tokio_dir / "Cargo.toml"):
        cargo = os.environ.get("CARGO") or ("/usr/bin/cargo" if Path("/usr/bin/cargo").exists() else "cargo")
        sh([cargo, "build", "--release", "--offline"], cwd=tokio_dir)
    p["tokio"] = tokio

    nio_dir = BENCH / "servers" / "nio_echo"
    nio_scratch = WORK / "nio-build"
    nio = nio_scratch / "release" / "nio-echo"
    if not newer(nio, nio_dir / "Sources" / "nio-echo" / "main.swift", nio_dir / "Package.swift"):
        sh(["swift", "build", "-c", "release", "--package-path", nio_dir, "--scratch-path", nio_scratch])
    p["nio"] = nio

    rel = scratch / "release"
    p["eddy_echo"] = rel / "eddy-echo"
    p["libeddy"] = rel / "libeddy.so"
    p["eddy_c_echo"] = scratch / "c" / "echo_server"
    for k in ("eddy_echo", "libeddy", "eddy_c_echo"):
        if not p[k].exists():
            sys.exit(f"run.py: {p[k]} missing: run `make build examples-c SCRATCH={scratch}` first")

    # Stripped copies for callgrind.
    (STRIP / "lib").mkdir(exist_ok=True)
    for src, dst in [
        (p["eddy_echo"], STRIP / "eddy-echo"),
        (p["eddy_c_echo"], STRIP / "echo_server"),
        (p["libeddy"], STRIP / "lib" / "libeddy.so"),
        (p["nio"], STRIP / "nio-echo"),
    ]:
        if not newer(dst, src):
            sh(["strip", "-o", dst, src])
    so0 = STRIP / "lib" / "libeddy.so.0"
    if not so0.exists():
        so0.symlink_to("libeddy.so")
    p["strip"] = STRIP
    return p


# ---- driver (io_uring) ----
def uring_servers(base: list[Server]) -> list[Server]:
    """The Eddy servers again on the io_uring driver (`--io-uring`): ids `<id>-uring`.
    EDDY_DRIVER reaches every run of them (cells, callgrind, counts); the epoll ones get
    EDDY_DRIVER=epoll so a caller's environment cannot switch them."""
    out = []
    for s in base:
        if s.id in ("eddy-c", "eddy-swift", "eddy-py"):
            s.env = dict(s.env, EDDY_DRIVER="epoll")
            s.cg_env = dict(s.cg_env, EDDY_DRIVER="epoll")
            out.append(Server(f"{s.id}-uring", f"{s.label}, io_uring", s.cmd, env=dict(s.env, EDDY_DRIVER="io_uring"),
                              cg_cmd=s.cg_cmd, cg_env=dict(s.cg_env, EDDY_DRIVER="io_uring"), cg_n=s.cg_n,
                              workloads=s.workloads, duration=s.duration, cg_reps=s.cg_reps))
    return out
# ---- end driver (io_uring) ----


def runs_workload(s: Server, wid: str) -> bool:
    """Whether server `s` has a throughput cell for workload `wid`."""
    if wid in SCALE_WORKLOADS and s.id not in SCALE_SERVERS:
        return False
    return s.workloads is None or wid in s.workloads


def servers(p: dict, include_mt: bool) -> list[Server]:
    py = real_python()
    vpy = str(VENV_PY)
    libeddy = str(p["libeddy"].resolve())
    strip_lib = str((STRIP / "lib").resolve())
    anchors = []
    for loop, interp in (("uvloop", vpy), ("asyncio", py)):
        for mode, mlabel in PY_MODES:
            cmd = [interp, BENCH / "asyncio_echo.py", "--mode", mode] + (["--uvloop"] if loop == "uvloop" else [])
            primary = mode == "protocol"
            anchors.append(Server(
                f"{loop}-{mode}", f"{loop} ({mlabel})", cmd, cg_cmd=cmd, cg_n=ANCHOR_CG_N, group=loop,
                workloads=PRIMARY_PY_WORKLOADS if primary else SECONDARY_WORKLOADS,
                duration=None if primary else SECONDARY_DURATION, cg_reps=None if primary else 1))
    return [
        Server("epoll", "epoll C (floor)", [p["epoll_echo"]], cg_cmd=[p["epoll_echo"]]),
        Server("epoll-short", "epoll C, stops at short read", [p["epoll_echo"], "--short-read"],
               cg_cmd=[p["epoll_echo"], "--short-read"]),
        Server("eddy-c", "Eddy C (echo_server)", [p["eddy_c_echo"]],
               cg_cmd=[STRIP / "echo_server"], cg_env={"LD_LIBRARY_PATH": strip_lib}),
        Server("eddy-swift", "Eddy Swift (eddy-echo)", [p["eddy_echo"]], cg_cmd=[STRIP / "eddy-echo"]),
        Server("eddy-py", "Eddy Python", [py, ROOT / "examples" / "python" / "echo_server.py"],
               env={"EDDY_LIBRARY": libeddy},
               cg_cmd=[py, ROOT / "examples" / "python" / "echo_server.py"],
               cg_env={"EDDY_LIBRARY": str(STRIP / "lib" / "libeddy.so")}, cg_n=INTERPRETED_CG_N),
        Server("libuv", "libuv", [p["libuv_echo"]], cg_cmd=[p["libuv_echo"]]),
        Server("tokio", "tokio current-thread", [p["tokio"]], cg_cmd=[p["tokio"]]),
        Server("tokio-mt", "tokio multi-thread", [p["tokio"], "--multi-thread"],
               cg_cmd=[p["tokio"], "--multi-thread"], throughput=include_mt),
        Server("nio", "SwiftNIO (1 loop)", [p["nio"]], cg_cmd=[STRIP / "nio-echo"]),
        *anchors,
    ]


# ---------------------------------------------------------------- one cell


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection((HOST, port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc: subprocess.Popen) -> int | str | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        # A server that loses a SIGTERM (a signal landing just before it blocks in epoll_wait;
        # the Python binding did until eddy.run watched a signal wake-up fd, see
        # docs/PERFORMANCE.md) is asked once more so the run can go on, and reported: the
        # cell's exit is then a string, which makes run.py exit 1 after writing the results.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
            return "exited only after a second SIGTERM"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None  # ignored SIGTERM
    return proc.returncode


def run_cell(srv: Server, wl, port: int, loadgen: Path, warmup: float, duration: float) -> dict:
    wid, _, conns, size, churn = wl
    cell = {"server": srv.id, "workload": wid, "port": port}
    env = dict(os.environ, **srv.env)
    errlog = WORK / "server.stderr"
    with open(errlog, "w") as err:
        proc = subprocess.Popen(["taskset", "-c", "0", *map(str, srv.cmd), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=err, env=env, preexec_fn=raise_nofile)
    try:
        if not wait_listening(port, proc):
            cell["error"] = "server did not start: " + errlog.read_text()[-300:]
            return cell
        cmd = ["taskset", "-c", "1", str(loadgen), "--mark", "-h", HOST, "-p", str(port), "-c", str(conns),
               "-s", str(size), "-w", str(warmup), "-d", str(duration)] + (["--churn"] if churn else [])
        lg = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=raise_nofile)
        t0 = t1 = None
        result = None
        for line in lg.stdout:
            if line.startswith("mark: start"):
                t0 = cpu_ticks(proc.pid)
            elif line.startswith("mark: end"):
                t1 = cpu_ticks(proc.pid)
            elif "rps=" in line:
                result = dict(kv.split("=", 1) for kv in line.split())
        lg_err = lg.stderr.read()
        rc = lg.wait()
        if rc != 0 or result is None:
            cell["error"] = f"loadgen exit {rc}: {lg_err.strip()[-300:]}"
            return cell
        rts = int(result["roundtrips"])
        cell.update(rps=float(result["rps"]), p50_us=float(result["p50_us"]), p99_us=float(result["p99_us"]),
                    max_us=float(result["max_us"]), roundtrips=rts)
        if t0 is not None and t1 is not None and rts > 0:
            cell["cpu_us_per_rt"] = (t1 - t0) / CLK_TCK * 1e6 / rts
    finally:
        cell["exit"] = stop(proc)
    return cell


# ---------------------------------------------------------------- callgrind


def callgrind(srv: Server, port: int, loadgen: Path, n1: int, n2: int, reps: int = 3) -> dict:
    """Median (and range) of `reps` independent differences: under valgrind the server is
    ~50x slower than the load generator, so how many events each epoll_wait batches varies
    from run to run, and with it the per-round-trip loop overhead. One run can mislead."""
    env = dict(os.environ, LOADGEN=str(loadgen), CONNS="50", SIZE="64", **srv.cg_env)
    cmd = ["bash", str(BENCH / "callgrind_ir.sh"), str(port), str(n1), str(n2), "--",
           *map(str, srv.cg_cmd), "--port", str(port)]
    t = time.monotonic()
    out = {"server": srv.id, "n1": n1, "n2": n2}
    runs = []
    for _ in range(reps):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=900)
        try:
            runs.append(int(r.stdout.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            out["error"] = f"exit {r.returncode}: {(r.stderr or r.stdout).strip()[-300:]}"
    out["secs"] = round(time.monotonic() - t, 1)
    if runs:
        out["runs"] = runs
        out["ir_per_rt"] = int(statistics.median(runs))
        out.pop("error", None)
    return out


# ---------------------------------------------------------------- syscalls and mallocs

# Syscalls are counted by the kernel's syscall tracepoints through `perf stat` attached to
# the running server (no strace: ptrace slows every call and the server, so reads batch
# differently and the EAGAIN read a fast server makes disappears; an LD_PRELOAD counter
# would miss Eddy's raw `syscall` instructions). Reads/writes are grouped across the libc
# spellings servers use (read/recvfrom/..., write/sendto/...).
SYSCALL_GROUPS = {
    "read": ["read", "readv", "recvfrom", "recvmsg"],
    "write": ["write", "writev", "sendto", "sendmsg"],
    "epoll_wait": ["epoll_wait", "epoll_pwait", "epoll_pwait2"],
}
# (workload id, N1, N2): the difference of two windows on one server process cancels
# connection set-up and tear-down; C=1 shows per round trip what batching hides at C=50. The
# scale workloads (C=500, 5 000, churn 10 000) give the syscalls-per-round-trip column of each
# workload (issue 18): an extra epoll_wait or wake-up per round trip as connections grow
# would show there. Each window holds several round trips per connection; for churn one
# round trip is one connection (accept, read, write, close on the server).
# A window ends with up to C requests in flight, served or not: the difference cancels that
# only on average, so the scale windows are many times C apart.
COUNT_WINDOWS = [("c1", 1000, 4000), ("c50", 2000, 10000), ("c500", 5000, 25000),
                 ("c5000", 50000, 150000), ("churn", 2000, 6000), ("churn10k", 20000, 60000)]
COUNT_WINDOWS_QUICK = [("c1", 500, 1500), ("c50", 1000, 3000), ("c500", 2000, 6000),
                       ("c5000", 25000, 75000), ("churn10k", 20000, 40000)]
# Workloads counted for every server; the others only for SCALE_SERVERS.
COUNT_ALL = ("c1", "c50")


def perf_events() -> list[str] | None:
    """The syscall tracepoints this kernel has, or None when perf cannot count them here."""
    if not shutil.which("perf"):
        return None
    r = subprocess.run(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "--", "true"],
                       capture_output=True, text=True)
    if r.returncode != 0 or "not supported" in r.stderr or "<not" in r.stderr:
        return None
    have = subprocess.run(["perf", "list", "tracepoint"], capture_output=True, text=True).stdout
    evs = ["raw_syscalls:sys_enter"]
    for names in SYSCALL_GROUPS.values():
        evs += [f"syscalls:sys_enter_{n}" for n in names if f"syscalls:sys_enter_{n} " in have]
    return evs


def read_perf(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        f = line.split(",")
        if len(f) > 2 and f[0].strip().isdigit():
            out[f[2]] = int(f[0])
    return out


def read_mallocs(path: Path) -> int | None:
    try:
        return int.from_bytes(path.read_bytes()[:8], sys.byteorder)
    except (OSError, ValueError):
        return None


def counts(srv: Server, port: int, loadgen: Path, malloc_so: Path, events, windows) -> dict:
    """Syscalls and mallocs per round trip of one server process: for each (workload, N1, N2)
    window pair, counts over N2 round trips minus counts over N1, divided by N2 - N1."""
    out = {"server": srv.id}
    live = WORK / f"mallocs.{srv.id}"
    env = dict(os.environ, **srv.env, LD_PRELOAD=str(malloc_so.resolve()), MALLOC_COUNT_LIVE=str(live))
    errlog = WORK / "server.stderr"
    with open(errlog, "w") as err:
        proc = subprocess.Popen(["taskset", "-c", "0", *map(str, srv.cmd), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=err, env=env, preexec_fn=raise_nofile)
    try:
        if not wait_listening(port, proc):
            out["error"] = "server did not start: " + errlog.read_text()[-300:]
            return out
        for wid, n1, n2 in windows:
            _, _, conns, size, churn = next(w for w in WORKLOADS if w[0] == wid)
            got = {}
            for n in (n1, n2):
                perf = None
                pout = WORK / f"perf.{srv.id}"
                if events:
                    # Started with its events disabled; enabled through its control pipe, and
                    # the window opens only on perf's acknowledgement (no sleep to guess).
                    cr, cw = os.pipe()
                    ar, aw = os.pipe()
                    perf = subprocess.Popen(["perf", "stat", "-x", ",", "-o", str(pout), "-e", ",".join(events),
                                             "-D", "-1", "--control", f"fd:{cr},{aw}", "-p", str(proc.pid)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(cr, aw))
                    os.close(cr)
                    os.close(aw)
                    os.write(cw, b"enable\n")
                    if not os.read(ar, 16).startswith(b"ack"):
                        raise OSError("perf stat did not acknowledge `enable`")
                m0 = read_mallocs(live)
                subprocess.run(["taskset", "-c", "1", str(loadgen), "-h", HOST, "-p", str(port), "-c", str(conns),
                                "-s", str(size), "-n", str(n), "-w", "0"] + (["--churn"] if churn else []),
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                               preexec_fn=raise_nofile)
                m1 = read_mallocs(live)
                w = {"mallocs": m1 - m0} if m0 is not None and m1 is not None else {}
                if perf:
                    os.write(cw, b"disable\n")
                    os.read(ar, 16)
                    os.close(cw)
                    os.close(ar)
                    perf.send_signal(signal.SIGINT)
                    perf.wait(10)
                    w.update(read_perf(pout))
                got[n] = w
            per = {}
            for key in got[n2]:
                if key in got[n1]:
                    per[key] = (got[n2][key] - got[n1][key]) / (n2 - n1)
            row = {"mallocs": per.get("mallocs")}
            if events:
                row["syscalls"] = per.get("raw_syscalls:sys_enter")
                grouped = 0.0
                for g, names in SYSCALL_GROUPS.items():
                    row[g] = sum(per.get(f"syscalls:sys_enter_{n}", 0.0) for n in names)
                    grouped += row[g]
                if row["syscalls"] is not None:
                    row["other"] = row["syscalls"] - grouped
            out[wid] = row
    except (subprocess.SubprocessError, OSError) as e:
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    finally:
        ex = stop(proc)
        if ex not in (0,):
            out.setdefault("error", f"exit status on SIGTERM: {ex}")
    return out


# ---------------------------------------------------------------- report


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_rps(x):
    return "—" if x is None else (f"{x / 1000:.1f} k" if x >= 1000 else f"{x:.0f}")


def summarize(cells, srvs, workloads):
    """Per server and workload: median rps, median per-round ratio to epoll, p99, CPU."""
    by = {}
    for c in cells:
        by.setdefault((c["server"], c["workload"]), []).append(c)
    summary = {}
    for s in srvs:
        for wl in workloads:
            cs = [c for c in by.get((s.id, wl[0]), []) if "rps" in c]
            if not cs:
                continue
            ratios = []
            for c in cs:
                ref = [e for e in by.get(("epoll", wl[0]), []) if e.get("round") == c["round"] and "rps" in e]
                if ref and ref[0]["rps"] > 0:
                    ratios.append(c["rps"] / ref[0]["rps"])
            summary[f"{s.id}/{wl[0]}"] = {
                "rps": med([c["rps"] for c in cs]),
                "ratio": med(ratios),
                "p99_us": med([c["p99_us"] for c in cs]),
                "cpu_us_per_rt": med([c.get("cpu_us_per_rt") for c in cs]),
                "n": len(cs),
            }
    return summary


def fmt_count(x, digits=2):
    if x is None:
        return "—"
    # window noise can leave a difference a hair below zero: print it as 0, not -0.00
    return f"{0.0 if abs(x) < 0.5 * 10 ** -digits else x:.{digits}f}"


def markdown(meta, summary, cg, srvs, workloads, cells, cnt, windows):
    L = []
    L.append("# Echo benchmark: Eddy vs the anchors\n")
    L.append(f"- date: {meta['date']}  \n- commit: `{meta['commit']}`"
             f"{' (**dirty tree: not a reference run**)' if meta['dirty'] else ' (clean tree)'}"
             f"{' (**tree changed during the run**)' if meta.get('tree_changed_during_run') else ''}  ")
    L.append(f"- machine: {meta['cpu']}, {meta['nproc']} CPUs, Linux {meta['kernel']}; "
             f"load average at start {meta['load_start']}, at end {meta['load_end']}  ")
    L.append(f"- mode: {meta['mode']}: {meta['rounds']} rounds, interleaved; each cell a fresh server on CPU 0, "
             f"loadgen on CPU 1, {meta['warmup']} s warm-up + {meta['duration']} s measured  ")
    L.append(f"- versions: {meta['versions']}  ")
    L.append(f"- wall time: {meta['wall_secs']:.0f} s ("
             + ", ".join(f"{k} {v:.0f} s" for k, v in meta.get("phase_secs", {}).items()) + ")\n")
    L.append("Shared 2-core machine: absolute numbers drift with other load; the ratio to the epoll C "
             "server of the **same round** is the number to compare: ratio = median over rounds of "
             "(server rps ÷ epoll rps of that round), so it is not the quotient of the two medians shown.\n")
    ths = [s for s in srvs if s.throughput]
    head = "| server | " + " | ".join(w[1] for w in workloads) + " |"
    sep = "|---|" + "---:|" * len(workloads)

    def table(title, cellfn, note=""):
        L.append(f"## {title}\n")
        if note:
            L.append(note + "\n")
        L.append(head)
        L.append(sep)
        for s in ths:
            if not any(f"{s.id}/{w[0]}" in summary for w in workloads):
                continue
            row = [cellfn(summary.get(f"{s.id}/{w[0]}")) for w in workloads]
            L.append(f"| {s.label} | " + " | ".join(row) + " |")
        L.append("")

    table("Round trips/s (median) and ratio to epoll C", lambda v: "—" if not v else
          f"{fmt_rps(v['rps'])} ({v['ratio']:.2f}×)" if v["ratio"] is not None else fmt_rps(v["rps"]))
    table("p99 latency, µs (median over rounds)", lambda v: "—" if not v else f"{v['p99_us']:.0f}")
    table("Server CPU (user+system) per round trip, µs", lambda v: "—" if not v or v["cpu_us_per_rt"] is None
          else f"{v['cpu_us_per_rt']:.2f}",
          "From /proc/PID/stat utime+stime (all threads) over the measured window, 10 ms tick "
          "resolution. Includes the kernel's share of the server side of loopback TCP.")
    L.append("## User-space instructions per round trip (callgrind, C=50, 64 B)\n")
    L.append("(Ir(N2) − Ir(N1)) / (N2 − N1) on stripped copies, via bench/callgrind_ir.sh; median of "
             "independent runs, with their range. Instruction counts are exact, but under valgrind how "
             "many events each epoll_wait batches varies between runs, and the per-round-trip loop "
             "overhead with it.\n")
    L.append("| server | Ir / round trip (median) | range | × epoll | N1 → N2 | runs | wall s |")
    L.append("|---|---:|---|---:|---|---:|---:|")
    floor = next((c.get("ir_per_rt") for c in cg if c["server"] == "epoll"), None)
    for s in srvs:
        c = next((c for c in cg if c["server"] == s.id), None)
        if not c:
            continue
        if "ir_per_rt" in c:
            x = f"{c['ir_per_rt'] / floor:.1f}" if floor else "—"
            rng = f"{min(c['runs'])}–{max(c['runs'])}" if c.get("runs") else ""
            ir = f"{c['ir_per_rt']:,}".replace(",", " ")
            L.append(f"| {s.label} | {ir} | {rng} | {x} | {c['n1']} → {c['n2']} | {len(c.get('runs', []))} "
                     f"| {c['secs']} |")
        else:
            L.append(f"| {s.label} | failed: {c['error'][:120]} | | | | | |")
    L.append("")
    if cnt:
        L.append("## Syscalls and mallocs per round trip (64 B)\n")
        L.append("One server process per row at full speed; `perf stat` counts the kernel's syscall "
                 "tracepoints of the server (all threads) over N2 and over N1 round trips, and the "
                 "difference is divided by N2 − N1 (" + ", ".join(f"{w}: {n1} → {n2}" for w, n1, n2 in windows)
                 + "). No strace: it would slow the server and change how reads batch. read = read/readv/"
                 "recvfrom/recvmsg, write = write/writev/sendto/sendmsg, epoll = epoll_wait/epoll_pwait/"
                 "epoll_pwait2; other = everything else (futex, accept, ...). Mallocs: bench/malloc_count.c "
                 "preloaded (malloc/calloc/realloc/posix_memalign/aligned_alloc calls), same windows.\n")
        L.append("| server | syscalls C=1 | read | write | epoll | other | syscalls C=50 | read | write | epoll "
                 "| other | mallocs C=1 | mallocs C=50 |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for s in srvs:
            c = next((c for c in cnt if c["server"] == s.id), None)
            if not c:
                continue
            if "error" in c and "c50" not in c:
                L.append(f"| {s.label} | failed: {c['error'][:120]} |" + " |" * 12)
                continue
            r1, r50 = c.get("c1", {}), c.get("c50", {})
            row = [fmt_count(r.get(k)) for r in (r1, r50) for k in ("syscalls", "read", "write", "epoll_wait", "other")]
            row += [fmt_count(r1.get("mallocs"), 3), fmt_count(r50.get("mallocs"), 3)]
            L.append(f"| {s.label} | " + " | ".join(row) + " |")
        L.append("")
        counted = [w for w in WORKLOADS if any(w[0] == x[0] for x in windows)]
        L.append("## Syscalls per round trip by workload (epoll_wait calls in brackets)\n")
        L.append("Same method and windows as above, one column per workload counted (the scale workloads "
                 f"for {', '.join(SCALE_SERVERS)} only). Counts, not times: they do not move with the machine's "
                 "load. A churn round trip is a whole connection (accept, read, write, close).\n")
        L.append("| server | " + " | ".join(w[1] for w in counted) + " |")
        L.append("|---|" + "---:|" * len(counted))
        for s in srvs:
            c = next((c for c in cnt if c["server"] == s.id), None)
            if not c:
                continue
            cols = []
            for w in counted:
                r = c.get(w[0]) or {}
                cols.append("—" if r.get("syscalls") is None else
                            f"{fmt_count(r['syscalls'])} ({fmt_count(r.get('epoll_wait'))})")
            L.append(f"| {s.label} | " + " | ".join(cols) + " |")
        L.append("")
    bad = [c for c in cells if "error" in c or c.get("exit") not in (0,)]
    bad += [dict(c, round="counts", workload="-") for c in cnt if "error" in c]
    L.append("## Anomalies\n")
    if not bad:
        L.append("None: every cell ran, every server exited 0 on SIGTERM.\n")
    for c in bad:
        what = c.get("error") or f"exit status on SIGTERM: {c.get('exit')} (None = ignored SIGTERM, killed)"
        L.append(f"- round {c['round']} {c['server']} {c['workload']}: {what}")
    L.append("")
    L.append("## Notes\n")
    L.append("- Servers: epoll = bench/epoll_echo.c; Eddy C = examples/c/echo_server.c; Eddy Swift = eddy-echo; "
             "Eddy Python = examples/python/echo_server.py; libuv = bench/servers/libuv_echo.c (uv_try_write, "
             "then uv_write); tokio = bench/servers/tokio_echo; SwiftNIO = bench/servers/nio_echo; "
             "uvloop/asyncio = bench/asyncio_echo.py in the three modes of uvloop's echo benchmark "
             "(Protocol, streams without drain(), sock_recv/sock_sendall); epoll C, stops at short read = "
             "bench/epoll_echo.c --short-read.")
    L.append(f"- The Python anchors' Protocol modes run {', '.join(PRIMARY_PY_WORKLOADS)}; their streams and sock "
             f"modes only {', '.join(SECONDARY_WORKLOADS)}, {SECONDARY_DURATION:g} s measured per cell and one "
             "callgrind run (full mode), to keep the run within ~17 minutes.")
    L.append("- README.md and docs/PERFORMANCE.md compare Eddy Python with the fastest mode of each Python loop: "
             "most round trips/s at C=50, at full speed. Not by instructions: under callgrind the server runs "
             "~50x slower than its client, so the next request is already waiting when a sock_recv/sock_sendall "
             "server calls recv again; it stays on recv's fast path and never suspends (measured: 16 epoll_ctl "
             "and 1.0 recvfrom per round trip over 3 000 round trips under valgrind, against ~2 and ~2 per round "
             "trip at full speed, see the syscalls table). Its instruction counts flatter it and vary from run "
             "to run (asyncio sock, 1 000 → 4 000: 4 133 to 19 192 in four runs; asyncio Protocol 14 644 to 14 935).")
    L.append("- tokio multi-thread is pinned to CPU 0 with the others, so its workers share one core; "
             "it appears in the callgrind table (and in the throughput tables only with --tokio-mt).")
    L.append("- Raw cells, callgrind runs and counts: the .json file written next to this one.")
    return "\n".join(L) + "\n"


def chart(summary, srvs, workloads, path: Path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("run.py: matplotlib not installed, chart skipped", file=sys.stderr)
        return False
    # The secondary Python anchors (streams, sock modes) stay in the tables, off the chart.
    ths = [s for s in srvs if s.throughput and s.duration is None]
    fig, ax = plt.subplots(figsize=(12, 5.5))
    width = 0.85 / len(ths)
    for i, s in enumerate(ths):
        # a workload a server does not run is no bar (NaN), not a zero
        ys = [(summary.get(f"{s.id}/{w[0]}") or {}).get("ratio") or float("nan") for w in workloads]
        xs = [j + (i - (len(ths) - 1) / 2) * width for j in range(len(workloads))]
        ax.bar(xs, ys, width, label=s.label)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels([w[1] for w in workloads])
    ax.set_ylabel("round trips/s ÷ epoll C (same round, median)")
    ax.set_title("TCP echo on 127.0.0.1, server on 1 core: throughput relative to hand-written epoll")
    ax.legend(fontsize=8, ncol=4)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return True


# What a bench run itself writes (or `make bench-docs` regenerates from it): changes there
# do not make the measured tree dirty.
OUTPUTS = ["bench/results", "docs/bench-echo.png", "README.md", "docs/PERFORMANCE.md"]


def dirty_files() -> list[str]:
    """Tracked files changed against HEAD, outside the run's own outputs."""
    out = git("diff", "--name-only", "HEAD", "--", ".", *[f":(exclude){o}" for o in OUTPUTS])
    return [] if out == "unknown" else out.splitlines()


def git(*args):
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def versions(p):
    v = {}
    v["libuv"] = subprocess.run(["pkg-config", "--modversion", "libuv"], capture_output=True, text=True).stdout.strip()
    lock = BENCH / "servers" / "tokio_echo" / "Cargo.lock"
    if lock.exists():
        t = lock.read_text().split('name = "tokio"\nversion = "')
        v["tokio"] = t[1].split('"')[0] if len(t) > 1 else "?"
    res = BENCH / "servers" / "nio_echo" / "Package.resolved"
    if res.exists():
        try:
            pins = json.loads(res.read_text()).get("pins", [])
            v["swift-nio"] = next(x["state"].get("version") for x in pins if x["identity"] == "swift-nio")
        except (StopIteration, KeyError, ValueError):
            pass
    r = subprocess.run([str(VENV_PY), "-c", "import uvloop; print(uvloop.__version__)"], capture_output=True, text=True)
    v["uvloop"] = r.stdout.strip() or "missing"
    v["python"] = platform.python_version()
    return ", ".join(f"{k} {x}" for k, x in v.items())


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scratch", default=os.environ.get("SCRATCH", ".build"))
    ap.add_argument("--quick", action="store_true", help="smoke run (1 round, 1 s cells, 1 callgrind run), ~4-7 min")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--servers", help="comma-separated ids (epoll is always included)")
    ap.add_argument("--workloads", help="comma-separated ids: " + ",".join(w[0] for w in WORKLOADS))
    ap.add_argument("--tokio-mt", action="store_true", help="also run tokio multi-thread in the throughput cells")
    ap.add_argument("--io-uring", action="store_true",  # ---- driver (io_uring) ----
                    help="also run the Eddy servers on the io_uring driver (ids <id>-uring)")
    ap.add_argument("--build-only", action="store_true", help="build the anchor servers and stripped copies, then stop")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--no-counts", action="store_true", help="skip syscalls and mallocs per round trip")
    ap.add_argument("--port-base", type=int, default=19300)
    ap.add_argument("--out", help="output path without extension (default: bench/results/latest for a "
                    "reference run, bench/results/partial otherwise)")
    ap.add_argument("--chart", help="default: docs/bench-echo.png for a reference run, else bench/results/partial.png")
    ap.add_argument("--allow-dirty", action="store_true",
                    help="let a full run of every server measure a tree with uncommitted changes")
    a = ap.parse_args()
    # A full run of every server and workload is a reference run: it writes latest.* (what the
    # docs are generated from) and must measure a committed tree, named by its commit. Any
    # other run writes bench/results/partial.* (not in git) and only warns.
    reference = not (a.quick or a.servers or a.workloads or a.rounds or a.warmup is not None
                     or a.duration is not None or a.no_callgrind or a.no_throughput or a.no_counts)
    dirty = dirty_files()
    commit = git("rev-parse", "--short=12", "HEAD")  # taken now: the tree measured is this one
    if dirty:
        msg = f"run.py: uncommitted changes in {len(dirty)} tracked file(s): {', '.join(dirty[:8])}"
        if reference and not a.allow_dirty and not a.build_only:
            sys.exit(msg + "\nrun.py: a reference run measures a committed tree: commit or stash "
                     "first (or pass --allow-dirty; the results then say so)")
        print(msg + " (recorded in the results)", file=sys.stderr)
    if a.out is None:
        a.out = str(RESULTS / ("latest" if reference else "partial"))
    if a.chart is None:
        a.chart = str(ROOT / "docs" / "bench-echo.png") if reference else str(RESULTS / "partial.png")
    rounds = a.rounds or (1 if a.quick else 3)
    warmup = a.warmup if a.warmup is not None else 0.5  # 0.5 s settles every server here
    duration = a.duration if a.duration is not None else (1.0 if a.quick else 2.0)
    n1, n2 = (1000, 3000) if a.quick else (5000, 15000)

    start = time.monotonic()
    raise_nofile()
    scratch = (ROOT / a.scratch).resolve()
    p = build_all(scratch)
    if a.build_only:
        return
    srvs = servers(p, a.tokio_mt)
    if a.io_uring:  # ---- driver (io_uring) ----
        srvs += uring_servers(srvs)
    if a.servers:
        keep = set(a.servers.split(",")) | {"epoll"}
        srvs = [s for s in srvs if s.id in keep]
    workloads = [w for w in WORKLOADS if not a.workloads or w[0] in a.workloads.split(",")]
    load_start = " ".join(open("/proc/loadavg").read().split()[:3])

    phase = {"build": time.monotonic() - start}
    cells = []
    port = a.port_base
    if not a.no_throughput:
        ths = [s for s in srvs if s.throughput]
        total = rounds * sum(1 for wl in workloads for s in ths if runs_workload(s, wl[0]))
        k = 0
        for r in range(rounds):
            for wl in workloads:
                for s in ths:
                    if not runs_workload(s, wl[0]):
                        continue
                    k += 1
                    port = a.port_base + (k % 400)
                    d = duration if a.quick or a.duration is not None or s.duration is None else s.duration
                    w = max(warmup, SCALE_WARMUP) if wl[0] in SCALE_WORKLOADS and not a.quick else warmup
                    c = run_cell(s, wl, port, p["loadgen"], w, d)
                    c["round"] = r
                    cells.append(c)
                    status = c.get("error") or (f"{c['rps']:.0f} rps p99 {c['p99_us']:.0f} us "
                                                f"cpu {c.get('cpu_us_per_rt', 0):.2f} us/rt exit {c['exit']}")
                    print(f"[{k}/{total}] r{r} {wl[0]:8} {s.id:11} {status}", flush=True)

    phase["throughput"] = time.monotonic() - start - sum(phase.values())
    cg = []
    if not a.no_callgrind:
        if not shutil.which("valgrind"):
            print("run.py: valgrind missing, callgrind skipped", file=sys.stderr)
        else:
            for i, s in enumerate(srvs):
                if s.cg_cmd is None:
                    continue
                sn1, sn2 = (n1, n2) if a.quick or s.cg_n is None else s.cg_n
                reps = 1 if a.quick else (s.cg_reps or 3)
                c = callgrind(s, a.port_base + 450 + i, p["loadgen"], sn1, sn2, reps=reps)
                cg.append(c)
                print(f"[callgrind] {s.id:11} {c.get('ir_per_rt', c.get('error'))} ({c['secs']} s)", flush=True)

    phase["callgrind"] = time.monotonic() - start - sum(phase.values())
    cnt = []
    if not a.no_counts:
        events = perf_events()
        if events is None:
            print("run.py: perf cannot count syscall tracepoints here (needs perf and "
                  "perf_event_paranoid <= -1 or root): syscalls per round trip skipped", file=sys.stderr)
        windows = COUNT_WINDOWS_QUICK if a.quick else COUNT_WINDOWS
        if a.workloads:  # a restricted run counts the workloads it runs (C=1 and C=50 always)
            windows = [w for w in windows if w[0] in COUNT_ALL or w[0] in a.workloads.split(",")]
        for i, s in enumerate(srvs):  # noqa: B007
            mine = [w for w in windows if w[0] in COUNT_ALL or s.id in SCALE_SERVERS]
            c = counts(s, a.port_base + 500 + i, p["loadgen"], p["malloc_count"], events, mine)
            cnt.append(c)
            c50 = c.get("c50", {})
            print(f"[counts] {s.id:16} " + (c.get("error") or
                  f"syscalls/rt C=1 {c.get('c1', {}).get('syscalls')} C=50 {c50.get('syscalls')} "
                  f"mallocs/rt C=50 {c50.get('mallocs')} " +
                  " ".join(f"{w}={(c.get(w) or {}).get('syscalls')}" for w, _, _ in mine if w not in COUNT_ALL)),
                  flush=True)

    phase["counts"] = time.monotonic() - start - sum(phase.values())
    summary = summarize(cells, srvs, workloads)
    # A commit or edit during the run means the binaries measured may not be the commit named.
    changed = git("rev-parse", "--short=12", "HEAD") != commit or dirty_files() != dirty
    if changed:
        print("run.py: WARNING: the tree changed during the run (new commit or edits): "
              "not a reference run", file=sys.stderr)
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "dirty": bool(dirty), "dirty_files": dirty, "reference": reference and not dirty and not changed,
        "tree_changed_during_run": changed,
        "kernel": platform.release(), "cpu": cpu_model(), "nproc": os.cpu_count(),
        "mode": "quick" if a.quick else "full", "rounds": rounds, "warmup": warmup, "duration": duration,
        "load_start": load_start, "load_end": " ".join(open("/proc/loadavg").read().split()[:3]),
        "versions": versions(p), "wall_secs": time.monotonic() - start,
        "phase_secs": {k: round(v, 1) for k, v in phase.items()},
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    md = markdown(meta, summary, cg, srvs, workloads, cells, cnt,
                  COUNT_WINDOWS_QUICK if a.quick else COUNT_WINDOWS)
    out.with_suffix(".md").write_text(md)
    out.with_suffix(".json").write_text(json.dumps(
        {"meta": meta, "workloads": [w[:2] for w in WORKLOADS if w in workloads],
         "servers": {s.id: s.label for s in srvs}, "groups": {s.id: s.group for s in srvs if s.group},
         "summary": summary, "callgrind": cg, "counts": cnt, "cells": cells},
        indent=1) + "\n")
    if summary:
        chart(summary, srvs, workloads, Path(a.chart))
    print(md)
    # The README table snippet, from the JSON just written (bench/doc_tables.py; `make
    # bench-docs` puts it and the PERFORMANCE.md tables into the docs).
    snippet = out.parent / ("readme-table.md" if out.name == "latest" else f"{out.name}-readme-table.md")
    r = subprocess.run([sys.executable, str(BENCH / "doc_tables.py"), "--json", str(out.with_suffix(".json")),
                        "--snippet", str(snippet)], capture_output=True, text=True)
    print(r.stdout + r.stderr)
    print(f"run.py: wrote {out.with_suffix('.md')}, {out.with_suffix('.json')}, {snippet}, {a.chart} "
          f"in {time.monotonic() - start:.0f} s")
    # A lost stop signal is a bug (not noise): fail the run, results are written.
    lost = [c for c in cells if "error" not in c and (c.get("exit") is None or isinstance(c.get("exit"), str))]
    if lost:
        for c in lost:
            print(f"run.py: round {c['round']} {c['server']} {c['workload']}: did not stop on the first SIGTERM "
                  f"({c.get('exit') or 'ignored SIGTERM, killed'})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
