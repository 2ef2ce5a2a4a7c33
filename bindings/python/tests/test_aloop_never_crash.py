"""eddy.EventLoop (issue 17, item 7): never a crash. Wrong-thread calls raise
RuntimeError as asyncio's loop does (compared with asyncio's own loop, debug mode on
and off), a closed loop raises as asyncio's, a raising callback goes to the exception
handler, and nothing raised in a ctypes callback escapes."""
from __future__ import annotations

import asyncio
import socket
import threading

import pytest

import eddy
from conftest import run_snippet

NON_THREAD_SAFE = "Non-thread-safe operation invoked on an event loop other than the current one"


def _loop_in_thread(make, debug):
    """A loop made and run by a thread of its own; returns (loop, thread)."""
    box = []
    started = threading.Event()

    def runner():
        loop = make()
        loop.set_debug(debug)
        box.append(loop)
        loop.call_soon(started.set)
        loop.run_forever()
        loop.close()

    t = threading.Thread(target=runner)
    t.start()
    assert started.wait(10)
    return box[0], t


def _outcome(f):
    try:
        r = f()
    except BaseException as e:  # noqa: BLE001 - compared below
        return f"{type(e).__name__}: {e}"
    if asyncio.iscoroutine(r):
        r.close()
    elif isinstance(r, asyncio.Handle):
        r.cancel()
    return "ok"


SCHEDULING = {
    "call_soon": lambda lp: lp.call_soon(lambda: None),
    "call_later": lambda lp: lp.call_later(60, lambda: None),
    "call_at": lambda lp: lp.call_at(lp.time() + 60, lambda: None),
    "call_soon_threadsafe": lambda lp: lp.call_soon_threadsafe(lambda: None),
    "create_future": lambda lp: lp.create_future(),
    "run_forever": lambda lp: lp.run_forever(),
    "run_until_complete": lambda lp: lp.run_until_complete(asyncio.sleep(0)),
    "close": lambda lp: lp.close(),
}


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited")
@pytest.mark.parametrize("debug", [False, True])
def test_scheduling_from_another_thread_matches_asyncio(debug):
    outcomes = {}
    for name, make in (("asyncio", asyncio.SelectorEventLoop), ("eddy", eddy.new_event_loop)):
        loop, t = _loop_in_thread(make, debug)
        try:
            outcomes[name] = {k: _outcome(lambda: f(loop)) for k, f in SCHEDULING.items()}
        finally:
            loop.call_soon_threadsafe(loop.stop)
            t.join(10)
        assert not t.is_alive() and loop.is_closed()
    assert outcomes["eddy"] == outcomes["asyncio"]
    want = f"RuntimeError: {NON_THREAD_SAFE}" if debug else "ok"
    assert outcomes["eddy"]["call_soon"] == want
    assert outcomes["eddy"]["call_later"] == want
    assert outcomes["eddy"]["run_forever"] == "RuntimeError: This event loop is already running"


def test_debug_call_soon_from_another_thread_raises_and_threadsafe_wakes_the_loop():
    loop = eddy.new_event_loop()
    loop.set_debug(True)
    seen = []

    async def main():
        ran = asyncio.Event()

        def other():
            with pytest.raises(RuntimeError, match=NON_THREAD_SAFE):
                loop.call_soon(seen.append, "unsafe")
            loop.call_soon_threadsafe(seen.append, "safe")
            loop.call_soon_threadsafe(ran.set)

        th = threading.Thread(target=other)
        th.start()
        await asyncio.wait_for(ran.wait(), 10)  # the loop was blocked in its turn: woken
        th.join()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert seen == ["safe"]


def test_reactor_methods_from_another_thread_raise_runtime_error():
    # asyncio lets add_reader & co. through (unsafe, unchecked); Eddy's runtime belongs
    # to one thread, so they raise asyncio's RuntimeError instead of reaching it.
    loop, t = _loop_in_thread(eddy.new_event_loop, False)
    a, b = socket.socketpair()
    try:
        for f in (
            lambda: loop.add_reader(a, lambda: None),
            lambda: loop.add_writer(a, lambda: None),
            lambda: loop.remove_reader(a),
            lambda: loop.remove_writer(a),
            lambda: loop.run_in_executor(None, int),
        ):
            with pytest.raises(RuntimeError, match=NON_THREAD_SAFE):
                f()
        # The loop is unharmed: it still runs work submitted the safe way.
        fut = asyncio.run_coroutine_threadsafe(asyncio.sleep(0, "alive"), loop)
        assert fut.result(10) == "alive"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        t.join(10)
        a.close()
        b.close()
    assert loop.is_closed()


def test_run_or_close_on_a_thread_that_did_not_make_the_loop_raises():
    loop = eddy.new_event_loop()
    errors = []

    def other():
        for f in (lambda: loop.run_until_complete(asyncio.sleep(0)), loop.close):
            try:
                f()
            except RuntimeError as e:
                errors.append(str(e))

    th = threading.Thread(target=other)
    th.start()
    th.join(10)
    assert len(errors) == 2 and all(NON_THREAD_SAFE in e for e in errors)
    assert not loop.is_closed() and not loop.is_running()
    assert loop.run_until_complete(asyncio.sleep(0, 7)) == 7  # still fine on its thread
    loop.close()
    assert loop.is_closed()


