"""Run CPython's own asyncio event-loop tests on ``eddy.EventLoop`` (issue 17).

    python3 bindings/python/conformance/run_asyncio.py [-v] [-k PATTERN] [--list-failures] [--ci]

Each CPython test class is re-declared with Eddy's loop injected
(``create_event_loop``), since a policy is not enough (modules reset it). A test
counts as "on Eddy" only if an ``eddy.EventLoop`` actually ran during it
(``run_forever`` entered: the running loop was Eddy's); tests that pass without
running any loop are counted apart. The outcome is compared with
``expected_failures.txt`` (``test id  # reason``): the run fails on any failure
not listed there, and on a listed test that now passes (so the list stays true).
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
import time
import unittest
from pathlib import Path
from typing import Any, Dict, List, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import asyncio  # noqa: E402

import eddy  # noqa: E402
from test.test_asyncio import test_events, test_server, test_sock_lowlevel, test_streams  # noqa: E402
from test.test_asyncio import test_locks, test_queues, test_taskgroups, test_tasks, test_timeouts  # noqa: E402
from test.test_asyncio import test_sendfile, test_subprocess  # noqa: E402
from test.test_asyncio import utils as test_utils  # noqa: E402

RAN: List[bool] = [False]


class CountingLoop(eddy.EventLoop):
    """eddy.EventLoop that records that it ran (for the "on Eddy" count)."""

    def run_forever(self) -> None:
        RAN[0] = True
        assert isinstance(self, eddy.EventLoop)
        super().run_forever()

    def _run_once(self) -> None:
        # Inside run_forever the running loop must be Eddy's; a test calling the
        # private _run_once directly (asyncio internals) does not count as a run.
        if self.is_running():
            assert asyncio.get_running_loop() is self
        super()._run_once()


class EddyEventLoopTests(test_events.UnixEventLoopTestsMixin, test_events.SubprocessTestsMixin, test_utils.TestCase):  # type: ignore[misc]
    def create_event_loop(self) -> CountingLoop:
        return CountingLoop()


class EddySockTests(test_sock_lowlevel.BaseSockTestsMixin, test_utils.TestCase):  # type: ignore[misc]
    def create_event_loop(self) -> CountingLoop:
        return CountingLoop()


class EddyStreamTests(test_streams.StreamTests):  # type: ignore[misc]
    def setUp(self) -> None:
        test_utils.TestCase.setUp(self)
        self.loop = CountingLoop()
        self.set_event_loop(self.loop)


class EddyServerTests(test_server.SelectorStartServerTests):  # type: ignore[misc]
    def new_loop(self) -> CountingLoop:
        return CountingLoop()


class EddyTaskTests(test_tasks.CTask_CFuture_Tests):  # type: ignore[misc]
    # BaseTaskTests makes asyncio's TestLoop (a virtual clock driven by a generator):
    # without a generator Eddy's loop is used instead; tests with one keep TestLoop and
    # are not counted as run on Eddy.
    def new_test_loop(self, gen: Any = None) -> Any:
        if gen is not None:
            return super().new_test_loop(gen)
        loop = CountingLoop()
        self.set_event_loop(loop)
        return loop


class CountingPolicy(eddy.EventLoopPolicy):
    """Eddy's policy (asyncio's Unix policy: its child watchers) making CountingLoops."""

    _loop_factory = CountingLoop


def _policy_setup(self: unittest.TestCase) -> None:
    # Classes whose setUp (or tests) call asyncio.new_event_loop() or the policy's
    # new_event_loop(): Eddy's policy during the test, asyncio's default afterwards.
    asyncio.set_event_loop_policy(CountingPolicy())
    super(type(self), self).setUp()  # type: ignore[misc]


def _policy_teardown(self: unittest.TestCase) -> None:
    try:
        super(type(self), self).tearDown()  # type: ignore[misc]
    finally:
        asyncio.set_event_loop_policy(None)


def _eddy_test_loop(self: Any, gen: Any = None) -> Any:
    # As EddyTaskTests.new_test_loop: asyncio's TestLoop only when a virtual clock is asked.
    if gen is not None:
        return test_utils.TestCase.new_test_loop(self, gen)
    loop = CountingLoop()
    self.set_event_loop(loop)
    return loop


def _with_eddy(cls: type, name: str = "") -> type:
    """``cls`` with Eddy's loop injected both ways: through the policy (setUp /
    asyncio.new_event_loop) and through test_utils' new_test_loop."""
    return type(
        name or "Eddy" + cls.__name__,
        (cls,),
        {"setUp": _policy_setup, "tearDown": _policy_teardown, "new_test_loop": _eddy_test_loop},
    )


