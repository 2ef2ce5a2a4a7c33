#!/usr/bin/env python3
"""Runs the runtime micro-benchmarks of Eddy (Swift API, C ABI) and tokio current-thread,
and writes bench/results/micro.md (and micro.json, read by bench/doc_tables.py).

  run.py --swift BIN --c BIN --tokio BIN --holder BIN [--bench-dir DIR] [--out FILE]

(a)/(b): each program runs a warm-up then REPS timed runs of N ops in one process and
prints the median. (c)/(d): one fresh process per run (peak RSS is per process), RUNS
runs, median reported. Mallocs per op for Swift come from ordo-one/benchmark
(swift package benchmark, target EddyMallocs) unless --no-mallocs."""
import argparse, datetime, json, os, re, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

def run(cmd, timeout=300):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit(f"run.py: {' '.join(cmd)} failed ({r.returncode})")
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"RESULT (\S+) (\S+) (.*)", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out

def median_runs(cmd, runs):
    res = [run(cmd) for _ in range(runs)]
    return {k: statistics.median(r[k] for r in res) for k in res[0]}

def fmt_rate(v):
    if v is None: return "—"
    return f"{v/1e6:.2f} M/s"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swift", required=True)
    ap.add_argument("--c", required=True)
    ap.add_argument("--tokio", required=True)
    ap.add_argument("--holder", required=True)
    ap.add_argument("--swift-pkg", default=os.path.join(HERE, "swift"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "micro.md"))
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timers", type=int, default=1_000_000)
    ap.add_argument("--conns", type=int, default=10_000)
    ap.add_argument("--no-mallocs", action="store_true")
    a = ap.parse_args()
    progs = {"swift": a.swift, "c": a.c, "tokio": a.tokio}
    R = {k: {} for k in progs}
    n, reps = str(a.n), str(a.reps)
    for k, p in progs.items():
        print(f"== {k}: spawn / ping-pong", flush=True)
        R[k].update(run([p, "spawn", n, reps]))
        R[k].update(run([p, "pingpong", n, reps]))
        print(f"== {k}: timers", flush=True)
        R[k].update(median_runs([p, "timers", str(a.timers)], a.runs))
        print(f"== {k}: idle connections", flush=True)
        R[k].update(median_runs([sys.executable, os.path.join(HERE, "idle.py"), a.holder, str(a.conns), "--", p, "idle", str(a.conns)], a.runs))
    sw = progs["swift"]
    print("== swift async API", flush=True)
    R["swift_async"] = {}
    R["swift_async"].update(run([sw, "spawn-async", n, reps]))
    R["swift_async"].update(run([sw, "pingpong-async", n, reps]))
    R["swift_async"].update(median_runs([sys.executable, os.path.join(HERE, "idle.py"), a.holder, str(a.conns), "--", sw, "idle-async", str(a.conns)], a.runs))
    mallocs = {}
    if not a.no_mallocs:
        print("== swift mallocs (ordo-one/benchmark)", flush=True)
        mallocs = swift_mallocs(a.swift_pkg)
    for k, v in R.items():
        print(k, v)
    print("mallocs", mallocs)
    write_md(a, R, mallocs)

