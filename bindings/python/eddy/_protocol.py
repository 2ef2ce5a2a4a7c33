"""What an Eddy awaitable hands the driver: the suspension values and constants.

A leaf of the binding (it uses only ``_lib``'s C constants). An awaitable
suspends its task by yielding one of two things to the driver (``_driver``):

  - ``SUSPEND``: wait for the task's waker (futures, accept, timeouts ...);
  - an ``Op``: an ``eddy_host_op_t`` record (read into / write from a buffer),
    performed by Eddy in the next ``eddy_host_turn``; the byte count or error
    code is sent back into the generator.

A wake that does not complete the operation is sent in as ``None``
(``EDDY_HOST_WOKEN``): the awaitable re-checks and yields again.

Awaitables that yield these values are generator-based coroutines, so that a
stream read/write reaches the driver without a coroutine frame in between
(docs/PERFORMANCE-LOG.md, "Python, third pass"). ``awaitable`` declares such a
generator function to its callers as what it is for them: a function returning
``Awaitable[R]``.
"""

from __future__ import annotations

import re
import types
import weakref
from array import array
from typing import Any, Awaitable, Callable, Generator, Optional, ParamSpec, Tuple, TypeVar

from . import _lib

P = ParamSpec("P")
R = TypeVar("R")

READY = _lib.READY
PENDING = _lib.PENDING
OP_WAIT = _lib.HOST_OP_WAIT
OP_READ = _lib.HOST_OP_READ
OP_WRITE = _lib.HOST_OP_WRITE
OP_FINISH = _lib.HOST_OP_FINISH
OP_REPEAT = _lib.HOST_OP_REPEAT
WOKEN = _lib.HOST_WOKEN
EINTR = _lib.EINTR
TURN_EVENTS = 256  # events per eddy_host_turn (more wait for the next turn)
SLOT_MASK = 0xFFFFFFFF  # a host task id's slot (include/eddy.h, eddy_host_spawn)

# The body of an Eddy awaitable: yields SUSPEND or an Op, is sent the event's
# result (bytes, -errno, or None when woken), returns T. Callers see it through
# ``awaitable`` as ``Awaitable[T]``.
Suspends = Generator[Any, Optional[int], R]


class Suspend:
    """The value an awaitable yields to wait for its task's waker."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<eddy suspend>"


SUSPEND = Suspend()
START = object()  # the driver's resume loop: the task is not resumed yet
UNCLAIMED = object()  # Op.task before a task owns it


class Op:
    """An operation for Eddy (an ``eddy_host_op_t`` in ``rec``: task id, op,
    handle, buffer address, length). Yielded by TcpStream.read/write (and
    submitted for a task waiting for its waker or finishing): the next turn gets
    its address. The yielding generator keeps it and its buffer alive until the
    event answers it. ``task`` is the task whose id ``rec[0]`` holds."""

    __slots__ = ("rec", "addr", "arg", "task", "stream")

    def __init__(self, op: int, h: int, buf: int, length: int, stream: Any = None) -> None:
        self.rec = array("Q", (0, op, h, buf, length))
        self.addr = self.rec.buffer_info()[0]
        # eddy_host_write's task and stream arguments (u64arg), made by the first
        # write that needs them after the op changed hands (see own).
        self.arg: Optional[Tuple[object, object]] = None
        # Never None, which is a runtime's ``current`` outside its tasks: a check
        # ``op.task is rt.current`` then never passes for an unclaimed op.
        self.task: Any = UNCLAIMED
        # A stream's read op: weak reference to the stream, whose checks let the
        # driver hand the op to the task that yields it (see claim).
        self.stream = weakref.ref(stream) if stream is not None else None

    def own(self, task: Any) -> None:
        self.rec[0] = task._key
        self.task = task
        self.arg = None

    def write_args(self) -> Tuple[object, object]:
        """eddy_host_write's first two arguments: the owning task and the stream."""
        args = self.arg
        if args is None:
            args = self.arg = (_lib.u64arg(self.rec[0]), _lib.u64arg(self.rec[2]))
        return args

    def claim(self) -> Optional[BaseException]:
        """The current task yielded this op, owned by another task: read() skips
        the ownership check (the driver's full path sees every such yield), so a
        stream's read op changes hands here, after the stream's checks. Returns
        the exception to throw instead (another task waiting, closed, another
        runtime, not a stream's op)."""
        stream = self.stream() if self.stream is not None else None
        if stream is None:
            return RuntimeError("this eddy operation belongs to another task (or another runtime)")
        try:
            stream._claim(self, "_reader")
        except BaseException as e:
            return e
        return None


_SUSPENDS = re.compile(r"^Suspends\[(.*)\]$")


def awaitable(fn: Callable[P, Generator[Any, Any, R]]) -> Callable[P, Awaitable[R]]:
    """Declare the generator function ``fn`` (annotated ``-> Suspends[T]``) an
    Eddy awaitable: ``types.coroutine`` (``await`` drives the generator itself,
    no coroutine frame in between), typed for callers as returning
    ``Awaitable[T]``, also in ``inspect.signature`` / ``help()``. Costs nothing
    per call: the function object is the same."""
    ret = fn.__annotations__.get("return")
    if isinstance(ret, str):
        m = _SUSPENDS.match(ret)
        if m is None:
            raise TypeError(f"{fn.__qualname__}: an eddy awaitable is annotated '-> Suspends[T]', not {ret!r}")
        fn.__annotations__["return"] = f"Awaitable[{m.group(1)}]"
    return types.coroutine(fn)