CLOSED = {
    "call_soon": lambda lp: lp.call_soon(lambda: None),
    "call_later": lambda lp: lp.call_later(1, lambda: None),
    "call_at": lambda lp: lp.call_at(1, lambda: None),
    "call_soon_threadsafe": lambda lp: lp.call_soon_threadsafe(lambda: None),
    "run_forever": lambda lp: lp.run_forever(),
    "run_until_complete": lambda lp: lp.run_until_complete(asyncio.sleep(0)),
    "create_task": lambda lp: lp.create_task(asyncio.sleep(0)),
    "run_in_executor": lambda lp: lp.run_in_executor(None, int),
    "close again": lambda lp: lp.close(),
    "is_closed": lambda lp: lp.is_closed() or (_ for _ in ()).throw(AssertionError),
    "time": lambda lp: lp.time(),
}


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited")
def test_closed_loop_raises_as_asyncio():
    a, b = socket.socketpair()
    try:
        ops = dict(CLOSED)
        ops["add_reader"] = lambda lp: lp.add_reader(a, lambda: None)
        ops["add_writer"] = lambda lp: lp.add_writer(a, lambda: None)
        ops["remove_reader"] = lambda lp: lp.remove_reader(a)
        ops["sock_recv"] = lambda lp: lp.run_until_complete(lp.sock_recv(a, 1))
        outcomes = {}
        for name, make in (("asyncio", asyncio.SelectorEventLoop), ("eddy", eddy.new_event_loop)):
            lp = make()
            lp.close()
            outcomes[name] = {k: _outcome(lambda: f(lp)) for k, f in ops.items()}
    finally:
        a.close()
        b.close()
    assert outcomes["eddy"] == outcomes["asyncio"]
    assert outcomes["eddy"]["call_soon"] == "RuntimeError: Event loop is closed"
    assert outcomes["eddy"]["add_reader"] == "RuntimeError: Event loop is closed"


def test_raising_callbacks_go_to_the_exception_handler():
    loop = eddy.new_event_loop()
    got = []
    loop.set_exception_handler(lambda lp, ctx: got.append((ctx["message"], type(ctx.get("exception")).__name__)))
    a, b = socket.socketpair()

    def boom(tag):
        raise ValueError(tag)

    def reader():
        loop.remove_reader(a)
        boom("reader")

    async def main():
        loop.call_soon(boom, "soon")
        loop.call_later(0.01, boom, "later")
        loop.call_soon_threadsafe(boom, "threadsafe")
        threading.Thread(target=loop.call_soon_threadsafe, args=(boom, "from thread")).start()
        loop.add_reader(a, reader)
        b.send(b"x")
        f = loop.run_in_executor(None, int)
        f.add_done_callback(lambda _: boom("done callback"))
        for _ in range(500):
            if len(got) == 6:
                break
            await asyncio.sleep(0.01)

    try:
        loop.run_until_complete(main())
        assert loop.run_until_complete(asyncio.sleep(0, "still running")) == "still running"
    finally:
        loop.close()
        a.close()
        b.close()
    assert len(got) == 6, got
    assert all(m.startswith("Exception in callback") and e == "ValueError" for m, e in got), got


def test_nothing_raised_in_a_ctypes_callback_escapes():
    # Executor jobs run in a ctypes callback on Eddy's pool threads: whatever they
    # raise (BaseExceptions too) reaches the awaiting future; ctypes never reports an
    # exception it had to swallow ("Exception ignored on calling ctypes callback").
    r = run_snippet(
        """
import asyncio, sys, eddy

class Odd(BaseException):
    pass

def raiser(exc):
    def job():
        raise exc
    return job

async def main():
    loop = asyncio.get_running_loop()
    out = []
    for exc in (ValueError("v"), SystemExit(3), KeyboardInterrupt(), GeneratorExit(), Odd(), MemoryError()):
        try:
            await loop.run_in_executor(None, raiser(exc))
            out.append("none")
        except BaseException as e:
            out.append(type(e).__name__)
    return out

with asyncio.Runner(loop_factory=eddy.new_event_loop) as r:
    print(r.run(main()))
print("alive")
""",
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "['ValueError', 'SystemExit', 'KeyboardInterrupt', 'GeneratorExit', 'Odd', 'MemoryError']" in r.stdout
    assert "alive" in r.stdout
    assert "ctypes callback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr


def test_a_loop_that_failed_to_initialize_is_collected_quietly():
    r = run_snippet(
        """
import gc, eddy
try:
    eddy.EventLoop(blocking_threads=-1)
except Exception as e:
    print("raised", type(e).__name__)
gc.collect()
print("alive")
""",
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "raised" in r.stdout and "alive" in r.stdout
    assert "Exception ignored" not in r.stderr and "AttributeError" not in r.stderr, r.stderr