class EddySendfileTests(test_sendfile.SendfileTestsBase, test_utils.TestCase):  # type: ignore[misc]
    def create_event_loop(self) -> CountingLoop:
        return CountingLoop()


# test_subprocess: the threaded child watcher (3.11's default) in make test; the other
# watcher classes CPython runs on Unix (same tests, another watcher; the multi-loop one
# CPython skips itself) only with --ci (make test-asyncio-ci), to keep make test short.
SUBPROCESS_CLASSES = [_with_eddy(test_subprocess.SubprocessThreadedWatcherTests)]
SUBPROCESS_CI_CLASSES = [
    _with_eddy(getattr(test_subprocess, n))
    for n in ("SubprocessSafeWatcherTests", "SubprocessFastWatcherTests", "SubprocessPidfdWatcherTests")
]

# test_tasks: the classes that build event loops besides CTask_CFuture_Tests (the
# Python/C Task and Future variants, gather, current_task, run_coroutine_threadsafe,
# sleep). Introspection and generic tests build no loop, CompatibilityTests has no
# test in 3.11: not run here.
TASK_CLASSES = [
    _with_eddy(getattr(test_tasks, n))
    for n in (
        "CTask_CFuture_SubclassTests",
        "CTaskSubclass_PyFuture_Tests",
        "PyTask_CFutureSubclass_Tests",
        "CTask_PyFuture_Tests",
        "PyTask_CFuture_Tests",
        "PyTask_PyFuture_Tests",
        "PyTask_PyFuture_SubclassTests",
        "CTask_Future_Tests",
        "PyCurrentLoopTests",
        "CCurrentLoopTests",
        "FutureGatherTests",
        "CoroutineGatherTests",
        "RunCoroutineThreadsafeTests",
        "SleepTests",
    )
]


def _eddy_runner(self: unittest.IsolatedAsyncioTestCase) -> None:
    # IsolatedAsyncioTestCase (3.11) makes asyncio.Runner(debug=True): same, on Eddy's loop.
    assert self._asyncioRunner is None
    self._asyncioRunner = asyncio.Runner(debug=True, loop_factory=CountingLoop)


def _isolated(module: object) -> List[type]:
    """Every IsolatedAsyncioTestCase class of ``module``, with Eddy's loop injected."""
    out = []
    for name, cls in sorted(vars(module).items()):
        if isinstance(cls, type) and issubclass(cls, unittest.IsolatedAsyncioTestCase) and cls.__module__ == module.__name__:  # type: ignore[attr-defined]
            out.append(type("Eddy" + name, (cls,), {"_setupAsyncioRunner": _eddy_runner}))
    return out


CLASSES = [EddyEventLoopTests, EddySockTests, EddyStreamTests, EddyServerTests, EddyTaskTests, EddySendfileTests]
CLASSES += SUBPROCESS_CLASSES + TASK_CLASSES
for _m in (test_locks, test_queues, test_timeouts, test_taskgroups):
    CLASSES += _isolated(_m)


