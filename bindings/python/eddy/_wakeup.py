"""Signal wake-up for ``eddy.run``: a signal always ends the runtime's wait.

Why it is needed
----------------
CPython runs Python-level signal handlers in the main thread, between
bytecodes; its C-level handler only sets a flag. While the main thread waits in
the runtime's ``epoll_wait`` (inside ``eddy_host_turn``), a handler runs only
once the turn returns. The runtime is created with
``EDDY_CONFIG_RETURN_ON_SIGNAL``, so a signal that *interrupts* that wait makes
the turn return ``EDDY_EINTR``. But a signal whose C-level handler runs just
before the wait starts (after CPython's last check), or on another thread,
interrupts nothing: an idle loop would not see it until something else woke it
(an idle server could ignore SIGTERM forever).

The fix (asyncio, trio and uvloop do the same)
----------------------------------------------
``signal.set_wakeup_fd(write end of a non-blocking pipe)``: CPython's C-level
handler writes a byte there, on whichever thread it runs. The read end is
registered with the runtime (``eddy_fd_watch``) and an internal host task waits
on it (``eddy_fd_poll_ready``): the byte wakes the task, so the turn returns and
the handler runs. The task drains the pipe and waits again. Per turn this costs
nothing: a parked task and a registered descriptor.

Only the main thread can call ``signal.set_wakeup_fd`` (and only it runs Python
signal handlers): ``eddy.run`` in another thread does without. In a child made
by ``fork()`` during a run the wake-up fd is reset (a signal of the child must
not poke the parent's loop); the child's copies of the pipe are closed when the
run unwinds there, like the rest.
"""

from __future__ import annotations

import os
import signal
import threading
from ctypes import byref, c_uint32, c_uint64
from typing import Any, Generator, Optional

from . import _lib
from ._driver import Runtime
from ._errors import error_from_code
from ._protocol import PENDING, SUSPEND
from ._tasks import Task, spawn_task

_active: Optional["SignalWakeup"] = None  # the wake-up of this process's main-thread run


def _after_fork_in_child() -> None:
    w = _active
    if w is None or w.wfd < 0:
        return
    try:
        cur = signal.set_wakeup_fd(-1)
        if cur != w.wfd:
            signal.set_wakeup_fd(cur)  # not ours (any more): leave it
    except (ValueError, OSError):
        pass


os.register_at_fork(after_in_child=_after_fork_in_child)


class SignalWakeup:
    """The wake-up pipe of one ``eddy.run`` in the main thread: install() it
    after the runtime exists, unwatch() before the runtime is freed,
    uninstall() last."""

    __slots__ = ("rt", "rfd", "wfd", "watch", "old", "task", "pid")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.rfd = self.wfd = -1
        self.watch = 0
        self.old: Optional[int] = None  # the previous wake-up fd, once ours is set
        self.task: Optional[Task[Any]] = None
        self.pid = os.getpid()

    @classmethod
    def install(cls, rt: Runtime) -> Optional["SignalWakeup"]:
        """Set it up, or return None when this thread cannot (not the main
        thread). Errors (EMFILE ...) propagate after undoing every step."""
        global _active
        if threading.current_thread() is not threading.main_thread():
            return None
        w = cls(rt)
        try:
            if not w._open():
                w.uninstall()
                return None
        except BaseException:
            w.uninstall()
            raise
        _active = w
        return w

    def _open(self) -> bool:
        rt = self.rt
        # os.pipe: close-on-exec (non-inheritable). Non-blocking both ways:
        # set_wakeup_fd requires it, and the drain reads until EAGAIN.
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.rfd, False)
        os.set_blocking(self.wfd, False)
        out = c_uint64()
        rc = rt.lib.eddy_fd_watch(rt.h, self.rfd, byref(out))
        if rc < 0:
            raise error_from_code(rc)
        self.watch = out.value
        try:
            # A full pipe only means a wake-up is already pending: no warning.
            self.old = signal.set_wakeup_fd(self.wfd, warn_on_full_buffer=False)
        except ValueError:  # not the main thread of the main interpreter
            return False
        task = spawn_task(rt, self._waiter(), "eddy-signal-wakeup")  # type: ignore[arg-type]
        self.task = task
        return True

    def _waiter(self) -> Generator[Any, None, None]:
        """The internal task: wait for a byte, drain, wait again. Ends when the
        watch or the pipe is gone (the runtime ends)."""
        ready = c_uint32()
        ready_ref = byref(ready)
        failures = 0
        while True:
            try:
                if not self._check(ready_ref):
                    return
            except BaseException as e:
                # A Python signal handler raised while this task ran (handlers run
                # between any two bytecodes of the main thread): the exception is
                # meant for the program, as if raised in the main coroutine. Then
                # check again, so that the waker is stored before waiting (a
                # failure that repeats is not a handler's: it ends the task).
                main = self.rt.main
                failures += 1
                if main is None or main._done or failures > 3:
                    raise
                main._inject(e)
                continue
            failures = 0
            yield SUSPEND

    def _check(self, ready_ref: Any) -> bool:
        """Drain while the pipe is readable. True: wait for the next wake-up
        (the task's waker is stored); False: the watch or the pipe is gone."""
        rt = self.rt
        lib = rt.lib
        while True:
            rc = lib.eddy_fd_poll_ready(self.watch, rt.cx, _lib.FD_READABLE, ready_ref)
            if rc == PENDING:
                return True
            if rc < 0 or not self._drain():
                return False
            # Right after the read that said EAGAIN, in the same resumption: no
            # turn in between, so no edge can be lost.
            lib.eddy_fd_clear_ready(self.watch, _lib.FD_READABLE)

    def _drain(self) -> bool:
        """Empty the pipe (until EAGAIN). False when it cannot be read any more."""
        while True:
            try:
                if not os.read(self.rfd, 512):
                    return False  # end of file: the write end is closed
            except BlockingIOError:
                return True
            except InterruptedError:
                continue
            except OSError:
                return False

    def unwatch(self) -> None:
        """Free the watch (the runtime must still exist, on its thread)."""
        w, self.watch = self.watch, 0
        if w and self.pid == os.getpid():
            try:
                self.rt.lib.eddy_fd_free(w)
            except BaseException:
                pass

    def uninstall(self) -> None:
        """Give the previous wake-up fd back (if ours is still the one set) and
        close the pipe. Idempotent; also in a forked child (closes its copies)."""
        global _active
        if _active is self:
            _active = None
        if self.old is not None:
            old, self.old = self.old, None
            try:
                cur = signal.set_wakeup_fd(-1)
                if cur != self.wfd:
                    old = cur  # replaced during the run (or reset after fork): keep that one
                if old != -1:
                    signal.set_wakeup_fd(old)
            except (ValueError, OSError):  # that fd was closed meanwhile: none
                pass
        self.unwatch()  # usually done already, before the runtime was freed
        for fd in (self.rfd, self.wfd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.rfd = self.wfd = -1
