"""Finding and loading libeddy.so, and the ctypes prototypes of include/eddy.h.

Handles (``eddy_runtime_t``, ``eddy_tcp_t`` ...) are one-member structs
``{ uint64_t id; }``. They are declared here as ``c_uint64``: on every 64-bit
Linux ABI (x86-64 SysV, AArch64 AAPCS64, ppc64le ELFv2, riscv64) a struct made of
a single 64-bit integer is passed by value exactly like that integer (one
general-purpose register), and a pointer to it points at the same 8 bytes. This
avoids building a ctypes Structure per call on the hot path.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Union,
    c_char,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Dict, List, Optional

# --- constants (include/eddy.h) -------------------------------------------------
READY = 0
PENDING = 1

# Error codes: negative errno values (the header's `(-EINTR)` ...) and Eddy's own.
EINTR = -errno.EINTR
EAGAIN = -errno.EAGAIN  # channels (issue 16)
ENOMEM = -errno.ENOMEM
EBUSY = -errno.EBUSY
EINVAL = -errno.EINVAL
EMFILE = -errno.EMFILE
EPIPE = -errno.EPIPE
EADDRINUSE = -errno.EADDRINUSE
EADDRNOTAVAIL = -errno.EADDRNOTAVAIL
ECONNRESET = -errno.ECONNRESET
ENOTCONN = -errno.ENOTCONN
ETIMEDOUT = -errno.ETIMEDOUT
ECONNREFUSED = -errno.ECONNREFUSED
ECANCELED = -errno.ECANCELED
EBADHANDLE = -5001
EFORKED = -5002
ESHUTDOWN = -5003
EWRONGTHREAD = -5004
ENOTREADY = -5005
EBADPOLL = -5006
# ---- names (issue 15 item 1): resolver failures, -5100 + glibc's EAI_* value ----
EAI_BADFLAGS = -5101
EAI_NONAME = -5102
EAI_AGAIN = -5103
EAI_FAIL = -5104
EAI_NODATA = -5105
EAI_FAMILY = -5106
EAI_SOCKTYPE = -5107
EAI_SERVICE = -5108
EAI_ADDRFAMILY = -5109
EAI_MEMORY = -5110
EAI_OVERFLOW = -5112

# include/eddy.h's EDDY_ERROR_MAP: code -> (name, message), in its order: word for word
# what eddy_err_name / eddy_strerror return (tests/test_error_table.py checks this copy
# against the header entry by entry). Usable without the library.
ERRORS = {
    READY: ("EDDY_READY", "success"),
    PENDING: ("EDDY_PENDING", "operation pending"),
    EINTR: ("EINTR", "Interrupted system call"),
    EAGAIN: ("EAGAIN", "Resource temporarily unavailable"),
    ENOMEM: ("ENOMEM", "Cannot allocate memory"),
    EBUSY: ("EBUSY", "Device or resource busy"),
    EINVAL: ("EINVAL", "Invalid argument"),
    EMFILE: ("EMFILE", "Too many open files"),
    EPIPE: ("EPIPE", "Broken pipe"),
    EADDRINUSE: ("EADDRINUSE", "Address already in use"),
    EADDRNOTAVAIL: ("EADDRNOTAVAIL", "Cannot assign requested address"),
    ECONNRESET: ("ECONNRESET", "Connection reset by peer"),
    ENOTCONN: ("ENOTCONN", "Transport endpoint is not connected"),
    ETIMEDOUT: ("ETIMEDOUT", "Connection timed out"),
    ECONNREFUSED: ("ECONNREFUSED", "Connection refused"),
    ECANCELED: ("ECANCELED", "Operation canceled"),
    EBADHANDLE: ("EDDY_EBADHANDLE", "stale, forged, wrong-kind or freed handle"),
    EFORKED: ("EDDY_EFORKED", "called in a child process after fork()"),
    ESHUTDOWN: ("EDDY_ESHUTDOWN", "the runtime is shut down or being freed"),
    EWRONGTHREAD: ("EDDY_EWRONGTHREAD", "called from a thread that may not use this runtime or object now"),
    ENOTREADY: ("EDDY_ENOTREADY", "result not available: not complete yet or already taken"),
    EBADPOLL: ("EDDY_EBADPOLL", "poll function returned a value that is not READY, PENDING or negative"),
    # ---- names (issue 15 item 1) ----
    EAI_BADFLAGS: ("EDDY_EAI_BADFLAGS", "Bad value for ai_flags"),
    EAI_NONAME: ("EDDY_EAI_NONAME", "Name or service not known"),
    EAI_AGAIN: ("EDDY_EAI_AGAIN", "Temporary failure in name resolution"),
    EAI_FAIL: ("EDDY_EAI_FAIL", "Non-recoverable failure in name resolution"),
    EAI_NODATA: ("EDDY_EAI_NODATA", "No address associated with hostname"),
    EAI_FAMILY: ("EDDY_EAI_FAMILY", "ai_family not supported"),
    EAI_SOCKTYPE: ("EDDY_EAI_SOCKTYPE", "ai_socktype not supported"),
    EAI_SERVICE: ("EDDY_EAI_SERVICE", "Servname not supported for ai_socktype"),
    EAI_ADDRFAMILY: ("EDDY_EAI_ADDRFAMILY", "Address family for hostname not supported"),
    EAI_MEMORY: ("EDDY_EAI_MEMORY", "Memory allocation failure"),
    EAI_OVERFLOW: ("EDDY_EAI_OVERFLOW", "Argument buffer overflow"),
}

CONFIG_RETURN_ON_SIGNAL = 0x1

# Host-driven tasks (include/eddy.h, "Host-driven tasks"): what _driver hands eddy_host_turn.
HOST_OP_WAIT = 1
HOST_OP_READ = 2
HOST_OP_WRITE = 3
HOST_OP_FINISH = 4
HOST_OP_REPEAT = 0x100
HOST_WOKEN = -5100

# Readiness of caller-owned descriptors (include/eddy.h, eddy_fd_*).
FD_READABLE = 0x1
FD_WRITABLE = 0x2

EXPECTED_MAJOR = 0
EXPECTED_MINOR = 1


class eddy_config_t(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("event_batch", c_uint32),
        ("task_budget", c_uint32),
        ("blocking_threads", c_uint32),
        # ---- driver (io_uring) ----
        ("driver", c_uint32),
        # ---- multi-thread runtime (issue 14, branch mt-14) ----
        ("workers", c_uint32),
    ]


# ---- graceful shutdown (issue 14, branch pool-14) ----
class eddy_shutdown_report_t(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("tasks_finished", ctypes.c_uint64),
        ("tasks_aborted", ctypes.c_uint64),
        ("handles_closed", ctypes.c_uint64),
        ("blocking_abandoned", ctypes.c_uint64),
        ("blocking_running", ctypes.c_uint64),
    ]
# ---- end graceful shutdown ----


# ---- metrics (issue 14, branch pool-14) ----
class eddy_runtime_metrics_t(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32)] + [
        (name, ctypes.c_uint64)
        for name in (
            "polls", "ticks", "parks", "local_queue_depth", "remote_queue_depth", "live_tasks",
            "blocking_threads", "blocking_idle_threads", "blocking_queued", "blocking_running",
            "blocking_completed", "blocking_max_threads",
        )
    ]
# ---- end metrics ----
# ---- driver (io_uring) ----
# eddy_config_t.driver (include/eddy.h): DEFAULT reads $EDDY_DRIVER.
DRIVER_DEFAULT = 0
DRIVER_EPOLL = 1
DRIVER_IO_URING = 2
DRIVER_NAMES = {DRIVER_EPOLL: "epoll", DRIVER_IO_URING: "io_uring"}


class eddy_value_t(Union):
    _fields_ = [
        ("i", c_int64),
        ("u", c_uint64),
        ("d", c_double),
        ("f", c_float),
        ("p", c_void_p),
    ]


# ---- signals and child processes (issue 16, branch sigproc-16) ----
STDIO_INHERIT = 0
STDIO_NULL = 1
STDIO_PIPE = 2
STDIO_STDOUT = 3
# ---- end signals and child processes ----
# ---- issue 15: eddy_addr_t ----
ADDR_IPV4 = 4  # EDDY_ADDR_IPV4
ADDR_IPV6 = 6  # EDDY_ADDR_IPV6


class eddy_addr_t(ctypes.Structure):
    """include/eddy.h's by-value socket address."""

    _fields_ = [
        ("family", ctypes.c_uint16),
        ("port", ctypes.c_uint16),
        ("scope_id", ctypes.c_uint32),
        ("addr", ctypes.c_uint8 * 16),
    ]


