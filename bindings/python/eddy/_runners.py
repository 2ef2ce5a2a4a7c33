"""Runners: ``eddy.run`` and the signals it handles while it runs.

``run`` makes the runtime (``_driver.Runtime``), spawns the main task, drives
the loop until it finishes, then cancels what is left and frees the runtime.
In the main thread it also installs handlers for its ``stop_signals`` and the
signal wake-up descriptor (``_wakeup``).
"""

from __future__ import annotations

import contextvars
import os
import signal
import threading
import warnings
from typing import Any, Callable, Coroutine, List, Optional, Sequence, Tuple, TypeVar

from . import _sigpipe
from ._driver import Runtime, state
from ._errors import InvalidArgumentError
from ._tasks import is_coroutine, spawn_task
from ._wakeup import SignalWakeup
from ._backend import driver_config

T = TypeVar("T")


def run(
    main: Coroutine[Any, Any, T],
    *,
    stop_signals: Sequence[int] = (signal.SIGINT,),
    blocking_threads: int = 0,
    driver: Optional[str] = None,
    workers: int = 0,
) -> T:
    """Run the coroutine ``main`` on a new current-thread Eddy runtime and return
    its result (or raise its exception).

    While it runs in the main thread, each signal of ``stop_signals`` whose
    handler is still Python's default is delivered to ``main`` at its current
    await point: SIGINT as ``KeyboardInterrupt``, others as ``SystemExit(128+n)``.
    A second SIGINT stops the run at once. In the main thread a signal wake-up fd
    (``signal.set_wakeup_fd``) is set for the run, so every Python signal handler
    runs as soon as its signal arrives, even while the loop idles; the previous
    one is restored at the end. When ``main`` returns, the tasks still
    running are cancelled and awaited; then the runtime is freed (every socket
    it owns is closed).

    ``driver`` picks the kernel interface: ``"epoll"`` or ``"io_uring"``; None
    (the default) follows the environment variable ``EDDY_DRIVER`` (epoll when
    unset). Where io_uring is refused (old kernel, seccomp, io_uring_disabled)
    the run uses epoll: ``eddy.driver_info()`` tells which and why.

    ``workers`` (1..1024; 0, the default: the environment variable ``EDDY_WORKERS``,
    else 1) makes the runtime multi-thread: this thread drives worker 0 and Eddy
    starts ``workers - 1`` more threads. Python coroutines always run on this
    thread (the GIL would serialize them anyway); the other workers run C tasks
    spawned into the runtime (``eddy_spawn_on`` with the handle of
    ``eddy.runtime_handle()``), e.g. a C extension's own servers. It does not
    make Python code faster; ``eddy.worker_metrics()`` shows each worker's counters."""
    if not is_coroutine(main):
        raise TypeError(f"eddy.run() needs a coroutine, not {type(main).__name__}")
    if isinstance(blocking_threads, bool) or not isinstance(blocking_threads, int) or not (
        0 <= blocking_threads <= 1024
    ):
        main.close()
        raise InvalidArgumentError("blocking_threads must be an int in 0..1024 (0 = Eddy's default)")
    if isinstance(workers, bool) or not isinstance(workers, int) or not (0 <= workers <= 1024):
        main.close()
        raise InvalidArgumentError("workers must be an int in 0..1024 (0 = EDDY_WORKERS, else 1)")
    driver_code = driver_config(driver)
    if driver_code is None:
        main.close()
        raise InvalidArgumentError("driver must be None, 'epoll' or 'io_uring'")
    outer: Optional[Runtime] = getattr(state, "rt", None)
    if outer is not None:
        if outer.pid == os.getpid():
            main.close()
            raise RuntimeError("eddy.run() cannot be called while another eddy.run() is running in this thread")
        # else: inherited from the parent process by fork(); restored below
    try:
        rt = Runtime(blocking_threads, driver_code, workers)
    except BaseException:
        main.close()
        raise
    state.rt = rt
    saved = _install_signals(rt, stop_signals)
    pipe_was_blocked = _sigpipe.block()  # TcpStream.write's os.write: EPIPE, not a signal
    # The run's private context (Runtime.pctx): a copy of the caller's, so nothing a
    # task sets reaches the caller, as with asyncio.run.
    pctx = contextvars.copy_context()
    rt.pctx = pctx
    rt.direct = not len(pctx)
    try:
        task = pctx.run(spawn_task, rt, main, "main")
        rt.main = task
        pctx.run(rt.drive, task)
        if not task._done:  # aborted by a second Ctrl-C
            raise rt.fatal or KeyboardInterrupt()
        return task.result()
    finally:
        try:
            pctx.run(rt.finish)
        finally:
            _sigpipe.restore(pipe_was_blocked)
            _restore_signals(saved)
            state.rt = outer


class _Signals:
    """What eddy.run changed about signals: handlers (with the previous ones)
    and the wake-up descriptor (see _wakeup)."""

    __slots__ = ("handlers", "wakeup")

    def __init__(self) -> None:
        self.handlers: List[Tuple[int, Any]] = []
        self.wakeup: Optional[Any] = None


def _install_signals(rt: Runtime, sigs: Sequence[int]) -> _Signals:
    saved = _Signals()
    if threading.current_thread() is not threading.main_thread():
        return saved  # only the main thread runs Python signal handlers
    for s in sigs:
        try:
            old = signal.getsignal(s)
            default = signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL
            if old is not default:
                continue  # the user has their own handler: leave it alone
            signal.signal(s, _make_handler(rt))
            saved.handlers.append((s, old))
        except (ValueError, OSError, TypeError):
            continue
    # Also for handlers that are not eddy's: every Python handler waits for the
    # turn to return, and the wake-up descriptor is what makes it return.
    try:
        saved.wakeup = rt.wakeup = SignalWakeup.install(rt)
    except Exception as e:  # e.g. EMFILE: run as before, with the known limit
        warnings.warn(
            f"eddy.run(): no signal wake-up descriptor ({e!r}); a signal may wait for the next event",
            RuntimeWarning,
            stacklevel=3,
        )
    return saved


def _restore_signals(saved: _Signals) -> None:
    if saved.wakeup is not None:
        saved.wakeup.uninstall()
    for s, old in saved.handlers:
        try:
            signal.signal(s, old)
        except (ValueError, OSError, TypeError):
            pass


def _make_handler(rt: Runtime) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        # Never raises on the first signal: it may run anywhere, including at the
        # entry of a ctypes callback, where an exception would be lost.
        exc: BaseException = KeyboardInterrupt() if signum == signal.SIGINT else SystemExit(128 + signum)
        rt.interrupts += 1
        main = rt.main
        if rt.interrupts == 1 and main is not None and not main._done:
            main._inject(exc)
            return
        # Second signal, or main already finished: stop now.
        rt.stop(exc)
        if main is not None and not rt.ended:
            main._wake()  # the loop sees hard_stop after this turn

    return handler
