"""eddy.shield as asyncio.shield (3.11): it returns a future-like task at once (the
inner coroutine starts without the shield being awaited), the shield itself can be
cancelled or passed to wait() while the inner task runs on, and an inner failure after
the shield was cancelled is not reported as never retrieved."""
from __future__ import annotations

import gc
import warnings

from test_combinators import ASYNCIO, EDDY, both, job


async def shield_is_a_future(ns):
    trace = []

    async def record(name, delay):
        trace.append(f"{name} started")
        await ns.sleep(delay)
        return name

    s = ns.shield(record("a", 0.0))  # not awaited yet: asyncio has already spawned it
    await ns.sleep(0.02)
    trace.append(await s)

    inner = ns.spawn(job(ns, "b", 0.05))
    s2 = ns.shield(inner)
    await ns.sleep(0)
    trace.append(s2.cancel())  # cancelling the shield itself
    try:
        await s2
    except ns.CancelledError:
        trace.append("shield cancelled")
    trace.append(await inner)  # the inner task ran on

    done, pending = await ns.wait([ns.shield(job(ns, "c", 0.0))])  # a shield is waitable
    trace.append([t.result() for t in done] + [len(pending)])
    return trace


def test_shield_returns_a_cancellable_waitable_at_once():
    assert both(shield_is_a_future) == ["a started", "a", True, "shield cancelled", "b", ["c", 0]]


async def inner_fails_after_the_shield_is_cancelled(ns):
    s = ns.shield(job(ns, "late", 0.02, fail=True))
    await ns.sleep(0)
    s.cancel()
    try:
        await s
    except ns.CancelledError:
        pass
    await ns.sleep(0.05)  # the inner task fails meanwhile
    return "done"


def test_inner_failure_after_a_cancelled_shield_is_not_reported():
    for ns in (ASYNCIO, EDDY):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert ns.run(inner_fails_after_the_shield_is_cancelled(ns)) == "done"
            gc.collect()
        assert not [w for w in caught if "never retrieved" in str(w.message)], ns.name