# ---- end issue 15 ----

H = c_uint64  # every handle type, see the module docstring
PH = POINTER(c_uint64)

# int (*eddy_poll_fn)(void *state, eddy_cx_t *cx)
POLL_FN = CFUNCTYPE(c_int, c_void_p, c_void_p)
# void (*eddy_drop_fn)(void *state)
DROP_FN = CFUNCTYPE(None, c_void_p)
# void (*eddy_then_fn)(void *user, int status)
THEN_FN = CFUNCTYPE(None, c_void_p, c_int)


class LibraryNotFoundError(ImportError):
    """libeddy.so could not be found or loaded."""


# The name the system loader knows the library by: the soname `make install` creates.
SYSTEM_NAME = "libeddy.so.0"


def _checkout_builds(here: Path) -> List[Path]:
    """The repository's build folders, when the package is imported from a source
    checkout (bindings/python/eddy with ../../Package.swift); nothing for an installed copy."""
    repo = (here / ".." / ".." / "..").resolve()
    if not (repo / "Package.swift").is_file():
        return []
    places = [repo / ".build" / "release" / "libeddy.so"]
    try:
        extra = sorted(
            (p for p in repo.glob(".build*/release/libeddy.so") if p not in places),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
    except OSError:
        extra = []
    return places + extra


_lib: Optional[ctypes.CDLL] = None
_path: Optional[str] = None

_HOW_TO_FIX = (
    "Fix: `pip install /path/to/eddy/bindings/python` (the wheel builds and carries libeddy.so), "
    "or `make install` + `ldconfig` (or LD_LIBRARY_PATH=<prefix>/lib) for the system loader, "
    "or EDDY_LIBRARY=/path/to/libeddy.so."
)


def _open(path: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(path)  # CDLL: the GIL is released during every call
    except OSError as e:
        raise LibraryNotFoundError(f"cannot load {path}: {e}. {_HOW_TO_FIX}") from e


def _find() -> "tuple[ctypes.CDLL, str]":
    """The library and the name it was opened by, in this order: $EDDY_LIBRARY; the copy
    inside the package (a wheel's); the build folders of a source checkout; the system
    loader (libeddy.so.0 through LD_LIBRARY_PATH, ld.so.cache, the default folders)."""
    env = os.environ.get("EDDY_LIBRARY")
    if env:  # an explicit choice: no fallback that would hide a typo
        if not os.path.isfile(env):
            raise LibraryNotFoundError(
                f"EDDY_LIBRARY={env!r} does not name an existing file (unset it to search the default places)"
            )
        return _open(env), env
    here = Path(__file__).resolve().parent
    tried = ["$EDDY_LIBRARY (unset)"]
    for cand in [here / "libeddy.so", *_checkout_builds(here)]:
        if cand.is_file():
            return _open(str(cand)), str(cand)
        tried.append(str(cand))
    try:
        return ctypes.CDLL(SYSTEM_NAME), SYSTEM_NAME
    except OSError as e:
        tried.append(f"the system loader: {SYSTEM_NAME} ({e})")
    raise LibraryNotFoundError("libeddy.so not found. Tried: " + "; ".join(tried) + ". " + _HOW_TO_FIX)


def load() -> ctypes.CDLL:
    """Load libeddy.so once (see _find for where it is looked for)."""
    global _lib, _path
    if _lib is not None:
        return _lib
    lib, path = _find()
    _declare(lib)
    _path = path
    v = lib.eddy_version()
    major, minor = (v >> 16) & 0xFF, (v >> 8) & 0xFF
    if major != EXPECTED_MAJOR or minor < EXPECTED_MINOR:
        raise LibraryNotFoundError(
            f"{path} is Eddy {major}.{minor}, this binding needs {EXPECTED_MAJOR}.{EXPECTED_MINOR} or a later {EXPECTED_MAJOR}.x"
        )
    _lib = lib
    return lib


def _declare(lib: ctypes.CDLL) -> None:
    def f(name: str, restype: object, *argtypes: object) -> None:
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)

    f("eddy_version", c_uint)
    f("eddy_version_string", c_char_p)
    f("eddy_strerror", c_char_p, c_int)
    f("eddy_err_name", c_char_p, c_int)

    f("eddy_config_init", c_int, POINTER(eddy_config_t))
    f("eddy_runtime_new", c_int, POINTER(eddy_config_t), PH)
    f("eddy_runtime_run", c_int, H)
    f("eddy_runtime_run_until", c_int, H, H, POINTER(c_int))
    f("eddy_block_on", c_int, H, POLL_FN, c_void_p, DROP_FN, POINTER(c_int))
    f("eddy_runtime_free", c_int, H)
    f("eddy_runtime_shutdown", c_int, H, ctypes.c_uint64, c_void_p)  # graceful shutdown (pool-14)
    f("eddy_runtime_metrics", c_int, H, c_void_p)  # metrics (pool-14)
    # ---- driver (io_uring) ----
    f("eddy_runtime_driver", c_int, H, POINTER(c_uint32), POINTER(c_int))
    # ---- multi-thread runtime (issue 14, branch mt-14) ----
    f("eddy_runtime_workers", c_int, H, POINTER(c_uint32))
    f("eddy_runtime_worker_metrics", c_int, H, c_uint32, c_void_p)
    f("eddy_spawn_on", c_int, H, c_uint32, POLL_FN, c_void_p, DROP_FN, PH)

    f("eddy_spawn", c_int, H, POLL_FN, c_void_p, DROP_FN, PH)
    f("eddy_task_poll_join", c_int, H, c_void_p, POINTER(c_int))
    f("eddy_task_status", c_int, H, POINTER(c_int))
    f("eddy_task_abort", c_int, H)
    f("eddy_task_free", c_int, H)

    f("eddy_cx_waker", c_int, c_void_p, PH)
    f("eddy_cx_runtime", c_int, c_void_p, PH)
    f("eddy_waker_wake", c_int, H)
    f("eddy_waker_free", c_int, H)

    f("eddy_tcp_listen", c_int, H, c_char_p, c_uint16, c_int, PH)
    f("eddy_tcp_poll_accept", c_int, H, c_void_p, PH)
    f("eddy_tcp_poll_read", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t))
    f("eddy_tcp_poll_write", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t))
    f("eddy_tcp_poll_shutdown", c_int, H, c_void_p)
    f("eddy_tcp_local_port", c_int, H, POINTER(c_uint16))
    f("eddy_tcp_set_nodelay", c_int, H, c_int)
    f("eddy_tcp_fd", c_int, H, POINTER(c_int))
    f("eddy_tcp_close", c_int, H)

    f("eddy_tcp_connect", c_int, H, c_char_p, c_uint16, PH)
    f("eddy_sleep", c_int, H, c_uint64, PH)
    f("eddy_timeout", c_int, H, H, c_uint64, PH)
    f("eddy_future_poll", c_int, H, c_void_p)
    f("eddy_future_take_tcp", c_int, H, PH)
    f("eddy_future_take_value", c_int, H, POINTER(eddy_value_t))
    f("eddy_future_then", c_int, H, THEN_FN, c_void_p)
    f("eddy_future_free", c_int, H)

    f("eddy_blocking_call", c_int, H, c_void_p, c_char_p, POINTER(eddy_value_t), c_size_t, PH)
    f("eddy_spawn_blocking", c_int, H, c_void_p, c_void_p, PH)

    f("eddy_fd_watch", c_int, H, c_int, PH)
    f("eddy_fd_poll_ready", c_int, H, c_void_p, c_uint32, POINTER(c_uint32))
    f("eddy_fd_clear_ready", c_int, H, c_uint32)
    f("eddy_fd_free", c_int, H)

    f("eddy_host_spawn", c_int, H, PH)
    f("eddy_host_turn", c_int, c_void_p)
    f("eddy_host_enter", c_int, H, H, POINTER(c_void_p))
    f("eddy_host_wake", c_int, H, H)
    f("eddy_host_write", c_int, H, H, c_void_p, c_size_t)

    # ---- issue 15: UDP, addresses, options ----
    PA = POINTER(eddy_addr_t)
    f("eddy_addr_parse", c_int, c_char_p, c_uint16, PA)
    f("eddy_addr_format", c_int, PA, c_char_p, c_size_t)
    f("eddy_udp_bind", c_int, H, c_char_p, c_uint16, c_uint32, PH)
    f("eddy_udp_from_fd", c_int, H, c_int, PH)
    f("eddy_udp_connect", c_int, H, PA)
    f("eddy_udp_poll_recv_from", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t), PA, POINTER(c_int))
    f("eddy_udp_poll_send_to", c_int, H, c_void_p, c_void_p, c_size_t, PA, POINTER(c_size_t))
    f("eddy_udp_poll_recv", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t), POINTER(c_int))
    f("eddy_udp_poll_send", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t))
    f("eddy_udp_set_option", c_int, H, c_int, c_int)
    f("eddy_udp_get_option", c_int, H, c_int, POINTER(c_int))
    f("eddy_udp_multicast", c_int, H, c_char_p, c_uint32, c_int)
    f("eddy_udp_local_addr", c_int, H, PA)
    f("eddy_udp_peer_addr", c_int, H, PA)
    f("eddy_udp_fd", c_int, H, POINTER(c_int))
    f("eddy_udp_close", c_int, H)
    f("eddy_tcp_listen_flags", c_int, H, c_char_p, c_uint16, c_int, c_uint32, PH)
    f("eddy_tcp_listener_from_fd", c_int, H, c_int, PH)
    f("eddy_tcp_stream_from_fd", c_int, H, c_int, PH)
    f("eddy_tcp_shutdown", c_int, H, c_int)
    f("eddy_tcp_local_addr", c_int, H, PA)
    f("eddy_tcp_peer_addr", c_int, H, PA)
    f("eddy_tcp_set_option", c_int, H, c_int, c_int)
    f("eddy_tcp_get_option", c_int, H, c_int, POINTER(c_int))
    f("eddy_unix_listen", c_int, H, c_char_p, c_int, c_uint32, PH)
    f("eddy_unix_connect", c_int, H, c_char_p, PH)
    f("eddy_tcp_peer_cred", c_int, H, POINTER(ctypes.c_int32), POINTER(c_uint32), POINTER(c_uint32))
    f("eddy_tcp_poll_send_fd", c_int, H, c_void_p, c_int)
    f("eddy_tcp_poll_recv_fd", c_int, H, c_void_p, POINTER(c_int))
    # ---- end issue 15 ----
    # ---- names (issue 15 item 1) ----
    f("eddy_resolve", c_int, H, c_char_p, c_uint16, PH)
    f("eddy_future_get_addrs", c_int, H, PA, c_size_t, POINTER(c_size_t))
    f("eddy_tcp_connect_addrs", c_int, H, PA, c_size_t, PH)
    f("eddy_tcp_listen_addr", c_int, H, PA, c_int, c_uint32, PH)
    # ---- end names ----
    # ---- Unix datagram sockets (issue 15 item 3) ----
    f("eddy_unixdgram_bind", c_int, H, c_char_p, c_uint32, PH)
    f("eddy_unixdgram_connect", c_int, H, c_char_p)
    f("eddy_unixdgram_poll_recv_from", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t), c_char_p, c_size_t,
      POINTER(c_int))
    f("eddy_unixdgram_poll_send_to", c_int, H, c_void_p, c_void_p, c_size_t, c_char_p, POINTER(c_size_t))
    f("eddy_unixdgram_poll_recv", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t), POINTER(c_int))
    f("eddy_unixdgram_poll_send", c_int, H, c_void_p, c_void_p, c_size_t, POINTER(c_size_t))
    f("eddy_unixdgram_fd", c_int, H, POINTER(c_int))
    f("eddy_unixdgram_close", c_int, H)
    f("eddy_unixdgram_from_fd", c_int, H, c_int, PH)
    f("eddy_unixdgram_local_addr", c_int, H, c_char_p, c_size_t)
    f("eddy_unixdgram_peer_addr", c_int, H, c_char_p, c_size_t)
    # ---- end Unix datagram sockets ----
    # ---- time and combinators (issue 16, item 6) ----
    f("eddy_now", c_int, H, POINTER(ctypes.c_uint64))
    f("eddy_runtime_clock_pause", c_int, H)
    f("eddy_runtime_clock_resume", c_int, H)
    f("eddy_runtime_clock_advance", c_int, H, ctypes.c_uint64)
    f("eddy_sleep_until", c_int, H, ctypes.c_uint64, PH)
    f("eddy_interval_new", c_int, H, ctypes.c_uint64, ctypes.c_uint64, c_int, PH)
    f("eddy_interval_poll_tick", c_int, H, c_void_p, POINTER(ctypes.c_uint64))
    f("eddy_interval_free", c_int, H)
    # ---- end time and combinators ----
    # ---- signals and child processes (issue 16, branch sigproc-16) ----
    f("eddy_signal_watch", c_int, H, POINTER(c_int), c_size_t, PH)
    f("eddy_signal_poll", c_int, H, c_void_p, POINTER(c_int))
    f("eddy_signal_free", c_int, H)
    f("eddy_process_spawn", c_int, H, POINTER(c_char_p), POINTER(c_char_p), c_char_p, POINTER(c_int), PH)
    f("eddy_process_pid", c_int, H, POINTER(ctypes.c_int32))
    f("eddy_process_take_stdio", c_int, H, c_int, PH)
    f("eddy_process_poll_wait", c_int, H, c_void_p, POINTER(c_int), POINTER(c_int))
    f("eddy_process_kill", c_int, H, c_int)
    f("eddy_process_free", c_int, H)
    # ---- end signals and child processes ----


