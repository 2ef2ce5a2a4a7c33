"""eddy.wait / as_completed / shield / TaskGroup (asyncio's semantics: each
scenario runs under asyncio and under eddy and must give the same trace), and
each eddy.spawn running in a copy of the current contextvars context (issue 16,
item 6)."""
from __future__ import annotations

import asyncio
import contextvars
from types import SimpleNamespace

import pytest

import eddy
import eddy._driver

ASYNCIO = SimpleNamespace(name="asyncio", run=asyncio.run, spawn=asyncio.create_task, sleep=asyncio.sleep,
                          wait=asyncio.wait, as_completed=asyncio.as_completed, shield=asyncio.shield,
                          TaskGroup=asyncio.TaskGroup, FIRST_COMPLETED=asyncio.FIRST_COMPLETED,
                          FIRST_EXCEPTION=asyncio.FIRST_EXCEPTION, ALL_COMPLETED=asyncio.ALL_COMPLETED,
                          CancelledError=asyncio.CancelledError)
EDDY = SimpleNamespace(name="eddy", run=eddy.run, spawn=eddy.spawn, sleep=eddy.sleep, wait=eddy.wait,
                       as_completed=eddy.as_completed, shield=eddy.shield, TaskGroup=eddy.TaskGroup,
                       FIRST_COMPLETED=eddy.FIRST_COMPLETED, FIRST_EXCEPTION=eddy.FIRST_EXCEPTION,
                       ALL_COMPLETED=eddy.ALL_COMPLETED, CancelledError=eddy.CancelledError)


def both(scenario):
    """Run scenario(ns) under asyncio and eddy; their traces must be equal."""
    a = asyncio.run(scenario(ASYNCIO))
    e = eddy.run(scenario(EDDY))
    assert e == a, f"eddy {e!r} != asyncio {a!r}"
    return e


async def job(ns, name, delay, fail=False):
    await ns.sleep(delay)
    if fail:
        raise ValueError(name)
    return name


def names(tasks, ns):
    out = []
    for t in tasks:
        if t.cancelled():
            out.append("cancelled")
        elif t.exception() is not None:
            out.append(f"err:{t.exception()}")
        else:
            out.append(t.result())
    return sorted(out)


async def wait_modes(ns):
    trace = []
    # Delays far apart (0.3 s and more): the order holds on a loaded machine.
    for mode in (ns.FIRST_COMPLETED, ns.FIRST_EXCEPTION, ns.ALL_COMPLETED):
        ts = [ns.spawn(job(ns, "a", 0.0)), ns.spawn(job(ns, "b", 0.3, fail=True)), ns.spawn(job(ns, "c", 1.2))]
        done, pending = await ns.wait(ts, return_when=mode)
        trace.append((mode, names(done, ns), len(pending)))
        for t in pending:
            t.cancel()
        await ns.wait(ts)
    ts = [ns.spawn(job(ns, "slow", 5))]
    done, pending = await ns.wait(ts, timeout=0.05)  # a timeout neither raises nor cancels
    trace.append(("timeout", len(done), len(pending), ts[0].done()))
    ts[0].cancel()
    try:
        await ns.wait([])
    except ValueError as e:
        trace.append(type(e).__name__)
    try:
        await ns.wait(ts, return_when="SOMETIMES")
    except ValueError:
        trace.append("bad return_when")
    return trace


def test_wait_return_when_and_timeout():
    assert both(wait_modes) == [
        ("FIRST_COMPLETED", ["a"], 2),
        ("FIRST_EXCEPTION", ["a", "err:b"], 1),
        ("ALL_COMPLETED", ["a", "c", "err:b"], 0),
        ("timeout", 0, 1, False),
        "ValueError",
        "bad return_when",
    ]