def swift_mallocs(pkg):
    """Mallocs per op: p50 of 'Malloc (total)' of an iteration (1000 ops; --scale prints the raw count) / 1000."""
    names = ("spawn_poll", "spawn_async", "pingpong_poll", "pingpong_async")
    r = subprocess.run(["swift", "package", "--disable-sandbox", "benchmark", "--target", "EddyMallocs",
                        "--scale", "--no-progress"], cwd=pkg, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise SystemExit("run.py: swift package benchmark failed")
    out, name = {}, None
    for line in r.stdout.splitlines():
        t = line.strip()
        if t in names:
            name = t
            continue
        m = re.match(r"^│\s*Malloc \(total\)[^│]*│(.*)", t)
        if m and name:
            cells = [c.strip() for c in m.group(1).split("│") if c.strip()]
            # columns: p0 p25 p50 p75 p90 p99 p100 samples
            out[name] = f"{float(cells[2]) / 1000:.3f}"
    return out

def write_md(a, R, mallocs):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "include"], capture_output=True, text=True).stdout.strip()
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    tokio_ver = "1.24.2 (Debian librust-tokio-dev)"
    s, c, t, sa = R["swift"], R["c"], R["tokio"], R["swift_async"]
    def g(d, k, f): return f(d[k]) if k in d else "—"
    rows = [
        ("(a) spawn + complete empty task, poll API", g(s, "spawn_per_s", fmt_rate), g(c, "spawn_per_s", fmt_rate), g(t, "spawn_per_s", fmt_rate)),
        ("(a) same, async API (`Eddy.spawn` in `blockOn`)", g(sa, "spawn_async_per_s", fmt_rate), "n/a", "—"),
        ("(a) mallocs per task (poll / async)", f"{mallocs.get('spawn_poll', '?')} / {mallocs.get('spawn_async', '?')}", "—", "—"),
        ("(b) wake/poll ping-pong, poll API (round trips)", g(s, "pingpong_per_s", fmt_rate), g(c, "pingpong_per_s", fmt_rate), g(t, "pingpong_per_s", fmt_rate)),
        ("(b) same, async API (continuations)", g(sa, "pingpong_async_per_s", fmt_rate), "n/a", "—"),
        ("(b) mallocs per round trip (poll / async)", f"{mallocs.get('pingpong_poll', '?')} / {mallocs.get('pingpong_async', '?')}", "—", "—"),
        (f"(c) {a.timers:,} timers armed then cancelled: wall time (target < 1 s)", g(s, "timers_total_s", lambda v: f"{v:.2f} s"), g(c, "timers_total_s", lambda v: f"{v:.2f} s"), g(t, "timers_total_s", lambda v: f"{v:.2f} s")),
        ("(c) &nbsp; of which cancel", g(s, "timers_cancel_s", lambda v: f"{v:.2f} s"), g(c, "timers_cancel_s", lambda v: f"{v:.2f} s"), g(t, "timers_cancel_s", lambda v: f"{v:.2f} s")),
        ("(c) peak RSS, whole process (target ≤ 128 MB)", g(s, "timers_peak_rss_mb", lambda v: f"{v:.0f} MB"), g(c, "timers_peak_rss_mb", lambda v: f"{v:.0f} MB"), g(t, "timers_peak_rss_mb", lambda v: f"{v:.0f} MB")),
        (f"(d) RSS per idle connection at {a.conns:,}, poll API (target ≤ 2 KB)", g(s, "idle_bytes_per_conn", lambda v: f"{v:.0f} B"), g(c, "idle_bytes_per_conn", lambda v: f"{v:.0f} B"), g(t, "idle_bytes_per_conn", lambda v: f"{v:.0f} B")),
        ("(d) same, async API (`accept()` + `Eddy.spawn { read }`)", g(sa, "idle_bytes_per_conn", lambda v: f"{v:.0f} B"), "n/a", "—"),
        ("(d) marginal RSS per connection, 1 k → 10 k (poll / async)", f"{g(s, 'idle_marginal_bytes_per_conn', lambda v: f'{v:.0f}')} / {g(sa, 'idle_marginal_bytes_per_conn', lambda v: f'{v:.0f}')} B", g(c, "idle_marginal_bytes_per_conn", lambda v: f"{v:.0f} B"), g(t, "idle_marginal_bytes_per_conn", lambda v: f"{v:.0f} B")),
    ]
    lines = [
        "# Runtime micro-benchmarks: Eddy (Swift API, C ABI) vs tokio current-thread",
        "",
        f"Measured {date} on commit `{commit}`" + (" (with uncommitted changes under Sources/ or include/)" if dirty else "") +
        f"; {os.cpu_count()} CPU cores shared with other work; tokio {tokio_ver}. Generated by `make bench-micro` (bench/micro/run.py).",
        "",
        "| benchmark | Eddy Swift | Eddy C | tokio |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows]
    lines += [
        "",
        "How each number is made (same workload in all three programs: bench/micro/swift, bench/micro/c/micro.c, bench/micro/tokio):",
        f"- (a) a driver task spawns {a.n:,} empty tasks in batches of 1000 (handles dropped = detached; C: `eddy_spawn` + `eddy_task_free`) and re-queues itself until each batch has run; rate = tasks / wall time. Median of {a.reps} runs after a warm-up, one process.",
        f"- (b) two tasks hand a turn back and forth through stored wakers (`Waker.wake`, `eddy_waker_wake`, `Waker::wake_by_ref`); one round trip = 2 wakes + 2 polls; {a.n:,} round trips, median of {a.reps}. Async API: two `Eddy.spawn` tasks resuming each other's `UnsafeContinuation`.",
        f"- (c) one task creates {a.timers:,} sleeps with pseudo-random deadlines 10–70 s ahead, polls each once (arms it), then drops them all (cancels). Swift: `Sleep` objects; C: `eddy_sleep` + `eddy_future_poll` + `eddy_future_free`; tokio: `Box::pin(sleep_until)` polled inside `task::unconstrained` (otherwise the coop budget stops registering after 128 polls). Peak RSS = VmHWM of a fresh process (includes the runtime and the program's own array of handles); median of {a.runs} processes.",
        f"- (d) the server accepts {a.conns:,} loopback connections held open by a helper process (bench/micro/c/holder.c) and runs one task per connection pending in a 64-byte read (the buffer is per connection in all three). RSS delta = RSS after all tasks are pending − RSS after the listener was bound, / connections; server process only, kernel socket memory is not in RSS. Marginal = (RSS at 10 k − RSS at 1 k) / 9 k. Median of {a.runs} processes.",
        "- Mallocs: ordo-one/benchmark 1.38.1 (MallocInterposer trait), `mallocCountTotal` p50 of an iteration of 1000 tasks / 1000 round trips on a reused runtime, divided by 1000 (so a per-iteration fixed cost, e.g. the driver task, shows as 0.001–0.01).",
    ]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    # The same numbers for bench/doc_tables.py (the PERFORMANCE.md targets table).
    js = os.path.splitext(a.out)[0] + ".json"
    with open(js, "w") as f:
        json.dump({"date": date, "commit": commit, "dirty": bool(dirty), "timers": a.timers, "conns": a.conns,
                   "results": R, "mallocs": mallocs}, f, indent=1)
        f.write("\n")
    print(f"wrote {a.out} and {js}")

main()