# --- the hot path: an argument-type-free call ----------------------------------
#
# A ctypes call with ``argtypes`` runs ``argtype.from_param(arg)`` for every
# argument (an isinstance() through the ctypes metaclass, a format-table scan and
# a temporary object: ~900 instructions per argument). The call made once per
# loop turn, eddy_host_turn, and the one made per write, eddy_host_write, use
# prototypes without argtypes and arguments ctypes converts without any
# Python-level call:
#   - handles and pointers: ``u64arg(v)``, a prebuilt ``byref`` argument whose
#     pointer value is ``v`` (``byref(obj, offset)`` passes ``address(obj) +
#     offset``; obj sits at address 0). A 64-bit value in a general-purpose
#     register, exactly as a ``uint64_t`` / pointer parameter;
#   - lengths: a plain ``int`` below 2**31 (ctypes passes it as a C int, sign-
#     extended to 64 bits by libffi: the same register value as a ``size_t``),
#     otherwise a ``c_size_t``; see ``szarg``;
#   - buffers: ``bytes`` (a pointer to its data) or a ``u64arg`` address;
#   - out-parameters: a prebuilt ``byref``.
# eddy_host_turn is loaded through CDLL: the GIL is released while the turn waits
# in the reactor (a to_thread worker needs it to finish and wake the loop).

