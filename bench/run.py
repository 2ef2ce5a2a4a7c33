#!/usr/bin/env python3
"""Echo benchmark: Eddy's three front doors against the anchors, interleaved.

    bench/.venv/bin/python bench/run.py [--scratch .build] [--quick] [--rounds N]
        [--warmup S] [--duration S] [--servers a,b,...] [--no-callgrind] [--no-throughput]

Every cell is a fresh server process pinned to CPU 0 (taskset) and bench/loadgen pinned to
CPU 1, on 127.0.0.1 only. Servers are interleaved round by round (A B C ... A B C ...), so
slow drift of a shared, noisy machine hits every server alike; ratios to the hand-written
epoll server of the same round are what to read. Per cell we record round trips/s, p99,
and the server's user+system CPU time (from /proc/PID/stat, sampled when loadgen prints
`mark: start` / `mark: end`). Then, under callgrind, user-space instructions per round trip
(C=50, 64 B): bench/callgrind_ir.sh on stripped copies (valgrind 3.19 cannot read Swift 6.3
debug info).

Writes bench/results/latest.md, bench/results/latest.json and docs/bench-echo.png.
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
]


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


class Server:
    def __init__(self, sid, label, cmd, env=None, cg_cmd=None, cg_env=None, throughput=True, cg_n=None):
        self.id, self.label, self.cmd = sid, label, cmd
        self.env = env or {}
        self.cg_cmd = cg_cmd  # command for callgrind (stripped binaries), None = skip
        self.cg_env = cg_env or {}
        # callgrind round trips (N1, N2) when not the default: the interpreted servers run
        # 5-40 k instructions per round trip, so fewer round trips give the same precision
        # and keep `make bench` within its 10 minutes (the table shows N1 → N2 per server)
        self.cg_n = cg_n
        self.throughput = throughput


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


def servers(p: dict, include_mt: bool) -> list[Server]:
    py = real_python()
    vpy = str(VENV_PY)
    libeddy = str(p["libeddy"].resolve())
    strip_lib = str((STRIP / "lib").resolve())
    return [
        Server("epoll", "epoll C (floor)", [p["epoll_echo"]], cg_cmd=[p["epoll_echo"]]),
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
        Server("uvloop", "uvloop (streams)", [vpy, BENCH / "asyncio_echo.py", "--uvloop"],
               cg_cmd=[vpy, BENCH / "asyncio_echo.py", "--uvloop"], cg_n=INTERPRETED_CG_N),
        Server("asyncio", "asyncio (streams)", [py, BENCH / "asyncio_echo.py"],
               cg_cmd=[py, BENCH / "asyncio_echo.py"], cg_n=INTERPRETED_CG_N),
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


def markdown(meta, summary, cg, srvs, workloads, cells):
    L = []
    L.append("# Echo benchmark: Eddy vs the anchors\n")
    L.append(f"- date: {meta['date']}  \n- commit: `{meta['commit']}`{' (dirty tree)' if meta['dirty'] else ''}  ")
    L.append(f"- machine: {meta['cpu']}, {meta['nproc']} CPUs, Linux {meta['kernel']}; "
             f"load average at start {meta['load_start']}, at end {meta['load_end']}  ")
    L.append(f"- mode: {meta['mode']}: {meta['rounds']} rounds, interleaved; each cell a fresh server on CPU 0, "
             f"loadgen on CPU 1, {meta['warmup']} s warm-up + {meta['duration']} s measured  ")
    L.append(f"- versions: {meta['versions']}  ")
    L.append(f"- wall time: {meta['wall_secs']:.0f} s\n")
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
    L.append("| server | Ir / round trip (median) | range | × epoll | N1 → N2 | wall s |")
    L.append("|---|---:|---|---:|---|---:|")
    floor = next((c.get("ir_per_rt") for c in cg if c["server"] == "epoll"), None)
    for s in srvs:
        c = next((c for c in cg if c["server"] == s.id), None)
        if not c:
            continue
        if "ir_per_rt" in c:
            x = f"{c['ir_per_rt'] / floor:.1f}" if floor else "—"
            rng = f"{min(c['runs'])}–{max(c['runs'])}" if c.get("runs") else ""
            L.append(f"| {s.label} | {c['ir_per_rt']:,} | {rng} | {x} | {c['n1']} → {c['n2']} | {c['secs']} |".replace(",", " "))
        else:
            L.append(f"| {s.label} | failed: {c['error'][:120]} | | | | |")
    L.append("")
    bad = [c for c in cells if "error" in c or c.get("exit") not in (0,)]
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
             "uvloop/asyncio = bench/asyncio_echo.py (streams API, not protocols).")
    L.append("- tokio multi-thread is pinned to CPU 0 with the others, so its workers share one core; "
             "it appears in the callgrind table (and in the throughput tables only with --tokio-mt).")
    L.append("- Raw cells: latest.json.")
    return "\n".join(L) + "\n"


def chart(summary, srvs, workloads, path: Path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("run.py: matplotlib not installed, chart skipped", file=sys.stderr)
        return False
    ths = [s for s in srvs if s.throughput]
    fig, ax = plt.subplots(figsize=(12, 5.5))
    width = 0.85 / len(ths)
    for i, s in enumerate(ths):
        ys = [(summary.get(f"{s.id}/{w[0]}") or {}).get("ratio") or 0 for w in workloads]
        xs = [j + (i - (len(ths) - 1) / 2) * width for j in range(len(workloads))]
        ax.bar(xs, ys, width, label=s.label)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels([w[1] for w in workloads])
    ax.set_ylabel("round trips/s ÷ epoll C (same round, median)")
    ax.set_title("TCP echo on 127.0.0.1, server on 1 core: throughput relative to hand-written epoll")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return True


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
    ap.add_argument("--quick", action="store_true", help="~2-minute smoke run")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--servers", help="comma-separated ids (epoll is always included)")
    ap.add_argument("--workloads", help="comma-separated ids: " + ",".join(w[0] for w in WORKLOADS))
    ap.add_argument("--tokio-mt", action="store_true", help="also run tokio multi-thread in the throughput cells")
    ap.add_argument("--build-only", action="store_true", help="build the anchor servers and stripped copies, then stop")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--port-base", type=int, default=19300)
    ap.add_argument("--out", default=str(RESULTS / "latest"), help="output path without extension")
    ap.add_argument("--chart", default=str(ROOT / "docs" / "bench-echo.png"))
    a = ap.parse_args()
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
    if a.servers:
        keep = set(a.servers.split(",")) | {"epoll"}
        srvs = [s for s in srvs if s.id in keep]
    workloads = [w for w in WORKLOADS if not a.workloads or w[0] in a.workloads.split(",")]
    load_start = " ".join(open("/proc/loadavg").read().split()[:3])

    cells = []
    port = a.port_base
    if not a.no_throughput:
        ths = [s for s in srvs if s.throughput]
        total = rounds * len(workloads) * len(ths)
        k = 0
        for r in range(rounds):
            for wl in workloads:
                for s in ths:
                    k += 1
                    port = a.port_base + (k % 400)
                    c = run_cell(s, wl, port, p["loadgen"], warmup, duration)
                    c["round"] = r
                    cells.append(c)
                    status = c.get("error") or (f"{c['rps']:.0f} rps p99 {c['p99_us']:.0f} us "
                                                f"cpu {c.get('cpu_us_per_rt', 0):.2f} us/rt exit {c['exit']}")
                    print(f"[{k}/{total}] r{r} {wl[0]:8} {s.id:11} {status}", flush=True)

    cg = []
    if not a.no_callgrind:
        if not shutil.which("valgrind"):
            print("run.py: valgrind missing, callgrind skipped", file=sys.stderr)
        else:
            for i, s in enumerate(srvs):
                if s.cg_cmd is None:
                    continue
                sn1, sn2 = (n1, n2) if a.quick or s.cg_n is None else s.cg_n
                c = callgrind(s, a.port_base + 450 + i, p["loadgen"], sn1, sn2, reps=1 if a.quick else 3)
                cg.append(c)
                print(f"[callgrind] {s.id:11} {c.get('ir_per_rt', c.get('error'))} ({c['secs']} s)", flush=True)

    summary = summarize(cells, srvs, workloads)
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short=12", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "kernel": platform.release(), "cpu": cpu_model(), "nproc": os.cpu_count(),
        "mode": "quick" if a.quick else "full", "rounds": rounds, "warmup": warmup, "duration": duration,
        "load_start": load_start, "load_end": " ".join(open("/proc/loadavg").read().split()[:3]),
        "versions": versions(p), "wall_secs": time.monotonic() - start,
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    md = markdown(meta, summary, cg, srvs, workloads, cells)
    out.with_suffix(".md").write_text(md)
    out.with_suffix(".json").write_text(json.dumps(
        {"meta": meta, "workloads": [w[:2] for w in WORKLOADS if w in workloads],
         "servers": {s.id: s.label for s in srvs}, "summary": summary, "callgrind": cg, "cells": cells},
        indent=1) + "\n")
    if summary:
        chart(summary, srvs, workloads, Path(a.chart))
    print(md)
    print(f"run.py: wrote {out.with_suffix('.md')}, {out.with_suffix('.json')}, {a.chart} "
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
