"""eddy.to_thread runs on Eddy's blocking pool (the one every front door shares):
bounded by blocking_threads, no Python thread started per call, every signal
blocked on its threads, cancellation before start means the callable never runs."""

import signal
import threading
import time

import eddy


def test_to_thread_starts_no_python_thread_per_call():
    seen = []

    def work():
        seen.append(threading.get_native_id())  # kernel tid: not reused as quickly as idents

    async def main():
        for _ in range(20):
            await eddy.to_thread(work)

    eddy.run(main())
    assert threading.get_native_id() not in seen
    assert 1 <= len(set(seen)) <= 4  # reused: at most the pool's default 4 threads


def test_to_thread_blocks_every_signal_on_its_thread():
    def mask():
        return signal.pthread_sigmask(signal.SIG_BLOCK, [])

    blocked = eddy.run(_call(mask))
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGCHLD, signal.SIGALRM):
        assert s in blocked


async def _call(fn):
    return await eddy.to_thread(fn)


def test_blocking_threads_bounds_to_thread():
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def work():
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return 1

    async def main():
        return await eddy.gather(*[eddy.to_thread(work) for _ in range(6)])

    assert eddy.run(main(), blocking_threads=2) == [1] * 6
    assert state["peak"] == 2


def test_cancelled_before_start_never_runs():
    release = threading.Event()
    ran = []

    def hold():
        release.wait(10)
        return "held"

    def second():
        ran.append(True)

    async def main():
        first = eddy.spawn(eddy.to_thread(hold))
        await eddy.sleep(0.05)  # `hold` occupies the only pool thread
        queued = eddy.spawn(eddy.to_thread(second))
        await eddy.sleep(0.01)
        queued.cancel()
        try:
            await queued
        except eddy.CancelledError:
            pass
        release.set()
        assert await first == "held"
        await eddy.sleep(0.05)  # a wrongly started `second` would run now

    eddy.run(main(), blocking_threads=1)
    assert ran == []
