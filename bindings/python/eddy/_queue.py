"""``eddy.Queue`` (and ``LifoQueue``, ``PriorityQueue``): asyncio.Queue's API
and semantics on Eddy tasks, with ``eddy.QueueFull`` / ``eddy.QueueEmpty``
(subclasses of asyncio's, so ``except asyncio.QueueFull`` works too).

Pure Python over the binding's suspension (``_waiters``), like asyncio's over
futures: a put or get that does not wait touches no C at all; one that wakes a
waiter costs one ``eddy_host_wake``. Crossing ctypes into the C channel
(``eddy_channel_*``) on every put and get measured slower (bench/py_queue.py).
Not thread-safe, like asyncio.Queue: C and Swift code that must reach Python
from another thread use the C channel.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import deque
from typing import Any, Deque, Generic, List, Optional, TypeVar

from ._driver import Runtime
from ._sync import Event
from ._waiters import Bound, Waiter, park

T = TypeVar("T")


class QueueEmpty(asyncio.QueueEmpty):
    """``get_nowait()`` on an empty queue."""


class QueueFull(asyncio.QueueFull):
    """``put_nowait()`` on a full queue."""


class Queue(Bound, Generic[T]):
    """A FIFO queue; ``maxsize <= 0`` means unbounded. ``put`` waits while
    full, ``get`` while empty; waiting tasks are served in arrival order (a
    waiter cancelled after it was woken wakes the next one)."""

    def __init__(self, maxsize: int = 0) -> None:
        self._rt: Optional[Runtime] = None
        self._maxsize = maxsize
        self._getters: Deque[Waiter] = deque()
        self._putters: Deque[Waiter] = deque()
        self._unfinished_tasks = 0
        self._finished = Event()
        self._finished.set()
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

    @staticmethod
    def _wakeup_next(waiters: Deque[Waiter]) -> None:
        while waiters:
            w = waiters.popleft()
            if not w.fired:
                w.fire()
                return

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

    async def put(self, item: T) -> None:
        while self.full():
            w = self._waiter()
            self._putters.append(w)
            try:
                await park(w)
            except BaseException:
                try:
                    self._putters.remove(w)
                except ValueError:
                    pass  # already woken
                if w.fired and not self.full():
                    self._wakeup_next(self._putters)  # its turn goes to the next putter
                raise
        self.put_nowait(item)

    def put_nowait(self, item: T) -> None:
        if self.full():
            raise QueueFull
        self._put(item)
        self._unfinished_tasks += 1
        self._finished.clear()
        if self._getters:
            self._wakeup_next(self._getters)

    async def get(self) -> T:
        while not self._queue:
            w = self._waiter()
            self._getters.append(w)
            try:
                await park(w)
            except BaseException:
                try:
                    self._getters.remove(w)
                except ValueError:
                    pass
                if w.fired and self._queue:
                    self._wakeup_next(self._getters)  # the item it was woken for goes on
                raise
        return self.get_nowait()

    def get_nowait(self) -> T:
        if not self._queue:
            raise QueueEmpty
        item = self._get()
        if self._putters:
            self._wakeup_next(self._putters)
        return item

    def task_done(self) -> None:
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0:
            self._finished.set()

    async def join(self) -> None:
        if self._unfinished_tasks > 0:
            await self._finished.wait()


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
