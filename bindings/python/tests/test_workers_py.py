"""eddy.run(workers=N) (issue 14): a multi-thread runtime under Python. Coroutines stay
on the eddy.run thread; C tasks spawned into the runtime run on the other workers."""

import os
import threading
from ctypes import byref, c_uint64

import pytest

import eddy
from eddy import _lib


def test_workers_run_c_tasks_while_coroutines_stay_on_the_run_thread():
    lib = _lib.load()
    seen = {}

    @_lib.POLL_FN
    def poll(state, cx):  # a C task, written with ctypes: runs on worker 2's thread
        seen["thread"] = threading.get_ident()
        return 0  # EDDY_READY

    async def main():
        assert len(eddy.worker_metrics()) == 3
        task = c_uint64()
        assert lib.eddy_spawn_on(eddy.runtime_handle(), 2, poll, None, _lib.DROP_FN(), byref(task)) == 0
        for _ in range(500):
            if "thread" in seen:
                break
            await eddy.sleep(0.01)
        here = threading.get_ident()
        assert lib.eddy_task_free(task.value) == 0
        return here, eddy.worker_metrics()

    here, ms = eddy.run(main(), workers=3)
    assert here == threading.get_ident()  # Python coroutines: the eddy.run thread
    assert seen["thread"] != here  # the C task: another worker
    assert ms[0].polls > 0 and ms[2].polls > 0
    assert ms[1].blocking_max_threads == 0 and ms[0].blocking_max_threads > 0  # the pool: worker 0's


def test_workers_argument_is_checked():
    async def main():
        return 1

    for bad in (-1, 1025, True, 1.5):
        with pytest.raises(eddy.InvalidArgumentError):
            eddy.run(main(), workers=bad)


def test_default_workers_follow_the_environment():
    async def main():
        return len(eddy.worker_metrics())

    env = os.environ.get("EDDY_WORKERS", "")
    assert eddy.run(main()) == (int(env) if env else 1)
    assert eddy.run(main(), workers=1) == 1
