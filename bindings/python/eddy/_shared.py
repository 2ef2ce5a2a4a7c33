"""What the channels shared across runtimes and threads (``eddy.Queue``,
``Broadcast``, ``Watch``) wait with (issue 16 item 1: "usable across tasks,
threads (a plain pthread may send) and runtimes").

A ``SharedWaiter`` is a ``Waiter`` that any thread may fire: on the waiting
task's own runtime thread it wakes the task as ``Waiter`` does
(``eddy_host_wake``); on any other thread (a plain thread, or the thread of
another ``eddy.run``) it wakes it through a waker handle of the task
(``eddy_waker_wake``, any-thread by the C ABI), taken when the waiter is made:
one C call the first time a task waits, cached by the task after that.

The channel's state is guarded by a ``threading.Lock`` of its own; the waiter's
``fired`` flag is set under it, and ``park`` (``_waiters``) re-checks the flag
after every wake-up, so a wake that arrives before the task suspends is not
lost (a wake with no operation outstanding ends the next one: eddy.h).
"""

from __future__ import annotations

from threading import get_ident
from typing import Any

from ._driver import running
from ._waiters import Waiter


class SharedWaiter(Waiter):
    """One task waiting in a shared channel; ``fire()`` from any thread."""

    __slots__ = ("thread", "waker")

    def __init__(self, task: Any, thread: int, waker: int) -> None:
        super().__init__(task)
        self.thread = thread
        self.waker = waker

    def fire(self) -> None:
        self.fired = True
        if get_ident() == self.thread:
            self.task._wake()
        else:
            # A task that has ended (or whose runtime was freed) freed its waker:
            # the call answers EDDY_EBADHANDLE and wakes nobody, as it should.
            self.task._rt.lib.eddy_waker_wake(self.waker)


def shared_waiter() -> SharedWaiter:
    """A waiter for the current task (any runtime: shared channels bind to none)."""
    rt = running()
    task = rt.current
    if task is None:
        raise RuntimeError("no current eddy task")
    return SharedWaiter(task, rt.thread, task._get_waker())
