#!/usr/bin/env python3
"""Runs bench/rt's programs (Eddy C, Eddy Swift, tokio) side by side and prints one
table per suite: ns per op for each runtime, and Eddy's speed relative to tokio.

  run.py --c BIN --swift BIN --tokio BIN [--suite rt|channels|all] [--workers-mt N]
         [--rounds R (3)] [--quick] [--out FILE.md]

Columns: the current-thread flavour (tokio `new_current_thread`, Eddy workers=1) and the
multi-thread flavour (tokio `new_multi_thread` with N workers, Eddy workers=N). An Eddy
program that exits 3 has no runtime with that worker count yet: its cells say "n/a".

Ratio = tokio ns/op ÷ Eddy ns/op: Eddy's speed as a multiple of tokio's (>= 1.0: Eddy as
fast or faster; issue 14's goal). Each program prints the median of its iterations;
with --rounds R every (benchmark, runtime) pair runs R times, interleaved, and the best
median is kept (a loaded machine only ever makes a run slower).
--quick: the smoke run (tiny counts, one iteration; checks completion, not speed)."""
import argparse, datetime, os, platform, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

SUITES = {
    "rt": [
        ("spawn_many_local", "spawned task"),
        ("spawn_many_remote_idle", "spawned task"),
        ("spawn_many_remote_busy", "spawned task"),
        ("yield_many", "yield"),
        ("ping_pong", "ping (2 spawns, 2 oneshots)"),
        ("chained_spawn", "spawn"),
    ],
    "channels": [
        ("mpsc_1p", "value (1 producer, bounded 1 024)"),
        ("mpsc_4p", "value (4 producers, bounded 1 024)"),
        ("oneshot", "create + send + recv"),
        ("notify_rtt", "Notify round trip"),
    ],
}
UNSUPPORTED = 3  # exit status of an Eddy program asked for a worker count it lacks


def run_one(cmd, timeout):
    """ns/op, or None for an unsupported worker count; exits on any failure."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"run.py: {' '.join(cmd)} did not finish within {timeout} s")
    if r.returncode == UNSUPPORTED:
        return None
    m = re.search(r"^RESULT (\S+) (\S+) (\d+) (\d+)$", r.stdout, re.M)
    if r.returncode != 0 or not m:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(f"run.py: {' '.join(cmd)} failed (exit {r.returncode})")
    return float(m.group(2))


def fmt_ns(v):
    if v is None:
        return "n/a"
    return f"{v:,.0f}".replace(",", " ") if v >= 100 else f"{v:.1f}"


def fmt_ratio(tokio, eddy):
    if tokio is None or eddy is None:
        return "n/a"
    return f"{tokio / eddy:.2f}×"


def git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def header():
    dirty = " (uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit "
            f"{git('rev-parse', '--short', 'HEAD')}{dirty}, {platform.machine()}, "
            f"{os.cpu_count()} CPUs, kernel {platform.release()}, load average {load} at the start")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--c", required=True)
    ap.add_argument("--swift", required=True)
    ap.add_argument("--tokio", required=True)
    ap.add_argument("--suite", choices=["rt", "channels", "all"], default="all")
    ap.add_argument("--workers-mt", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", help="also write the tables (markdown) to this file")
    a = ap.parse_args()
    extra = ["--quick"] if a.quick else []
    w = str(a.workers_mt)
    # (column, command prefix); the bench name goes first.
    flavours = {
        "ct": [("tokio", [a.tokio, "{b}", "--flavor", "ct"]),
               ("eddy-c", [a.c, "{b}", "--workers", "1"]),
               ("eddy-swift", [a.swift, "{b}", "--workers", "1"])],
        "mt": [("tokio", [a.tokio, "{b}", "--flavor", "mt", "--workers", w]),
               ("eddy-c", [a.c, "{b}", "--workers", w]),
               ("eddy-swift", [a.swift, "{b}", "--workers", w])],
    }
    suites = ["rt", "channels"] if a.suite == "all" else [a.suite]
    rounds = 1 if a.quick else a.rounds
    lines = [f"Measured {header()}; best of {rounds} round(s), each the median of its iterations.", ""]
    for suite in suites:
        res = {}
        for rnd in range(rounds):
            for bench, _ in SUITES[suite]:
                for fl, progs in flavours.items():
                    for col, cmd in progs:
                        v = run_one([x.format(b=bench) for x in cmd] + extra, timeout=120)
                        key = (bench, fl, col)
                        if rnd == 0 or (v is not None and (res[key] is None or v < res[key])):
                            res[key] = v
                        print(f"  {suite} round {rnd + 1}: {bench:24} {fl} {col:10} "
                              f"{fmt_ns(v):>8} ns/op", file=sys.stderr, flush=True)
        title = {"rt": "Runtime (tokio benches/rt_*.rs)", "channels": "Channels and Notify (tokio::sync)"}[suite]
        lines += [f"#### {title}: ns per op; ratio = tokio ÷ Eddy (≥ 1.0: Eddy as fast or faster)", "",
                  f"| benchmark | op | tokio current-thread | Eddy C w=1 | Eddy Swift w=1 | C ratio | Swift ratio "
                  f"| tokio multi-thread w={w} | Eddy C w={w} | Eddy Swift w={w} | C ratio | Swift ratio |",
                  "|---|---|" + "---:|" * 10]
        for bench, op in SUITES[suite]:
            cells = []
            for fl in ("ct", "mt"):
                t, c, s = (res[(bench, fl, col)] for col in ("tokio", "eddy-c", "eddy-swift"))
                cells += [fmt_ns(t), fmt_ns(c), fmt_ns(s), fmt_ratio(t, c), fmt_ratio(t, s)]
            lines.append(f"| {bench} | {op} | " + " | ".join(cells) + " |")
        if any(v is None for v in res.values()):
            lines.append("")
            lines.append(f"n/a: this Eddy has no runtime with {w} workers yet (issue 14); "
                         "the programs accept --workers and will fill these cells once it has.")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
