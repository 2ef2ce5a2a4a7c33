"""eddy.shutdown: graceful shutdown of the running eddy.run (issue 14)."""

import threading
import time

import pytest

import eddy


def test_finish_or_abort_at_the_deadline():
    async def main():
        quick = eddy.spawn(eddy.sleep(0.02, "quick"))
        slow = eddy.spawn(eddy.sleep(60))
        await eddy.sleep(0)  # both started
        eddy.shutdown(0.3)
        with pytest.raises(eddy.RuntimeEndedError):
            eddy.spawn(eddy.sleep(0))
        try:
            await eddy.sleep(60)  # main itself is aborted at the deadline
        finally:
            assert await quick == "quick"
            assert slow.cancelled() or not slow.done()

    t0 = time.monotonic()
    with pytest.raises(eddy.CancelledError):
        eddy.run(main())
    assert time.monotonic() - t0 >= 0.3
    r = eddy.shutdown_report()
    assert r is not None
    assert r.tasks_finished == 1  # quick
    assert r.tasks_aborted == 2  # slow, main


def test_returns_once_everything_finished():
    async def main():
        eddy.spawn(eddy.sleep(0.02))
        eddy.shutdown(30)
        return "main"

    t0 = time.monotonic()
    assert eddy.run(main()) == "main"
    assert time.monotonic() - t0 < 20
    r = eddy.shutdown_report()
    assert (r.tasks_finished, r.tasks_aborted) == (1, 0)


def test_closes_descriptors_and_reports_blocking_jobs():
    release = threading.Event()
    kept = []

    async def main():
        kept.append(await eddy.listen("127.0.0.1", 0))  # left open: the shutdown closes it
        eddy.spawn(eddy.to_thread(release.wait, 2.0))
        await eddy.sleep(0.05)  # the job runs on a pool thread
        eddy.shutdown(0.05)
        await eddy.sleep(60)

    with pytest.raises(eddy.CancelledError):
        eddy.run(main())
    release.set()
    r = eddy.shutdown_report()
    assert r.handles_closed >= 1
    assert r.blocking_running == 1


def test_bad_timeout():
    async def main():
        with pytest.raises(ValueError):
            eddy.shutdown(-1)
        with pytest.raises(ValueError):
            eddy.shutdown(float("nan"))

    eddy.run(main())