class Recorder(unittest.TextTestResult):
    def __init__(self, *a, **k):  # type: ignore[no-untyped-def]
        super().__init__(*a, **k)
        self.outcomes: Dict[str, Tuple[str, bool, str]] = {}

    def startTest(self, test):  # type: ignore[no-untyped-def]
        RAN[0] = False
        self._t0 = time.monotonic()
        faulthandler.dump_traceback_later(float(os.environ.get("EDDY_TEST_TIMEOUT", "60")), exit=True)
        super().startTest(test)

    def stopTest(self, test):  # type: ignore[no-untyped-def]
        faulthandler.cancel_dump_traceback_later()
        super().stopTest(test)

    def _rec(self, test, what: str, detail: str = "") -> None:  # type: ignore[no-untyped-def]
        self.outcomes[_tid(test)] = (what, RAN[0], detail)

    def addSuccess(self, test):  # type: ignore[no-untyped-def]
        super().addSuccess(test)
        self._rec(test, "pass")

    def addFailure(self, test, err):  # type: ignore[no-untyped-def]
        super().addFailure(test, err)
        self._rec(test, "fail", self._exc_info_to_string(err, test).strip().splitlines()[-1])

    def addError(self, test, err):  # type: ignore[no-untyped-def]
        super().addError(test, err)
        self._rec(test, "error", self._exc_info_to_string(err, test).strip().splitlines()[-1])

    def addSkip(self, test, reason):  # type: ignore[no-untyped-def]
        super().addSkip(test, reason)
        self._rec(test, "skip", reason)


def _tid(test: unittest.TestCase) -> str:
    return f"{type(test).__name__}.{test._testMethodName}"


def load_expected() -> Dict[str, str]:
    out: Dict[str, str] = {}
    for line in (HERE / "expected_failures.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        tid, _, reason = line.partition("#")
        out[tid.strip()] = reason.strip()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("--ci", action="store_true", help="also the CI tier's classes (test_subprocess with every child watcher)")
    ap.add_argument("--by-class", action="store_true", help="print the counts of each test class")
    ap.add_argument("--list-failures", action="store_true", help="print failing ids with the last line of their error")
    args = ap.parse_args()
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = [f"*{k}*" for k in args.k]
    classes = CLASSES + (SUBPROCESS_CI_CLASSES if args.ci else [])
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in classes)
    runner = unittest.TextTestRunner(verbosity=2 if args.v else 1, resultclass=Recorder, stream=sys.stderr)
    t0 = time.monotonic()
    result = runner.run(suite)
    dt = time.monotonic() - t0
    expected = load_expected()
    oc = result.outcomes  # type: ignore[attr-defined]
    passed_eddy = [t for t, (w, ran, _) in oc.items() if w == "pass" and ran]
    passed_norun = [t for t, (w, ran, _) in oc.items() if w == "pass" and not ran]
    failed = {t: d for t, (w, _, d) in oc.items() if w in ("fail", "error")}
    skipped = [t for t, (w, _, _) in oc.items() if w == "skip"]
    unexpected = sorted(t for t in failed if t not in expected)
    fixed = sorted(t for t in expected if oc.get(t, ("",))[0] == "pass")
    print(
        f"asyncio conformance on eddy.EventLoop: {len(oc)} tests, {len(passed_eddy)} passed on a running Eddy loop, "
        f"{len(passed_norun)} passed without running an Eddy loop (not counted), {len(failed)} failed ({len(failed) - len(unexpected)} expected), "
        f"{len(skipped)} skipped by CPython's own conditions; {dt:.1f} s"
    )
    if failed:
        print("(unittest's FAILED line above counts the expected failures too; what decides is below)")
    if args.by_class:
        rows: Dict[str, List[int]] = {}
        for t, (w, ran, _) in oc.items():
            r = rows.setdefault(t.split(".")[0], [0, 0, 0, 0])
            r[0 if w == "pass" and ran else 1 if w == "pass" else 2 if w in ("fail", "error") else 3] += 1
        for c, (pe, pn, fl, sk) in rows.items():
            print(f"  {c}: {pe} passed on Eddy, {pn} passed without an Eddy loop, {fl} failed, {sk} skipped")
    if args.list_failures:
        for t in sorted(failed):
            print(f"{t}  # {failed[t]}")
    for t in unexpected:
        print(f"UNEXPECTED FAILURE: {t}: {failed[t]}")
    for t in fixed:
        print(f"NOW PASSES (remove from expected_failures.txt): {t}")
    return 1 if (unexpected or fixed) else 0


if __name__ == "__main__":
    sys.exit(main())
