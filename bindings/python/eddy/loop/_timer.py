"""The loop's one Eddy timer: an ``eddy_sleep`` future for the earliest
``call_later`` / ``call_at`` deadline, polled by a host task of its own.

asyncio keeps the timer heap (``_scheduled``); Eddy only has to end the turn's
wait at the earliest deadline. The sleep is re-made only when that deadline
changes; an earlier wake-up (a rounding of Eddy's timer wheel) just makes the
loop iterate once more.
"""

from __future__ import annotations

from typing import Optional

from .. import _lib
from ._reactor import HostTask, Reactor, check


class Timer:
    __slots__ = ("reactor", "task", "fut", "when")

    def __init__(self, reactor: Reactor) -> None:
        self.reactor = reactor
        self.task = reactor.spawn(self)
        self.fut = 0
        self.when: Optional[float] = None

    def _event(self, task: HostTask, res: int) -> None:
        pass  # the loop looks at its heap after every turn and re-arms

    def arm(self, when: float, delay: float) -> bool:
        """Make the next turn end by ``when`` (``delay`` seconds from now). False:
        not armed (the task's first event is still to come, or the sleep is
        over already): the turn must not block."""
        r = self.reactor
        t = self.task
        if not t.started:
            return False
        if self.when == when and self.fut and t.busy:
            return True  # armed by an earlier iteration: its waker is stored
        if self.when != when or not self.fut:
            self.cancel()
            ns = int(delay * 1e9) + 1
            check(r.lib.eddy_sleep(r.h, ns, r.out_ref))
            self.fut = r.out.value
            self.when = when
        rc = r.lib.eddy_future_poll(self.fut, r.enter(t))
        if rc != _lib.PENDING:
            self.cancel()
            return False
        r.arm(t)
        return True

    def cancel(self) -> None:
        f, self.fut = self.fut, 0
        self.when = None
        if f and not self.reactor.closed:
            self.reactor.lib.eddy_future_free(f)