_ZERO = c_char.from_address(0)  # never dereferenced: only its address (0) is used
INT_MAX = 0x7FFFFFFF


def u64arg(v: int) -> object:
    """A ready-made call argument passing the 64-bit value ``v`` (handle, pointer)
    to an argtypes-free prototype of this module."""
    if 0 <= v < (1 << 63):
        return ctypes.byref(_ZERO, v)
    return c_uint64(v)


def szarg(v: int) -> object:
    """A ``size_t`` argument for an argtypes-free prototype."""
    return v if 0 <= v <= INT_MAX else c_size_t(v)


class Fast:
    """Argtypes-free prototypes of the hot-path calls (see above)."""

    __slots__ = ("host_turn", "host_write")

    def __init__(self) -> None:
        load()
        assert _path is not None
        fn = ctypes.CDLL(_path).eddy_host_turn
        fn.restype = c_int
        fn.argtypes = None
        self.host_turn = fn
        # PyDLL (GIL held): eddy_host_write never blocks, takes no lock and never
        # calls back into Python; it is called once per write.
        fn = ctypes.PyDLL(_path).eddy_host_write
        fn.restype = c_int
        fn.argtypes = None
        self.host_write = fn


# ---- datagram hot path (issue 15): the per-datagram calls, argtypes-free ----
_fast_calls: Dict[str, Any] = {}


