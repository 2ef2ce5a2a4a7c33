"""``eddy.Queue`` (and ``LifoQueue``, ``PriorityQueue``): asyncio.Queue's API
and semantics on Eddy tasks, with ``eddy.QueueFull`` / ``eddy.QueueEmpty``
(subclasses of asyncio's, so ``except asyncio.QueueFull`` works too).

Usable across tasks, runtimes and threads (issue 16 item 1): tasks of several
``eddy.run`` (each in its own thread) may put and get on one queue, and a plain
thread may call the non-waiting methods (``put_nowait``, ``get_nowait``,
``qsize`` ...): a waiting task of any runtime is woken (``_shared``). Unlike
asyncio.Queue, which needs ``loop.call_soon_threadsafe`` for that.

Pure Python over the binding's suspension, like asyncio's over futures: a put
or get that does not wait touches no C at all; one that wakes a waiter costs one
``eddy_host_wake`` (same thread) or ``eddy_waker_wake`` (another thread).
Crossing ctypes into the C channel (``eddy_channel_*``) on every put and get
measured slower (bench/py_queue.py).

Locking. A ``threading.Lock`` taken per operation cost ~700 ns per
put_nowait + get_nowait pair (2.8x the unlocked queue, slower than
asyncio.Queue), so a queue used by one thread only takes none: its *home*
thread (the one that made it) runs each operation unlocked, flagged ``_busy``.
The first operation from any other thread sets ``_shared`` for good, waits
until the home thread's operation in flight (if any) is over, and from then on
every operation of every thread takes the lock. The handshake is Dekker's
(home: ``_busy = True`` then read ``_shared``; other thread: ``_shared = True``
then read ``_busy``), sound because CPython's threads switch only between
bytecodes under the GIL, which orders these loads and stores.
"""

from __future__ import annotations

import asyncio
import heapq
import sys
import threading
import time
from collections import deque
from typing import Any, Deque, Generic, List, TypeVar

from ._shared import SharedWaiter, get_ident, shared_waiter
from ._waiters import park

T = TypeVar("T")

# The unlocked home-thread path needs the GIL (module doc, "Locking"): a free-threaded
# build (3.13t, GIL disabled) locks every operation from the start.
_GIL = getattr(sys, "_is_gil_enabled", lambda: True)()


class QueueEmpty(asyncio.QueueEmpty):
    """``get_nowait()`` on an empty queue."""


class QueueFull(asyncio.QueueFull):
    """``put_nowait()`` on a full queue."""


class QueueShutDown(getattr(asyncio, "QueueShutDown", Exception)):  # type: ignore[misc]
    """A put on a queue that was shut down, or a get on one shut down and empty
    (asyncio 3.13's name and meaning; a subclass of asyncio's where it exists)."""


def _wakeup_next(waiters: Deque[SharedWaiter]) -> None:
    """Fire the oldest waiter not fired yet (under the queue's lock)."""
    while waiters:
        w = waiters.popleft()
        if not w.fired:
            w.fire()
            return


