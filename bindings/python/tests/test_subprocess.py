"""eddy.create_subprocess_exec: asyncio's Process (communicate, wait, returncode,
kill, PIPE/DEVNULL/STDOUT), env and cwd, exit codes and signals, and the bad cases:
a program that does not exist (FileNotFoundError, no fd left, no child), kill after
exit (ProcessLookupError), a dropped Process reaped, no fd leaked into the child, the
SIGCHLD fallback without pidfd. The asyncio twin of each scenario must agree."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from conftest import child_env, open_fds

import eddy

ASYNCIO = SimpleNamespace(run=asyncio.run, exec=asyncio.create_subprocess_exec, PIPE=asyncio.subprocess.PIPE,
                          STDOUT=asyncio.subprocess.STDOUT, DEVNULL=asyncio.subprocess.DEVNULL)
EDDY = SimpleNamespace(run=eddy.run, exec=eddy.create_subprocess_exec, PIPE=eddy.PIPE, STDOUT=eddy.STDOUT,
                       DEVNULL=eddy.DEVNULL)


def both(scenario):
    a = ASYNCIO.run(scenario(ASYNCIO))
    e = EDDY.run(scenario(EDDY))
    assert e == a, f"eddy {e!r} != asyncio {a!r}"
    return e


async def pipes_env_cwd(ns):
    p = await ns.exec("/bin/sh", "-c", 'cat; echo " $EDDY_X"; pwd; echo err >&2', stdin=ns.PIPE, stdout=ns.PIPE,
                      stderr=ns.STDOUT, env={"EDDY_X": "forty two", "PATH": "/usr/bin:/bin"}, cwd="/tmp")
    out, err = await p.communicate(b"through cat")
    return out, err, p.returncode


def test_pipes_env_cwd_like_asyncio():
    assert both(pipes_env_cwd) == (b"through cat forty two\n/tmp\nerr\n", None, 0)


async def codes_and_signals(ns):
    a = await ns.exec("sh", "-c", "echo out; echo err >&2; exit 3", stdout=ns.PIPE, stderr=ns.PIPE)
    out, err = await a.communicate()
    b = await ns.exec("sleep", "30", stdin=ns.DEVNULL)
    b.kill()
    rb = await b.wait()
    try:
        b.kill()
        again = "no error"
    except ProcessLookupError:
        again = "ProcessLookupError"
    return out, err, a.returncode, rb, b.returncode, again


def test_exit_codes_signals_and_kill_after_exit_like_asyncio():
    assert both(codes_and_signals) == (b"out\n", b"err\n", 3, -signal.SIGKILL, -signal.SIGKILL,
                                       "ProcessLookupError")


def test_missing_program_is_file_not_found_with_nothing_left():
    async def main():
        before = open_fds()
        with pytest.raises(FileNotFoundError):
            await eddy.create_subprocess_exec("/nonexistent/eddy-no-such", stdin=eddy.PIPE, stdout=eddy.PIPE)
        with pytest.raises(FileNotFoundError):
            await eddy.create_subprocess_exec("eddy-no-such-program-in-path")
        return before, open_fds()

    before, after = eddy.run(main())
    assert after == before
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child, no zombie


def test_bad_arguments():
    async def main():
        with pytest.raises(ValueError):
            await eddy.create_subprocess_exec("true", stdin=eddy.STDOUT)
        with pytest.raises(ValueError):
            await eddy.create_subprocess_exec("true", stdout=5)
        with pytest.raises(ValueError):
            await eddy.create_subprocess_exec("tr\x00ue")
        with pytest.raises(ValueError):
            await eddy.create_subprocess_exec("true", env={"A=B": "c"})
        with pytest.raises(TypeError):
            await eddy.create_subprocess_exec("true", 3)
        with pytest.raises(TypeError):
            await eddy.create_subprocess_exec("true", shell=True)
        return True

    assert eddy.run(main())


def _gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


def test_dropped_process_is_reaped():
    async def main():
        running = await eddy.create_subprocess_exec("sleep", "0.2")
        exited = await eddy.create_subprocess_exec("true")
        pids = [running.pid, exited.pid]
        del running, exited  # never waited for
        return pids

    pids = eddy.run(main())
    deadline = time.monotonic() + 10
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(_gone(p) for p in pids)


def test_no_descriptor_leaks_into_the_child():
    inheritable = {fd for fd in map(int, os.listdir("/proc/self/fd")) if _inheritable(fd)}

    async def main():
        other = await eddy.create_subprocess_exec("sleep", "5", stdin=eddy.PIPE, stdout=eddy.PIPE)
        p = await eddy.create_subprocess_exec("ls", "/proc/self/fd", stdout=eddy.PIPE, stdin=eddy.PIPE)
        out, _ = await p.communicate()
        other.kill()
        await other.wait()
        other.stdin.close()
        other.stdout.stream.close()  # an Eddy stream underneath (asyncio's reader has no close)
        return sorted(int(x) for x in out.split())

    listed = eddy.run(main())
    assert {0, 1, 2} <= set(listed)
    assert set(listed) <= inheritable | {0, 1, 2, 3}, (listed, inheritable)


def _inheritable(fd: int) -> bool:
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False


def test_sigchld_fallback_without_pidfd():
    env = dict(os.environ, EDDY_TEST_NO_PIDFD="1")
    code = (
        "import eddy\n"
        "async def main():\n"
        "    a = await eddy.create_subprocess_exec('/bin/sh', '-c', 'sleep 0.05; exit 5')\n"
        "    b = await eddy.create_subprocess_exec('sh', '-c', 'echo hi', stdout=eddy.PIPE)\n"
        "    out, _ = await b.communicate()\n"
        "    return await a.wait(), out, b.returncode\n"
        "print(eddy.run(main()))\n"
    )
    env.update({k: v for k, v in child_env().items() if k == "PYTHONPATH"})
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(5, b'hi\\n', 0)"


# ---- the standard streams as asyncio's StreamReader / StreamWriter ----

# A line-oriented child: echoes each line upper-cased with a counter, writes a
# netstring-ish frame, then copies the rest of its input to its end.
ECHO = (
    "import sys\n"
    "n = 0\n"
    "for line in sys.stdin.buffer:\n"
    "    if line == b'stop\\n':\n"
    "        break\n"
    "    n += 1\n"
    "    sys.stdout.buffer.write(b'%d:' % n + line.upper())\n"
    "    sys.stdout.buffer.flush()\n"
    "sys.stdout.buffer.write(b'FRAME|0123456789|end-no-newline')\n"
    "sys.stdout.buffer.flush()\n"
    "import os; os.close(1)\n"
    "sys.stderr.buffer.write(sys.stdin.buffer.read())\n"
)


async def streams_dialogue(ns):
    p = await ns.exec(sys.executable, "-c", ECHO, stdin=ns.PIPE, stdout=ns.PIPE, stderr=ns.PIPE)
    got = []
    # write() without drain() first: the line must reach the child anyway.
    p.stdin.write(b"hello\n")
    got.append(await p.stdout.readline())
    p.stdin.writelines([b"a", b"b\n", b"second\n"])
    await p.stdin.drain()
    got.append(await p.stdout.readline())
    got.append(await p.stdout.readuntil(b"\n"))
    p.stdin.write(b"stop\n" + b"x" * 300000)  # more than a pipe holds: queued, written in the background
    p.stdin.close()  # after what is queued
    got.append(p.stdin.is_closing())
    got.append(await p.stdout.readuntil(b"|"))
    got.append(await p.stdout.readexactly(10))
    try:
        await p.stdout.readexactly(100)
    except asyncio.IncompleteReadError as e:
        got.append(("incomplete", e.partial, e.expected))
    got.append(await p.stdout.read())  # at the end: b""
    got.append(p.stdout.at_eof())
    err = await p.stderr.read()  # n=-1: to the end
    await p.stdin.wait_closed()
    got.append(len(err))
    got.append(await p.wait())
    return got


def test_streams_read_and_write_like_asyncio():
    assert both(streams_dialogue) == [
        b"1:HELLO\n", b"2:AB\n", b"3:SECOND\n", True, b"FRAME|", b"0123456789",
        ("incomplete", b"|end-no-newline", 100), b"", True, 300000, 0,
    ]


async def streams_lines_and_limits(ns):
    p = await ns.exec("/bin/sh", "-c", "printf 'one\\ntwo\\nthree'", stdout=ns.PIPE, limit=64)
    lines = [line async for line in p.stdout]  # the last one without its newline
    await p.wait()
    q = await ns.exec("/bin/sh", "-c", "printf 'y%.0s' $(seq 1 200); echo", stdout=ns.PIPE, limit=64)
    try:
        await q.stdout.readline()
        over = "no error"
    except ValueError as e:  # asyncio turns the LimitOverrunError of readline into ValueError
        over = type(e).__name__
    await q.wait()
    r = await ns.exec("/bin/sh", "-c", "printf 'abc'", stdout=ns.PIPE)
    try:
        await r.stdout.readuntil(b"|")
        incomplete = "no error"
    except asyncio.IncompleteReadError as e:
        incomplete = (e.partial, e.expected)
    await r.wait()
    return lines, over, incomplete


def test_stream_lines_limits_and_eof_like_asyncio():
    lines, over, incomplete = both(streams_lines_and_limits)
    assert lines == [b"one\n", b"two\n", b"three"]
    assert over == "ValueError"
    assert incomplete == (b"abc", None)


async def stdin_closed_by_the_child(ns):
    # The child exits without reading: drain() of a large write reports the broken pipe.
    p = await ns.exec("/bin/sh", "-c", "exec 0<&-; sleep 0.05", stdin=ns.PIPE)
    await p.wait()
    p.stdin.write(b"z" * 1000000)
    try:
        await p.stdin.drain()
        outcome = "no error"
    except (BrokenPipeError, ConnectionResetError):
        outcome = "pipe error"
    p.stdin.close()
    return outcome, p.returncode


def test_drain_after_the_child_closed_stdin_like_asyncio():
    assert both(stdin_closed_by_the_child) == ("pipe error", 0)


def test_stream_types_and_bad_arguments():
    async def main():
        p = await eddy.create_subprocess_exec("cat", stdin=eddy.PIPE, stdout=eddy.PIPE)
        assert isinstance(p.stdin, eddy.StreamWriter) and isinstance(p.stdout, eddy.StreamReader)
        assert p.stdin.can_write_eof() and p.stdin.get_extra_info("pipe", 7) == 7
        with pytest.raises(TypeError):
            p.stdin.write("text, not bytes")
        p.stdin.write(memoryview(b"mv\n"))
        p.stdin.write_eof()
        out = await p.stdout.read()
        await p.wait()
        with pytest.raises(ValueError):
            await eddy.create_subprocess_exec("true", limit=0)
        with pytest.raises(TypeError):
            await eddy.create_subprocess_exec("true", limit="big")
        return out

    assert eddy.run(main()) == b"mv\n"