async def as_completed_order(ns):
    trace = []
    coros = [job(ns, "late", 1.0), job(ns, "early", 0.0), job(ns, "bad", 0.5, fail=True)]
    for aw in ns.as_completed(coros):
        try:
            trace.append(await aw)
        except ValueError as e:
            trace.append(f"err:{e}")
    slow = ns.spawn(job(ns, "slow", 5))
    try:
        for aw in ns.as_completed([slow], timeout=0.05):
            await aw
    except (TimeoutError, asyncio.TimeoutError):
        trace.append("timeout")
    slow.cancel()
    return trace


def test_as_completed_order_and_timeout():
    assert both(as_completed_order) == ["early", "err:bad", "late", "timeout"]


async def shield_scenario(ns):
    trace = []
    inner = ns.spawn(job(ns, "inner", 1.0))

    async def waiter():
        return await ns.shield(inner)

    w = ns.spawn(waiter())
    await ns.sleep(0.05)
    w.cancel()
    try:
        await w
    except ns.CancelledError:
        trace.append("outer cancelled")
    trace.append(inner.cancelled())
    trace.append(await inner)  # the shielded task ran on
    # Without shield, cancelling the awaiter cancels the awaited task.
    inner2 = ns.spawn(job(ns, "inner2", 1.0))

    async def plain():
        return await inner2

    p = ns.spawn(plain())
    await ns.sleep(0.05)
    p.cancel()
    try:
        await p
    except ns.CancelledError:
        pass
    try:
        await inner2
    except ns.CancelledError:
        trace.append("unshielded inner cancelled")
    return trace


def test_shield_keeps_the_inner_task():
    assert both(shield_scenario) == ["outer cancelled", False, "inner", "unshielded inner cancelled"]


async def taskgroup_ok(ns):
    async with ns.TaskGroup() as tg:
        a = tg.create_task(job(ns, "a", 0.05))
        b = tg.create_task(job(ns, "b", 0.0))
    return [a.result(), b.result()]


def test_taskgroup_waits_for_all():
    assert both(taskgroup_ok) == ["a", "b"]


async def taskgroup_failure(ns):
    trace = []
    slow = None
    try:
        async with ns.TaskGroup() as tg:
            slow = tg.create_task(job(ns, "slow", 5))
            tg.create_task(job(ns, "x", 0.05, fail=True))

            async def cleanup_fails():
                try:
                    await ns.sleep(5)
                except ns.CancelledError:
                    raise ValueError("y")  # failing while cancelled: collected too

            tg.create_task(cleanup_fails())
            await ns.sleep(10)  # the body is cancelled by the failure
            trace.append("body not cancelled")
    except ExceptionGroup as eg:  # noqa: F821 (3.11)
        trace.append(sorted(str(e) for e in eg.exceptions))
        trace.append(type(eg).__name__)
    trace.append(slow.cancelled())
    # The body raising: the tasks are cancelled, the error is in the group.
    try:
        async with ns.TaskGroup() as tg:
            t = tg.create_task(job(ns, "t", 5))
            raise KeyError("body")
    except ExceptionGroup as eg:  # noqa: F821
        trace.append([type(e).__name__ for e in eg.exceptions])
    trace.append(t.cancelled())
    # Cancelling the task that waits in __aexit__: children cancelled, CancelledError out.
    async def owner():
        async with ns.TaskGroup() as tg:
            tg.create_task(job(ns, "c", 5))
    o = ns.spawn(owner())
    await ns.sleep(0.05)
    o.cancel()
    try:
        await o
    except ns.CancelledError:
        trace.append("owner cancelled")
    # create_task after the group finished
    c = job(ns, "late", 0)
    try:
        tg.create_task(c)
    except RuntimeError:
        trace.append("finished")
    c.close()  # asyncio leaves the refused coroutine to the caller
    return trace


def test_taskgroup_failure_cancels_siblings_and_body():
    assert both(taskgroup_failure) == [
        ["x", "y"], "ExceptionGroup", True, ["KeyError"], True, "owner cancelled", "finished",
    ]


