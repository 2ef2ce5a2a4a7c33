"""C tasks on an ``eddy.EventLoop``'s runtime (issue 17, item 6): C code spawns
tasks with ``eddy_spawn`` on ``loop.eddy_runtime`` and they run inside the loop's
turns; ``loop.eddy_join(task)`` is an asyncio future of a C task's end."""

from __future__ import annotations

from ctypes import byref, c_int
from typing import Any

from .. import _lib
from .._errors import error_from_code
from ._reactor import HostTask, Reactor


class TaskJoin:
    """Polls ``eddy_task_poll_join`` with a host task of its own until the C task
    ended, then sets ``afut`` to its status (0 or an error code). A cancelled
    ``afut`` gives up; the C task keeps running (as an asyncio future cancelled
    around ``run_in_executor`` does not stop the thread)."""

    __slots__ = ("reactor", "task_id", "afut", "host", "status")

    def __init__(self, reactor: Reactor, task_id: int, afut: Any) -> None:
        self.reactor = reactor
        self.task_id = task_id
        self.afut = afut
        self.status = c_int()
        t = self.host = reactor.take(self)
        afut.add_done_callback(self._on_done)
        if t.started and not t.busy:
            self._event(t, 0)

    def _event(self, task: HostTask, res: int) -> None:
        if self.host is not task:
            return
        r = self.reactor
        rc = r.lib.eddy_task_poll_join(self.task_id, r.enter(task), byref(self.status))
        if rc == _lib.PENDING:
            r.arm(task)
            return
        self._release()
        if self.afut.done():
            return
        if rc < 0:
            self.afut.set_exception(error_from_code(rc))
        else:
            self.afut.set_result(self.status.value)

    def _release(self) -> None:
        t, self.host = self.host, None
        if t is not None and not self.reactor.closed:
            self.reactor.release(t)

    def _on_done(self, fut: Any) -> None:
        if fut.cancelled():
            self._release()


def join(loop: Any, task_id: int) -> Any:
    if not isinstance(task_id, int) or isinstance(task_id, bool) or not 0 < task_id < 2**64:
        raise ValueError(f"not an eddy_task_t id: {task_id!r}")
    afut = loop.create_future()
    TaskJoin(loop._reactor, task_id, afut)
    return afut
