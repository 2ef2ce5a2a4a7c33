"""``eddy.wait_readable(fd)`` / ``eddy.wait_writable(fd)``: wait for a
descriptor the caller owns (a pipe, an eventfd, a third-party library's
socket), over include/eddy.h's eddy_fd_* (issue 16, item 6).

Each wait registers the fd with the runtime (edge-triggered; the first check
reports an fd already ready) and removes it when the last waiter of that fd
is done; Eddy never reads, writes nor closes it. Readiness may be spurious
(another waiter consumed it): the caller's non-blocking call decides, as with
``select``. Waiters of one fd share one registration (one waker per direction
in C: a waiter that sees the fd ready wakes the others to look too).
"""

from __future__ import annotations

import ctypes
import types
from typing import Any, Dict, Generator, List

from ._driver import PID, Runtime, check, running
from ._protocol import PENDING, SUSPEND

READABLE = 1  # EDDY_FD_READABLE
WRITABLE = 2  # EDDY_FD_WRITABLE


class _Watch:
    __slots__ = ("h", "refs", "waiters")

    def __init__(self, h: int) -> None:
        self.h = h
        self.refs = 0
        self.waiters: List[Any] = []  # tasks waiting, to wake when one sees readiness


def _watches(rt: Runtime) -> Dict[int, _Watch]:
    w: Dict[int, _Watch] = rt.__dict__.setdefault("_fd_watches", {})
    return w


def _fileno(fd: Any) -> int:
    if isinstance(fd, bool):
        raise TypeError("fd must be an int or have fileno()")
    if not isinstance(fd, int):
        fileno = getattr(fd, "fileno", None)
        if fileno is None:
            raise TypeError(f"fd must be an int or have fileno(), not {type(fd).__name__}")
        fd = fileno()
    if fd < 0:
        raise ValueError(f"invalid file descriptor: {fd}")
    return int(fd)


@types.coroutine
def _wait(fd: Any, interest: int) -> Generator[Any, None, None]:
    fd = _fileno(fd)
    rt = running()
    lib = rt.lib
    table = _watches(rt)
    w = table.get(fd)
    if w is None:
        check(lib.eddy_fd_watch(rt.h, fd, rt.out_ref))
        w = table[fd] = _Watch(rt.out.value)
    w.refs += 1
    me = rt.current
    ready = ctypes.c_uint32()
    try:
        while True:
            rc = lib.eddy_fd_poll_ready(w.h, rt.cx, interest, ctypes.byref(ready))
            if rc != PENDING:
                check(rc)
                others, w.waiters = w.waiters, []
                for t in others:
                    if t is not me:
                        t._wake()
                return
            if me is not None and me not in w.waiters:
                w.waiters.append(me)
            yield SUSPEND
    finally:
        if me is not None and me in w.waiters:
            w.waiters.remove(me)
            # Leaving without seeing readiness (cancelled, timed out): the C waker may be
            # ours, so the others poll again to store theirs.
            for t in w.waiters:
                t._wake()
        w.refs -= 1
        if w.refs == 0:
            del table[fd]
            if not rt.ended and rt.pid == PID[0]:
                lib.eddy_fd_free(w.h)  # -EBADF when the caller closed the fd meanwhile: nothing to undo


async def wait_readable(fd: Any) -> None:
    """Wait until ``fd`` (an int or an object with ``fileno()``) is readable (or hung
    up / in error). Errors: ``OSError`` EBADF (not open), EPERM (a regular file)."""
    await _wait(fd, READABLE)


async def wait_writable(fd: Any) -> None:
    """Wait until ``fd`` is writable (or hung up / in error); see ``wait_readable``."""
    await _wait(fd, WRITABLE)
