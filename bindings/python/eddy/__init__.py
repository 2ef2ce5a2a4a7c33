"""eddy — run ``async def`` code on the Eddy async I/O runtime (pure-Python ctypes binding).

    import eddy

    async def main():
        async with await eddy.connect("127.0.0.1", 8080) as s:
            await s.write_all(b"GET / HTTP/1.0\\r\\n\\r\\n")
            print(await s.read(4096))

    eddy.run(main())

libeddy.so is found, in order: $EDDY_LIBRARY; the copy inside this package (the
wheel built by `pip install ./bindings/python` carries one); a source checkout's
build folders (.build*/release); the system loader (libeddy.so.0 from
`make install`, through ldconfig or LD_LIBRARY_PATH).
"""

from __future__ import annotations

from ._blocking import blocking_call, to_thread
from ._runners import run
from ._tasks import Task, current_task, gather, spawn, wait_for
from ._timeouts import Timeout, sleep, timeout
from ._errors import (
    CancelledError,
    ClosedResourceError,
    EddyError,
    ForkedError,
    IncompleteReadError,
    InvalidArgumentError,
    InvalidStateError,
    RuntimeEndedError,
)
from ._lib import LibraryNotFoundError
from ._net import TcpListener, TcpStream, connect, listen
# ---- coordination (issue 16) ----
from ._queue import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull
from ._sync import BoundedSemaphore, Condition, Event, Lock, Semaphore

# ---- graceful shutdown (issue 14, branch pool-14) ----
from ._shutdown import ShutdownReport, shutdown, shutdown_report
from ._diagnostics import RuntimeMetrics, TaskInfo, metrics, task_dump
# ---- issue 15: UDP ----
from ._addr import SocketOption
from ._udp import Datagram, UdpSocket, bind_udp
from ._net import connect_unix, listen_unix

# ---- end issue 15 ----
# ---- driver (io_uring) ----
from ._backend import DriverInfo, driver_info
# ---- signals and child processes (issue 16, branch sigproc-16) ----
from ._signals import add_signal_handler, remove_signal_handler, wait_signal
from ._process import DEVNULL, PIPE, STDOUT, Process, create_subprocess_exec

# ---- end signals and child processes ----

__version__ = "0.1.0"


def library_version() -> str:
    """Version string of the loaded libeddy.so (``eddy_version_string()``), e.g. ``"0.1.0"``."""
    from ._lib import version

    return version()


__all__ = [
    "run",
    "spawn",
    "Task",
    "current_task",
    "sleep",
    "timeout",
    "Timeout",
    "wait_for",
    "gather",
    "connect",
    "listen",
    "TcpStream",
    "TcpListener",
    "blocking_call",
    "to_thread",
    "CancelledError",
    "ClosedResourceError",
    "EddyError",
    "ForkedError",
    "IncompleteReadError",
    "InvalidArgumentError",
    "InvalidStateError",
    "RuntimeEndedError",
    "LibraryNotFoundError",
    "library_version",
    # ---- graceful shutdown (issue 14, branch pool-14) ----
    "shutdown",
    "shutdown_report",
    "ShutdownReport",
    "metrics",
    "task_dump",
    "RuntimeMetrics",
    "TaskInfo",
    # ---- issue 15 ----
    "bind_udp",
    "UdpSocket",
    "Datagram",
    "SocketOption",
    "listen_unix",
    "connect_unix",
    # ---- driver (io_uring) ----
    "DriverInfo",
    "driver_info",
    # ---- coordination (issue 16) ----
    "Queue",
    "LifoQueue",
    "PriorityQueue",
    "QueueFull",
    "QueueEmpty",
    "Event",
    "Lock",
    "Semaphore",
    "BoundedSemaphore",
    "Condition",
    # ---- signals and child processes (issue 16, branch sigproc-16) ----
    "add_signal_handler",
    "remove_signal_handler",
    "wait_signal",
    "create_subprocess_exec",
    "Process",
    "PIPE",
    "STDOUT",
    "DEVNULL",
]