class Queue(Generic[T]):
    """A FIFO queue; ``maxsize <= 0`` means unbounded. ``put`` waits while
    full, ``get`` while empty; waiting tasks are served in arrival order (a
    waiter cancelled after it was woken wakes the next one). Any runtime, any
    thread (see the module's doc). ``shutdown()`` closes it as asyncio 3.13's
    does: puts raise ``QueueShutDown``, gets drain what is left, then raise it."""

    def __init__(self, maxsize: int = 0) -> None:
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._home = get_ident()  # runs unlocked until another thread comes (module doc)
        self._shared = not _GIL
        self._busy = False
        self._getters: Deque[SharedWaiter] = deque()
        self._putters: Deque[SharedWaiter] = deque()
        self._joiners: Deque[SharedWaiter] = deque()
        self._unfinished_tasks = 0
        self._is_shutdown = False
        self._init(maxsize)

    # The storage, overridden by LifoQueue / PriorityQueue (as asyncio's).
    def _init(self, maxsize: int) -> None:
        self._queue: Any = deque()

    def _get(self) -> T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def _put(self, item: T) -> None:
        self._queue.append(item)

    def __repr__(self) -> str:
        return (f"<eddy.{type(self).__name__} maxsize={self._maxsize} qsize={len(self._queue)} "
                f"getters={len(self._getters)} putters={len(self._putters)} tasks={self._unfinished_tasks}>")

    def qsize(self) -> int:
        return len(self._queue)

    @property
    def maxsize(self) -> int:
        return self._maxsize

    def empty(self) -> bool:
        return not self._queue

    def full(self) -> bool:
        if self._maxsize <= 0:
            return False
        return len(self._queue) >= self._maxsize

    # -- entering an operation (module doc, "Locking") ---------------------------
    def _begin(self) -> bool:
        """Enter an operation: False (home thread, unshared: `_busy` set, no
        lock) or True (the lock is held). Pair with `_end`."""
        if not self._shared:
            if self._home == get_ident():
                self._busy = True
                if not self._shared:
                    return False
                self._busy = False
            else:
                self._share()
        self._lock.acquire()
        return True

    def _end(self, locked: bool) -> None:
        if locked:
            self._lock.release()
        else:
            self._busy = False

    def _share(self) -> None:
        """A second thread arrives: everyone locks from now on, once the home
        thread's unlocked operation in flight is over."""
        self._shared = True
        while self._busy:
            time.sleep(0)  # let the home thread finish (it holds the GIL only between bytecodes)

    def _withdraw(self, waiters: Deque[SharedWaiter], w: SharedWaiter) -> None:
        """A put, get or join that parked on ``w`` leaves early (cancelled): drop ``w``
        from ``waiters``; if it had been woken already, pass its turn on."""
        locked = self._begin()
        try:
            try:
                waiters.remove(w)
            except ValueError:
                pass  # already woken
            if w.fired:
                # A joiners' wake-up is for all of them: nothing to pass on.
                if waiters is self._putters and not self.full():
                    _wakeup_next(waiters)  # the free slot goes to the next putter
                elif waiters is self._getters and self._queue:
                    _wakeup_next(waiters)  # the item it was woken for goes on
        finally:
            self._end(locked)

    async def put(self, item: T) -> None:
        while True:
            locked = self._begin()
            try:
                if self._is_shutdown:
                    raise QueueShutDown
                if not self.full():
                    self._put_entered(item)
                    return
                w = shared_waiter()
                self._putters.append(w)
            finally:
                self._end(locked)
            try:
                await park(w)
            except BaseException:
                self._withdraw(self._putters, w)
                raise

    def put_nowait(self, item: T) -> None:
        """Any thread."""
        # _begin/_end inlined: this and get_nowait are the data path. A shut-down
        # queue is shared for good (shutdown), so this path never sees one.
        if not self._shared and self._home == get_ident():
            self._busy = True
            if not self._shared:
                try:
                    if self.full():
                        raise QueueFull
                    self._put(item)
                    self._unfinished_tasks += 1
                    if self._getters:
                        _wakeup_next(self._getters)
                    return
                finally:
                    self._busy = False
            self._busy = False
        locked = self._begin()
        try:
            if self._is_shutdown:
                raise QueueShutDown
            if self.full():
                raise QueueFull
            self._put_entered(item)
        finally:
            self._end(locked)

    def _put_entered(self, item: T) -> None:
        self._put(item)
        self._unfinished_tasks += 1
        if self._getters:
            _wakeup_next(self._getters)

    async def get(self) -> T:
        while True:
            locked = self._begin()
            try:
                if self._queue:
                    return self._get_entered()
                if self._is_shutdown:
                    raise QueueShutDown
                w = shared_waiter()
                self._getters.append(w)
            finally:
                self._end(locked)
            try:
                await park(w)
            except BaseException:
                self._withdraw(self._getters, w)
                raise

    def get_nowait(self) -> T:
        """Any thread."""
        if not self._shared and self._home == get_ident():
            self._busy = True
            if not self._shared:
                try:
                    if not self._queue:
                        raise QueueEmpty
                    item = self._get()
                    if self._putters:
                        _wakeup_next(self._putters)
                    return item
                finally:
                    self._busy = False
            self._busy = False
        locked = self._begin()
        try:
            if not self._queue:
                raise QueueShutDown if self._is_shutdown else QueueEmpty
            return self._get_entered()
        finally:
            self._end(locked)

    def _get_entered(self) -> T:
        item = self._get()
        if self._putters:
            _wakeup_next(self._putters)
        return item

    def task_done(self) -> None:
        """Any thread."""
        locked = self._begin()
        try:
            if self._unfinished_tasks <= 0:
                raise ValueError("task_done() called too many times")
            self._unfinished_tasks -= 1
            if self._unfinished_tasks == 0:
                self._release_joiners()
        finally:
            self._end(locked)

    def _release_joiners(self) -> None:
        joiners, self._joiners = self._joiners, deque()
        for w in joiners:
            w.fire()

    def shutdown(self, immediate: bool = False) -> None:
        """Close the queue (asyncio 3.13's ``Queue.shutdown``); any thread. Every
        later put raises ``QueueShutDown``; gets return what is queued, then raise it.
        ``immediate``: the queued items are dropped (each counted as done for
        ``join``), so gets raise at once. Waiting putters and getters are woken to
        see it."""
        locked = self._begin()
        try:
            self._is_shutdown = True
            if immediate:
                while self._queue:
                    self._get()
                    if self._unfinished_tasks > 0:
                        self._unfinished_tasks -= 1
                if self._unfinished_tasks == 0:
                    self._release_joiners()
            for waiters in (self._getters, self._putters):
                while waiters:
                    w = waiters.popleft()
                    if not w.fired:
                        w.fire()
            # Every later operation takes the locked path, which checks `_is_shutdown`:
            # the unlocked put_nowait/get_nowait of the home thread stay as they were.
            # Last, so no other thread runs while this (possibly unlocked) one still writes.
            self._shared = True
        finally:
            self._end(locked)

    async def join(self) -> None:
        while True:
            locked = self._begin()
            try:
                if self._unfinished_tasks == 0:
                    return
                w = shared_waiter()
                self._joiners.append(w)
            finally:
                self._end(locked)
            try:
                await park(w)
            except BaseException:
                self._withdraw(self._joiners, w)
                raise


class LifoQueue(Queue[T]):
    """Last in, first out."""

    def _init(self, maxsize: int) -> None:
        self._queue = []

    def _get(self) -> T:
        return self._queue.pop()  # type: ignore[no-any-return]


class PriorityQueue(Queue[T]):
    """Lowest first (``heapq``), as asyncio.PriorityQueue."""

    def _init(self, maxsize: int) -> None:
        self._queue: List[Any] = []

    def _put(self, item: T) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> T:
        return heapq.heappop(self._queue)  # type: ignore[no-any-return]
