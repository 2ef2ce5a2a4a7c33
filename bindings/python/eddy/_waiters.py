"""What the coordination primitives (``_sync``, ``_queue``) wait with.

A ``Waiter`` is one suspended task's place in a primitive's FIFO (a
``collections.deque``): ``fire()`` marks it served and wakes its task through
the driver (``Task._wake``: ``eddy_host_wake``); ``park(w)`` suspends the
current task until its waiter fired. Wakes for other reasons (a timeout, a
cancellation) reach the task as exceptions thrown at the ``yield``; spurious
ones just loop. The primitives are pure Python over the binding's own
suspension, as asyncio's are over futures: measured faster than crossing ctypes
into the C channel for every put/get (bench/py_queue.py, docs/SYNC.md).

A primitive belongs to the runtime of the first task that waits on it (like
asyncio's "bound to a different event loop" check): tasks are woken through
their runtime, which only its own thread may drive. By design: these are
asyncio's primitives, kept lock-free for one loop. Waking them from another
thread (``Event.set``, ``Lock.release``, ``Semaphore.release``,
``Condition.notify``) raises ``RuntimeError`` instead of leaving the waiter
asleep; across threads and runtimes use ``eddy.Queue`` / ``Broadcast`` /
``Watch`` (``_shared``), which any thread may wake.
"""

from __future__ import annotations

import types
from threading import get_ident
from typing import Any, Generator, Optional

from ._driver import Runtime, running
from ._protocol import SUSPEND


class Waiter:
    """One task waiting in a primitive; ``fired`` once it was served (handed
    the lock / permit / item slot, or notified)."""

    __slots__ = ("task", "fired")

    def __init__(self, task: Any) -> None:
        self.task = task
        self.fired = False

    def fire(self) -> None:
        self.fired = True
        self.task._wake()


@types.coroutine
def park(w: Waiter) -> Generator[Any, Optional[int], None]:
    """Suspend the current task until ``w`` fired."""
    while not w.fired:
        yield SUSPEND


class Bound:
    """Mixin: the runtime a primitive is bound to (set at its first wait)."""

    __slots__ = ()
    _rt: Optional[Runtime]

    def _check_thread(self) -> None:
        """Before waking waiters: only the bound runtime's thread may (module doc)."""
        rt = self._rt
        if rt is not None and rt.thread != get_ident():
            raise RuntimeError(f"{type(self).__name__} is bound to the eddy runtime of another thread: "
                               "wake it from that thread (or use eddy.Queue / eddy.Watch, which any thread may use)")

    def _waiter(self) -> Waiter:
        """A waiter for the current task, checking the primitive's runtime."""
        rt = running()
        if self._rt is None:
            self._rt = rt
        elif self._rt is not rt:
            raise RuntimeError(f"{type(self).__name__} {self!r} is bound to a different eddy runtime")
        task = rt.current
        if task is None:
            raise RuntimeError("no current eddy task")
        return Waiter(task)