def fast_call(name: str) -> Any:
    """An argtypes-free prototype of ``name`` (arguments as described above), for
    the eddy_udp_poll_* functions called once per datagram: through PyDLL (the GIL
    stays held: they never block, wait for no lock a Python thread holds and never
    call back into Python, as eddy_host_write). ~3 400 instructions per call, Eddy's
    work included, instead of ~12 000 with argtypes (docs/NETWORKING.md, UDP echo)."""
    fn = _fast_calls.get(name)
    if fn is None:
        load()
        assert _path is not None
        fn = getattr(ctypes.PyDLL(_path), name)
        fn.restype = c_int
        fn.argtypes = None
        _fast_calls[name] = fn
    return fn
# ---- end datagram hot path ----


_fast: Optional[Fast] = None


def fast() -> Fast:
    global _fast
    if _fast is None:
        _fast = Fast()
    return _fast




def strerror(code: int) -> str:
    lib = load()
    s = lib.eddy_strerror(int(code))
    return s.decode("utf-8", "replace") if s else "unknown error"


def err_name(code: int) -> str:
    lib = load()
    s = lib.eddy_err_name(int(code))
    return s.decode("utf-8", "replace") if s else "unknown"


def version() -> str:
    s = load().eddy_version_string()
    return s.decode() if s else ""


__all__ = ["load", "LibraryNotFoundError", "strerror", "err_name", "version"]

if sys.maxsize <= 2**32:  # pragma: no cover - documented limitation
    raise ImportError("eddy's ctypes binding supports 64-bit platforms only")
