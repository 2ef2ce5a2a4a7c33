"""eddy.add_signal_handler / remove_signal_handler / wait_signal (signalfd-backed):
delivery, coalescing, the previous Python handler restored, a watched SIGTERM from a
thread that does not block it never killing the process, bad signal numbers."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from conftest import assert_not_killed, run_snippet

import eddy


def test_handler_called_with_args_and_previous_python_handler_restored():
    python_calls = []
    old = signal.signal(signal.SIGUSR1, lambda *a: python_calls.append(a[0]))
    try:
        async def main():
            got = []
            done = eddy.Event()

            def cb(tag):
                got.append(tag)
                done.set()

            eddy.add_signal_handler(signal.SIGUSR1, cb, "usr1")
            os.kill(os.getpid(), signal.SIGUSR1)
            async with eddy.timeout(10):
                await done.wait()
            assert eddy.remove_signal_handler(signal.SIGUSR1) is True
            assert eddy.remove_signal_handler(signal.SIGUSR1) is False
            return got

        assert eddy.run(main()) == ["usr1"]
        assert python_calls == []  # Eddy had it while watched
        os.kill(os.getpid(), signal.SIGUSR1)  # back to Python's handler
        assert python_calls == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_arrivals_coalesce_and_wait_signal():
    async def main():
        calls = []
        eddy.add_signal_handler(signal.SIGUSR2, lambda: calls.append(1))
        # At this (the runtime's) thread, which blocks it: all three are pending
        # before the runtime reads them. os.kill may pick another thread, whose
        # forwarded copy would be a later, second arrival.
        for _ in range(3):
            signal.pthread_kill(threading.get_ident(), signal.SIGUSR2)
        await eddy.sleep(0.1)
        first = len(calls)

        async def later():
            await eddy.sleep(0.05)
            os.kill(os.getpid(), signal.SIGUSR1)

        t = eddy.spawn(later())
        async with eddy.timeout(10):
            got = await eddy.wait_signal(signal.SIGUSR1)
        await t
        eddy.remove_signal_handler(signal.SIGUSR2)
        return first, got

    first, got = eddy.run(main())
    assert first == 1  # three before the handler ran: one call
    assert got == signal.SIGUSR1


def test_bad_signal_numbers():
    async def main():
        with pytest.raises(TypeError):
            eddy.add_signal_handler("TERM", print)
        with pytest.raises(ValueError):
            eddy.add_signal_handler(0, print)
        with pytest.raises(ValueError):
            eddy.add_signal_handler(100000, print)
        with pytest.raises(RuntimeError):
            eddy.add_signal_handler(signal.SIGKILL, print)
        with pytest.raises(RuntimeError):
            eddy.add_signal_handler(signal.SIGSTOP, print)
        with pytest.raises(RuntimeError):
            await eddy.wait_signal(signal.SIGKILL)
        with pytest.raises(TypeError):
            eddy.add_signal_handler(signal.SIGUSR1, main)  # a coroutine function
        return True

    assert eddy.run(main())
    with pytest.raises(RuntimeError):  # no eddy.run
        eddy.add_signal_handler(signal.SIGUSR1, print)


def test_watched_sigterm_from_an_unblocked_thread_never_kills():
    p = run_snippet(
        """
        import os, signal, threading
        import eddy

        def send():
            signal.pthread_sigmask(signal.SIG_SETMASK, [])  # this thread does not block it
            os.kill(os.getpid(), signal.SIGTERM)

        async def main():
            got = []
            ev = eddy.Event()
            eddy.add_signal_handler(signal.SIGTERM, lambda: (got.append(1), ev.set()))
            for _ in range(5):
                ev.clear()
                t = threading.Thread(target=send)
                t.start()
                async with eddy.timeout(10):
                    await ev.wait()
                t.join()
            return len(got)

        print("handled", eddy.run(main()))
        """
    )
    assert_not_killed(p)
    assert p.returncode == 0, p.stderr
    assert "handled 5" in p.stdout
