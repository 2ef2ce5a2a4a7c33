"""Objects tell the truth after their eddy.run has ended (issue 11, bug 4): the
runtime closed every socket it owned, so streams and listeners are closed; the
tasks it dropped are done (cancelled); using any of them raises
RuntimeEndedError, closing them is harmless."""
from __future__ import annotations

import gc
import warnings
import weakref

import pytest

import eddy


async def _objects():
    lst = await eddy.listen("127.0.0.1", 0)
    c = await eddy.connect("127.0.0.1", lst.port)
    s = await lst.accept()
    t = eddy.spawn(eddy.sleep(30))
    await eddy.sleep(0)
    assert not (lst.closed or c.closed or s.closed or t.done())
    return lst, c, s, t


def test_objects_report_closed_after_run_ended():
    lst, c, s, t = eddy.run(_objects())
    for obj in (lst, c, s):
        assert obj.closed, f"{obj!r} reports open although its runtime closed it"
        assert "closed" in repr(obj)
    assert t.done() and t.cancelled()

    async def later():
        with pytest.raises(eddy.RuntimeEndedError):
            await c.read(1)
        with pytest.raises(eddy.RuntimeEndedError):
            await s.write_all(b"x")
        with pytest.raises(eddy.RuntimeEndedError):
            await lst.accept()
        for obj in (lst, c, s):
            obj.close()  # harmless
            assert obj.closed

    eddy.run(later())


def test_run_ended_by_an_exception_closes_too():
    box = []

    async def main():
        box.extend(await _objects())
        raise LookupError("stop")

    with pytest.raises(LookupError):
        eddy.run(main())
    lst, c, s, t = box
    assert lst.closed and c.closed and s.closed
    assert t.done()


def test_objects_still_open_inside_a_nested_task_until_the_end():
    # The truth while the runtime lives: open until closed.
    async def main():
        lst, c, s, t = await _objects()
        c.close()
        assert c.closed and not s.closed and not lst.closed
        s.close()
        lst.close()
        t.cancel()
        return lst, c, s, t

    objs = list(eddy.run(main()))
    assert all(o.closed for o in objs[:3])
    assert _resource_warnings_on_release(objs) == []  # every object was closed


def _resource_warnings_on_release(objs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()  # earlier garbage first: only the warnings about objs count
    refs = [weakref.ref(o) for o in objs]
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always", ResourceWarning)
        objs.clear()
        gc.collect()
    assert [r() for r in refs] == [None] * len(refs), "objects of an ended run are never released"
    return [str(w.message) for w in got if issubclass(w.category, ResourceWarning)]


def test_no_unclosed_warning_for_what_the_runtime_closed():
    objs = list(eddy.run(_objects()))
    assert _resource_warnings_on_release(objs) == []


def test_unclosed_warning_while_the_runtime_lives():
    # The warning still flags a stream forgotten during a run (a real leak until the run ends).
    async def forget():
        box = [await eddy.listen("127.0.0.1", 0)]
        msgs = _resource_warnings_on_release(box)
        await eddy.sleep(0.01)  # the deferred close runs on the loop
        return msgs

    assert any("unclosed eddy TcpListener" in m for m in eddy.run(forget()))
