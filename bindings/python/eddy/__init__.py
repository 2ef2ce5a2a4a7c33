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
from ._queue import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown
from ._sync import BoundedSemaphore, Condition, Event, Lock, Semaphore
# ---- broadcast and watch channels (issue 16 item 1, branch bcast-16) ----
from ._broadcast import Broadcast, BroadcastReceiver, ChannelClosed, Lagged, Watch, WatchReceiver
# ---- oneshot channel (issue 16 item 1, branch audit-16) ----
from ._oneshot import OneshotReceiver, OneshotSender, oneshot

# ---- graceful shutdown (issue 14, branch pool-14) ----
from ._shutdown import ShutdownReport, shutdown, shutdown_report
from ._diagnostics import RuntimeMetrics, TaskInfo, metrics, task_dump
# ---- issue 15: UDP ----
from ._addr import SocketOption
from ._udp import Datagram, UdpSocket, bind_udp
from ._net import connect_unix, listen_unix

# ---- end issue 15 ----
# ---- lines and files (issue 15 item 5, issue 16 item 5; branch lines-15) ----
from ._lines import LimitOverrunError
from ._files import AsyncFile, open_file, read_file, write_file

# ---- end lines and files ----
# ---- names (issue 15 item 1) ----
from ._names import resolve
from ._net import connect_addresses
from ._errors import NameResolutionError

# ---- end names ----
# ---- Unix datagram sockets (issue 15 item 3) ----
from ._unix_dgram import UnixDatagram, UnixDatagramSocket, bind_unix_datagram

# ---- end Unix datagram sockets ----
# ---- driver (io_uring) ----
from ._backend import DriverInfo, driver_info
# ---- multi-thread runtime (issue 14, branch mt-14) ----
from ._diagnostics import runtime_handle, worker_metrics
# ---- time and combinators (issue 16, item 6) ----
from ._clock import BURST, DELAY, SKIP, Interval, advance_clock, clock, interval, pause_clock, resume_clock, sleep_until, timeout_at
from ._combinators import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, TaskGroup, as_completed, shield, wait
from ._fdready import wait_readable, wait_writable
# ---- end time and combinators ----
# ---- signals and child processes (issue 16, branch sigproc-16) ----
from ._signals import add_signal_handler, remove_signal_handler, wait_signal
from ._process import DEVNULL, PIPE, STDOUT, Process, create_subprocess_exec, create_subprocess_shell
from ._procstreams import StreamReader, StreamWriter

# ---- end signals and child processes ----
# ---- asyncio event loop (issue 17, branch loop-17) ----
from .loop import EventLoop, EventLoopPolicy, install, new_event_loop

# ---- end asyncio event loop ----

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
    "timeout_at",
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
    # ---- multi-thread runtime (issue 14, branch mt-14) ----
    "worker_metrics",
    "runtime_handle",
    # ---- issue 15 ----
    "bind_udp",
    "UdpSocket",
    "Datagram",
    "SocketOption",
    "listen_unix",
    "connect_unix",
    # ---- names (issue 15 item 1) ----
    "resolve",
    "connect_addresses",
    "NameResolutionError",
    # ---- Unix datagram sockets (issue 15 item 3) ----
    "bind_unix_datagram",
    "UnixDatagramSocket",
    "UnixDatagram",
    # ---- driver (io_uring) ----
    "DriverInfo",
    "driver_info",
    # ---- coordination (issue 16) ----
    "Queue",
    "LifoQueue",
    "PriorityQueue",
    "QueueFull",
    "QueueEmpty",
    "QueueShutDown",
    # ---- broadcast and watch channels (issue 16 item 1, branch bcast-16) ----
    "Broadcast",
    "BroadcastReceiver",
    "Watch",
    "WatchReceiver",
    "ChannelClosed",
    "Lagged",
    # ---- oneshot channel (issue 16 item 1, branch audit-16) ----
    "oneshot",
    "OneshotSender",
    "OneshotReceiver",
    "Event",
    "Lock",
    "Semaphore",
    "BoundedSemaphore",
    "Condition",
    # ---- lines and files (issue 15 item 5, issue 16 item 5; branch lines-15) ----
    "LimitOverrunError",
    "AsyncFile",
    "open_file",
    "read_file",
    "write_file",
    # ---- time and combinators (issue 16, item 6) ----
    "wait",
    "as_completed",
    "shield",
    "TaskGroup",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "ALL_COMPLETED",
    "wait_readable",
    "wait_writable",
    "clock",
    "sleep_until",
    "interval",
    "Interval",
    "BURST",
    "DELAY",
    "SKIP",
    "pause_clock",
    "resume_clock",
    "advance_clock",
    # ---- signals and child processes (issue 16, branch sigproc-16) ----
    "add_signal_handler",
    "remove_signal_handler",
    "wait_signal",
    "create_subprocess_exec",
    "create_subprocess_shell",
    "Process",
    "PIPE",
    "STDOUT",
    "DEVNULL",
    "StreamReader",
    "StreamWriter",
    # ---- asyncio event loop (issue 17, branch loop-17) ----
    "EventLoop",
    "EventLoopPolicy",
    "new_event_loop",
    "install",
]
