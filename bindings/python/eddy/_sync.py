"""Synchronization primitives with asyncio's names and semantics: ``Event``,
``Lock``, ``Semaphore``, ``BoundedSemaphore``, ``Condition``.

Waiters are served first come, first served, by handing over: ``release()``
gives the lock (or permit) directly to the oldest waiter, so no newcomer can
overtake a queued task. A waiter cancelled (or timed out) after it was handed
the lock or permit gives it on to the next one; one cancelled before simply
leaves the queue. Releasing a lock that is not held raises ``RuntimeError``; a
``BoundedSemaphore`` released above its initial value raises ``ValueError``
(asyncio's messages). Not thread-safe, like asyncio's: use them from the tasks
of one ``eddy.run``.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Optional, TypeVar

from ._driver import Runtime
from ._waiters import Bound, Waiter, park

T = TypeVar("T")


class _ContextManagerMixin:
    async def __aenter__(self) -> None:
        await self.acquire()  # type: ignore[attr-defined]
        return None

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.release()  # type: ignore[attr-defined]


class Event(Bound):
    """``asyncio.Event``: ``set()`` wakes every waiter; ``wait()`` returns True
    at once while the flag is set."""

    __slots__ = ("_rt", "_value", "_waiters")

    def __init__(self) -> None:
        self._rt: Optional[Runtime] = None
        self._value = False
        self._waiters: Deque[Waiter] = deque()

    def __repr__(self) -> str:
        return f"<eddy.Event [{'set' if self._value else 'unset'}, waiters:{len(self._waiters)}]>"

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        self._check_thread()
        if not self._value:
            self._value = True
            waiters, self._waiters = self._waiters, deque()
            for w in waiters:
                w.fire()

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        w = self._waiter()
        self._waiters.append(w)
        try:
            await park(w)
        except BaseException:
            if not w.fired:
                self._waiters.remove(w)
            raise
        return True


class Lock(_ContextManagerMixin, Bound):
    """``asyncio.Lock``: FIFO, not reentrant; ``async with lock:``."""

    __slots__ = ("_rt", "_locked", "_waiters")

    def __init__(self) -> None:
        self._rt: Optional[Runtime] = None
        self._locked = False
        self._waiters: Deque[Waiter] = deque()

    def __repr__(self) -> str:
        return f"<eddy.Lock [{'locked' if self._locked else 'unlocked'}, waiters:{len(self._waiters)}]>"

    def locked(self) -> bool:
        return self._locked

    async def acquire(self) -> bool:
        if not self._locked:  # no waiter can exist while unlocked (handover)
            self._locked = True
            return True
        w = self._waiter()
        self._waiters.append(w)
        try:
            await park(w)
        except BaseException:
            if w.fired:
                self._hand_on()  # it was handed the lock: to the next one
            else:
                self._waiters.remove(w)
            raise
        return True

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("Lock is not acquired.")
        self._hand_on()

    def _hand_on(self) -> None:
        self._check_thread()
        if self._waiters:
            self._waiters.popleft().fire()  # stays locked: now the waiter's
        else:
            self._locked = False


class Semaphore(_ContextManagerMixin, Bound):
    """``asyncio.Semaphore(value=1)``: FIFO permits, handed over on release."""

    __slots__ = ("_rt", "_value", "_waiters")

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("Semaphore initial value must be >= 0")
        self._rt: Optional[Runtime] = None
        self._value = value
        self._waiters: Deque[Waiter] = deque()

    def __repr__(self) -> str:
        return f"<eddy.{type(self).__name__} [value:{self._value}, waiters:{len(self._waiters)}]>"

    def locked(self) -> bool:
        """True when an ``acquire()`` would wait."""
        return self._value == 0 or bool(self._waiters)

    async def acquire(self) -> bool:
        if self._value > 0:  # no waiter can exist while permits are free (handover)
            self._value -= 1
            return True
        w = self._waiter()
        self._waiters.append(w)
        try:
            await park(w)
        except BaseException:
            if w.fired:
                self._give()  # the permit it was handed goes on
            else:
                self._waiters.remove(w)
            raise
        return True

    def release(self) -> None:
        self._give()

    def _give(self) -> None:
        self._check_thread()
        if self._waiters:
            self._waiters.popleft().fire()
        else:
            self._value += 1


class BoundedSemaphore(Semaphore):
    """``asyncio.BoundedSemaphore``: releasing above the initial value is a
    ``ValueError``."""

    __slots__ = ("_bound",)

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._bound = value

    def release(self) -> None:
        if not self._waiters and self._value >= self._bound:
            raise ValueError("BoundedSemaphore released too many times")
        self._give()


class Condition(_ContextManagerMixin, Bound):
    """``asyncio.Condition(lock=None)``: ``wait()`` releases the lock, waits
    for ``notify``/``notify_all`` and re-acquires it (also when cancelled, as
    asyncio does). A notified waiter cancelled before it ran passes the
    notification on."""

    __slots__ = ("_rt", "_lock", "_waiters", "locked", "acquire", "release")

    def __init__(self, lock: Optional[Lock] = None) -> None:
        self._rt: Optional[Runtime] = None
        self._lock = Lock() if lock is None else lock
        self.locked = self._lock.locked
        self.acquire = self._lock.acquire
        self.release = self._lock.release
        self._waiters: Deque[Waiter] = deque()

    def __repr__(self) -> str:
        return f"<eddy.Condition [{'locked' if self.locked() else 'unlocked'}, waiters:{len(self._waiters)}]>"

    async def wait(self) -> bool:
        if not self.locked():
            raise RuntimeError("cannot wait on un-acquired lock")
        w = self._waiter()
        self._waiters.append(w)
        self.release()
        err: Optional[BaseException] = None
        try:
            await park(w)
        except BaseException as e:
            err = e
            if w.fired:
                self._notify(1)  # give the notification to another waiter
            else:
                self._waiters.remove(w)
        # Re-acquire the lock before returning or raising, whatever happens meanwhile.
        while True:
            try:
                await self._lock.acquire()
                break
            except BaseException as e:  # cancelled again: keep re-acquiring, raise after
                err = e
        if err is not None:
            raise err
        return True

    async def wait_for(self, predicate: Callable[[], T]) -> T:
        result = predicate()
        while not result:
            await self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        if not self.locked():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._notify(n)

    def _notify(self, n: int) -> None:
        self._check_thread()
        while n > 0 and self._waiters:
            self._waiters.popleft().fire()
            n -= 1

    def notify_all(self) -> None:
        self.notify(len(self._waiters))