async def taskgroup_keyboard_interrupt(ns):
    async with ns.TaskGroup() as tg:
        tg.create_task(job(ns, "slow", 5))

        async def boom():
            raise SystemExit(3)

        tg.create_task(boom())
        await ns.sleep(5)


def test_taskgroup_base_errors_raised_as_they_are():
    # asyncio lets SystemExit out of the loop itself; so does eddy.run.
    for ns in (ASYNCIO, EDDY):
        with pytest.raises(SystemExit) as info:
            ns.run(taskgroup_keyboard_interrupt(ns))
        assert info.value.code == 3, ns.name


VAR = contextvars.ContextVar("VAR", default="unset")


async def context_scenario(ns):
    trace = []
    VAR.set("parent")

    async def child(v):
        trace.append(("child sees", VAR.get()))
        VAR.set(v)
        await ns.sleep(0.01)
        trace.append(("child keeps", VAR.get()))

    t1 = ns.spawn(child("one"))
    t2 = ns.spawn(child("two"))
    await t1
    await t2
    trace.append(("parent keeps", VAR.get()))
    ctx = contextvars.copy_context()
    ctx.run(VAR.set, "explicit")
    t3 = ns.spawn(child("three"), context=ctx)
    await t3
    trace.append(("explicit context kept", ctx[VAR]))
    return trace


def both_contexts(scenario):
    """``both``, then eddy again from an empty caller's context: the mode where tasks
    share the run's context until one sets a variable (Runtime.direct; pytest's own
    context is not empty: hypothesis sets decimal's). Every trace must agree."""
    want = both(scenario)
    seen = []

    async def probe():
        seen.append(eddy._driver.running().direct)
        return await scenario(EDDY)

    got = contextvars.Context().run(eddy.run, probe())
    assert seen == [True]
    assert got == want, f"shared-context mode {got!r} != {want!r}"
    return want


def test_spawn_runs_in_a_copy_of_the_context():
    assert both_contexts(context_scenario) == [
        ("child sees", "parent"), ("child sees", "parent"),
        ("child keeps", "one"), ("child keeps", "two"),
        ("parent keeps", "parent"),
        ("child sees", "explicit"), ("child keeps", "three"),
        ("explicit context kept", "three"),
    ]
    assert VAR.get() == "unset"  # eddy.run's main task ran in a copy too


def test_wait_needs_tasks():
    async def main():
        out = []
        for bad in (["x"], eddy.sleep(0)):
            try:
                await eddy.wait(bad)
            except TypeError:
                out.append("TypeError")
            finally:
                if hasattr(bad, "close"):
                    bad.close()
        return out

    assert eddy.run(main()) == ["TypeError", "TypeError"]


async def set_then_spawn(ns):
    # A task sets a variable and spawns in the same step: the child sees the value;
    # a sibling spawned earlier (same empty snapshot) does not; nothing leaks out.
    trace = []

    async def show(tag):
        await ns.sleep(0.01)
        trace.append((tag, VAR.get()))

    async def setter():
        VAR.set("set")
        t = ns.spawn(show("child of setter"))
        await ns.sleep(0)
        await t

    sib = ns.spawn(show("sibling"))
    s = ns.spawn(setter())
    await s
    await sib
    trace.append(("main", VAR.get()))
    return sorted(trace)


def test_context_set_then_spawn_in_one_step():
    assert VAR.get() == "unset"
    assert both_contexts(set_then_spawn) == [("child of setter", "set"), ("main", "unset"), ("sibling", "unset")]
    # The same from a caller whose own context is not empty (no shared-context mode).
    token = VAR.set("caller")
    try:
        trace = eddy.run(set_then_spawn(EDDY))
        assert trace == [("child of setter", "set"), ("main", "caller"), ("sibling", "caller")]
        assert VAR.get() == "caller"
    finally:
        VAR.reset(token)
