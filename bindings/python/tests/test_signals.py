"""Signals during eddy.run: a signal that does not interrupt the runtime's
epoll_wait (delivered to another thread, or landing just before the wait)
still stops an idle run, through the signal.set_wakeup_fd pipe the runtime
watches (eddy/_wakeup.py). Plus: the previous wake-up fd is restored and the
pipe closed on every exit, runs outside the main thread leave it alone, and a
forked child does not keep poking the parent's pipe.

The repro runs in a subprocess with a timeout: without the fix the child
sleeps 30 s, and the test fails instead of hanging the suite."""
from __future__ import annotations

import os
import signal
import subprocess
import threading

import pytest

import eddy

from conftest import assert_not_killed, open_fds, run_snippet

# The main thread blocks the signal, so the runtime's epoll_wait is never
# interrupted; a helper thread that has it unblocked sends it to itself once
# the main thread is blocked in the kernel. CPython's C-level handler then runs
# on the helper thread: it sets CPython's flag and writes the wake-up fd, and
# only the wake-up fd can end the main thread's wait.
REPRO = r"""
import os, signal, sys, threading, time
import eddy

SIG = getattr(signal, sys.argv[1])
main_tid = threading.get_native_id()
go = threading.Event()
sent = [0.0]

def in_kernel_wait():
    # /proc/<tid>/syscall: the number of the syscall the thread is blocked in
    # (epoll_wait 232 / epoll_pwait 281 / epoll_pwait2 441 on x86-64, 22 on arm64).
    try:
        with open(f"/proc/self/task/{main_tid}/syscall") as f:
            return f.read().split()[0] in ("232", "281", "441", "22")
    except (OSError, IndexError):
        return False

def sender():
    go.wait()
    deadline = time.monotonic() + 2.0
    while not in_kernel_wait() and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    print("blocked in epoll_wait:", in_kernel_wait(), flush=True)
    sent[0] = time.monotonic()
    signal.pthread_kill(threading.get_ident(), SIG)

# Started before the main thread blocks SIG: this thread keeps it unblocked.
threading.Thread(target=sender, daemon=True).start()
%(setup)s

async def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, {SIG})
    go.set()
    await eddy.sleep(30)  # idle: nothing but the signal can wake the loop

try:
    eddy.run(main(), stop_signals=%(stop)s)
    print("returned", flush=True)
except BaseException as e:
    # seconds from the signal to the end of the run
    print(f"stopped by {type(e).__name__} {getattr(e, 'code', '')} {time.monotonic() - sent[0]:.3f}", flush=True)
"""


def run_repro(sig: str, stop: str, setup: str = "") -> subprocess.CompletedProcess:
    code = REPRO % {"stop": stop, "setup": setup}
    try:
        p = run_snippet(code, timeout=15.0, args=[sig])
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"eddy.run ignored {sig} delivered to another thread (lost signal):\n{e.stdout}\n{e.stderr}")
    assert_not_killed(p)
    return p


def stopped_after(p: subprocess.CompletedProcess, what: str) -> float:
    lines = [line for line in p.stdout.splitlines() if line.startswith("stopped by")]
    assert lines, f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    assert lines[0].startswith(f"stopped by {what}"), lines[0]
    return float(lines[0].rsplit(" ", 1)[1])


def test_stop_signal_on_another_thread_ends_idle_run() -> None:
    p = run_repro("SIGTERM", "(signal.SIGINT, signal.SIGTERM)")
    assert "blocked in epoll_wait:" in p.stdout  # True where /proc shows it (diagnostic)
    assert stopped_after(p, "SystemExit 143") < 2.0


def test_sigint_on_another_thread_ends_idle_run() -> None:
    p = run_repro("SIGINT", "(signal.SIGINT,)")
    assert stopped_after(p, "KeyboardInterrupt") < 2.0


def test_user_handler_runs_promptly_without_stop_signals() -> None:
    # Not one of eddy's stop signals: the user's own Python handler, which raises.
    setup = """
class Usr1(Exception):
    pass

def on_usr1(signum, frame):
    raise Usr1()

signal.signal(signal.SIGUSR1, on_usr1)
"""
    p = run_repro("SIGUSR1", "()", setup)
    assert stopped_after(p, "Usr1") < 2.0


# --------------------------------------------------------------------------------
# The wake-up descriptor's life cycle
# --------------------------------------------------------------------------------


def _current_wakeup_fd() -> int:
    fd = signal.set_wakeup_fd(-1)
    if fd != -1:
        signal.set_wakeup_fd(fd)
    return fd


@pytest.fixture
def user_wakeup_fd():
    """A wake-up fd of the test's own, set before eddy.run (as asyncio would)."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    old = signal.set_wakeup_fd(w)
    try:
        yield w
    finally:
        signal.set_wakeup_fd(old)
        os.close(r)
        os.close(w)


def test_wakeup_fd_set_during_run_then_restored_and_closed(user_wakeup_fd: int) -> None:
    before = open_fds()

    async def main() -> int:
        return _current_wakeup_fd()

    during = eddy.run(main())
    assert during >= 0 and during != user_wakeup_fd
    assert _current_wakeup_fd() == user_wakeup_fd
    assert open_fds() == before  # the pipe is closed


def test_wakeup_restored_when_main_raises(user_wakeup_fd: int) -> None:
    before = open_fds()

    async def main() -> None:
        await eddy.sleep(0)
        raise ValueError("boom")

    with pytest.raises(ValueError):
        eddy.run(main())
    assert _current_wakeup_fd() == user_wakeup_fd
    assert open_fds() == before


def test_wakeup_replaced_by_user_during_run_is_kept() -> None:
    r, w = os.pipe()
    os.set_blocking(w, False)
    before = _current_wakeup_fd()
    try:

        async def main() -> None:
            signal.set_wakeup_fd(w)  # the program takes it over: eddy must not undo that

        eddy.run(main())
        assert _current_wakeup_fd() == w
    finally:
        signal.set_wakeup_fd(before)
        os.close(r)
        os.close(w)


def test_run_in_another_thread_leaves_wakeup_alone(user_wakeup_fd: int) -> None:
    before = open_fds()

    async def main() -> int:
        await eddy.sleep(0.01)
        return 7

    out = []
    t = threading.Thread(target=lambda: out.append(eddy.run(main())))
    t.start()
    t.join(10)
    assert out == [7]
    assert _current_wakeup_fd() == user_wakeup_fd
    assert open_fds() == before


def test_internal_task_is_not_cancelled_nor_counted() -> None:
    # The run ends as before: main's result, the other tasks cancelled and awaited;
    # the wake-up task is not one of them (it lives until the runtime is freed).
    cancelled = []

    async def child() -> None:
        try:
            await eddy.sleep(30)
        except eddy.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> str:
        eddy.spawn(child())
        await eddy.sleep(0.01)
        return "done"

    assert eddy.run(main()) == "done"
    assert cancelled == [True]


def test_forked_child_resets_wakeup_fd() -> None:
    code = r"""
import os, signal
import eddy

async def main():
    ours = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(ours)
    pid = os.fork()
    if pid == 0:
        cur = signal.set_wakeup_fd(-1)
        os._exit(0 if cur == -1 else 1)
    _, status = os.waitpid(pid, 0)
    cur = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(cur)
    return ours, os.waitstatus_to_exitcode(status), cur

ours, child, after = eddy.run(main())
print("ours", ours >= 0, "child", child, "parent kept", after == ours)
"""
    p = run_snippet(code, timeout=20.0)
    assert_not_killed(p)
    assert "ours True child 0 parent kept True" in p.stdout, p.stdout + p.stderr
