"""Signals through Eddy's signalfd watchers: ``add_signal_handler``,
``remove_signal_handler`` (asyncio's loop methods, as module functions) and
``await wait_signal(signum)``.

While a signal has a handler (or a ``wait_signal`` waits for it) Eddy blocks it
in the thread running ``eddy.run`` and installs its own C handler, which only
forwards it there: it never takes its default action and Python's own handler
for it (``signal.signal``, including ``eddy.run``'s SIGINT handler) does not run
meanwhile. Removing the last handler of a signal restores what was there
before. Arrivals coalesce (two SIGUSR1 before the handler runs call it once), as
asyncio's do. docs/OS.md has the details.
"""

from __future__ import annotations

import signal
import sys
import traceback
import types
from ctypes import byref, c_int
from typing import Any, Callable, Dict, Generator, Optional, Tuple

from . import _lib
from ._driver import Runtime, current_runtime, owned, running
from ._errors import error_from_code
from ._protocol import PENDING, READY, SUSPEND


def _check_signum(sig: object) -> int:
    """asyncio's checks: TypeError for a non-int, ValueError out of range."""
    if not isinstance(sig, int) or isinstance(sig, bool):
        raise TypeError(f"sig must be an int, not {sig!r}")
    if sig not in signal.valid_signals():
        raise ValueError(f"invalid signal number {sig}")
    return int(sig)


class SignalWatch:
    """One Eddy signal watch (``eddy_signal_t``) of the running runtime."""

    __slots__ = ("rt", "h", "out", "out_ref")

    def __init__(self, rt: Runtime, sig: int) -> None:
        self.rt = rt
        sigs = (c_int * 1)(sig)
        rc = rt.lib.eddy_signal_watch(rt.h, sigs, 1, rt.out_ref)
        if rc == _lib.EINVAL:  # a valid number the kernel will not let anyone catch
            raise RuntimeError(f"sig {sig:d} cannot be caught")
        if rc < 0:
            raise error_from_code(rc)
        self.h: Optional[int] = rt.out.value
        self.out = c_int()
        self.out_ref = byref(self.out)

    def close(self) -> None:
        h, self.h = self.h, None
        if h is not None and not self.rt.ended:
            self.rt.lib.eddy_signal_free(h)

    @types.coroutine
    def next(self) -> Generator[Any, Optional[int], int]:
        """The next signal that arrives (a generator-based coroutine)."""
        rt = owned(self.rt, "signal watch")
        poll = rt.lib.eddy_signal_poll
        while True:
            if self.h is None:
                raise RuntimeError("signal watch closed")
            rc = poll(self.h, rt.cx, self.out_ref)
            if rc == READY:
                return self.out.value
            if rc == PENDING:
                yield SUSPEND
                continue
            raise error_from_code(rc)


class _Handler:
    __slots__ = ("watch", "task", "callback", "args")

    def __init__(self, watch: SignalWatch, callback: Callable[..., object], args: Tuple[Any, ...]) -> None:
        self.watch = watch
        self.callback = callback
        self.args = args
        self.task: Any = None


def _handlers(rt: Runtime) -> Dict[int, _Handler]:
    d: Optional[Dict[int, _Handler]] = getattr(rt, "signal_handlers", None)
    if d is None:
        d = {}
        rt.signal_handlers = d  # type: ignore[attr-defined]
    return d


async def _dispatch(h: _Handler) -> None:
    while True:
        await h.watch.next()
        try:
            h.callback(*h.args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException:  # asyncio logs a handler's exception and carries on
            print(f"eddy: exception in signal handler {h.callback!r}:", file=sys.stderr)
            traceback.print_exc()


def add_signal_handler(sig: int, callback: Callable[..., object], *args: Any) -> None:
    """asyncio's ``loop.add_signal_handler``: call ``callback(*args)`` (in a task of
    the running ``eddy.run``) each time ``sig`` arrives, replacing a handler this
    function set before for ``sig``. TypeError (not an int, or a coroutine
    function as callback), ValueError (no such signal), RuntimeError (SIGKILL,
    SIGSTOP: cannot be caught; or no eddy.run running)."""
    from ._tasks import spawn  # _tasks imports the driver; spawned lazily

    sig = _check_signum(sig)
    if not callable(callback):
        raise TypeError("callback must be callable")
    import inspect

    if inspect.iscoroutinefunction(callback) or inspect.iscoroutine(callback):
        raise TypeError("coroutines cannot be used with add_signal_handler()")
    rt = current_runtime()
    d = _handlers(rt)
    old = d.get(sig)
    if old is not None:  # keep the watch (no window where the old action is back)
        old.callback, old.args = callback, args
        return
    h = _Handler(SignalWatch(rt, sig), callback, args)
    try:
        h.task = spawn(_dispatch(h), name=f"eddy signal handler {sig}")
    except BaseException:
        h.watch.close()
        raise
    d[sig] = h


def remove_signal_handler(sig: int) -> bool:
    """asyncio's ``loop.remove_signal_handler``: True if a handler was removed (the
    signal's previous action is back once nothing else of Eddy watches it)."""
    sig = _check_signum(sig)
    rt = current_runtime()
    h = _handlers(rt).pop(sig, None)
    if h is None:
        return False
    if h.task is not None and not h.task.done():
        h.task.cancel()
    h.watch.close()
    return True


async def wait_signal(sig: int) -> int:
    """Wait until signal ``sig`` arrives (after this call started); returns it.
    While waiting, ``sig`` is Eddy's (see the module doc). RuntimeError for
    SIGKILL/SIGSTOP, ValueError for a number out of range."""
    sig = _check_signum(sig)
    w = SignalWatch(running(), sig)
    try:
        return await w.next()
    finally:
        w.close()
