"""Exceptions of the eddy binding and the mapping from C error codes."""

from __future__ import annotations

import asyncio
import socket
from typing import Optional

from . import _lib


class EddyError(OSError):
    """An error of Eddy itself (codes below -5000 in include/eddy.h).

    Its message is the code's one message (eddy_strerror), followed by what
    the error is about when the binding knows it.

    ``code`` is the negative C code, ``name`` its symbolic name
    (``EDDY_EBADHANDLE`` ...). Errors that have an errno are raised as the
    matching built-in ``OSError`` subclass instead (``ConnectionRefusedError``...).
    """

    code: int
    name: str

    def __init__(self, code: int, message: Optional[str] = None) -> None:
        if message is None:
            message = _safe_strerror(code)
        super().__init__(message)
        self.code = code
        self.name = _safe_name(code)

    def __str__(self) -> str:
        return f"[{self.name}] {self.args[0] if self.args else ''}"


# ---- names (issue 15 item 1) ----
class NameResolutionError(EddyError, socket.gaierror):
    """A host name that did not resolve (the C codes ``EDDY_EAI_*``, outside the
    errno range). A ``socket.gaierror`` too, which is what asyncio code catches.
    ``code`` / ``name`` are Eddy's (``EDDY_EAI_NONAME`` ...), ``host`` the name,
    and the message getaddrinfo's, with the host:
    ``[EDDY_EAI_NONAME] cannot resolve 'nonexistent.invalid': Name or service not known``."""

    host: Optional[str]

    def __init__(self, code: int, host: Optional[str] = None) -> None:
        text = _safe_strerror(code)
        super().__init__(code, f"cannot resolve {host!r}: {text}" if host is not None else text)
        self.host = host

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return type(self), (self.code, self.host)


def is_resolver_code(code: int) -> bool:
    """``EDDY_EAI_*``: -5100 + glibc's EAI value (-1 ... -12)."""
    return -5112 <= code <= -5101


# ---- end names ----


class InvalidArgumentError(OSError, ValueError):
    """An invalid argument value: a negative or absurd size, count or delay, a
    bad port ... Raised by the binding's own checks and for a C call's
    ``EDDY_EINVAL``: an ``OSError`` with ``errno == errno.EINVAL``, and a
    ``ValueError`` (what Python code expects for a bad value)."""

    def __init__(self, detail: Optional[str] = None) -> None:
        text = _safe_strerror(_lib.EINVAL)
        super().__init__(-_lib.EINVAL, f"{text}: {detail}" if detail else text)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return type(self), (self.strerror,)


# Sizes beyond SSIZE_MAX are EINVAL, as in the C API (which takes them as size_t
# but refuses what does not fit a signed size).
MAX_SIZE = (1 << 63) - 1


def check_size(n: object, what: str) -> int:
    """``n`` as a size in 0..MAX_SIZE: TypeError for a non-int (bool included),
    InvalidArgumentError out of range."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, not {type(n).__name__}")
    if not 0 <= n <= MAX_SIZE:
        raise InvalidArgumentError(f"{what} must be in 0..2**63-1, got {n}")
    return n


class ClosedResourceError(EddyError):
    """An operation on a stream or listener that was already closed."""

    def __init__(self, what: str = "resource") -> None:
        super().__init__(_lib.EBADHANDLE, f"{_safe_strerror(_lib.EBADHANDLE)}: {what} is closed")


class RuntimeEndedError(EddyError):
    """An object is used after the ``eddy.run`` that created it returned."""

    def __init__(self, what: str = "object") -> None:
        super().__init__(_lib.ESHUTDOWN, f"{_safe_strerror(_lib.ESHUTDOWN)}: the eddy.run() owning this {what} has ended")


class ForkedError(EddyError):
    """Eddy objects are used in a child process after ``fork()``."""

    def __init__(self) -> None:
        super().__init__(_lib.EFORKED, f"{_safe_strerror(_lib.EFORKED)}: eddy objects cannot be used in a child process after fork()")


class CancelledError(asyncio.CancelledError):
    """Raised inside a task at its current await point by ``Task.cancel()``.

    A subclass of ``asyncio.CancelledError`` (hence a ``BaseException``, so
    ``except Exception`` does not swallow it).
    """


class TimeoutCancel(CancelledError):
    """Internal: the cancellation thrown by an expired ``eddy.timeout``."""

    def __init__(self, owner: object) -> None:
        super().__init__("timeout expired")
        self.owner = owner


class InvalidStateError(Exception):
    """``Task.result()`` / ``exception()`` called on a task that is not done."""


class IncompleteReadError(asyncio.IncompleteReadError):
    """``readexactly(n)`` / ``readuntil()`` reached end of stream first:
    ``.partial`` holds the bytes read, ``.expected`` the size asked for (None
    for ``readuntil``). A subclass of asyncio's (an ``EOFError``), so code
    written for asyncio's streams catches it."""


def _safe_strerror(code: int) -> str:
    try:
        return _lib.strerror(code)
    except Exception:  # library not loadable: still produce an error
        return f"error {code}"


def _safe_name(code: int) -> str:
    try:
        return _lib.err_name(code)
    except Exception:
        return str(code)


def error_from_code(code: int) -> BaseException:
    """The Python exception for a negative C error code."""
    if code == _lib.ECANCELED:
        return CancelledError("cancelled by the runtime")
    if code == _lib.EFORKED:
        return ForkedError()
    if is_resolver_code(code):
        return NameResolutionError(code)
    if code <= -5000:
        return EddyError(code)
    if code == _lib.EINVAL:
        return InvalidArgumentError()
    errno = -code
    # OSError(errno, msg) picks the built-in subclass: ConnectionRefusedError,
    # ConnectionResetError, BrokenPipeError, TimeoutError, ...
    return OSError(errno, _safe_strerror(code))


def check(code: int) -> int:
    if code < 0:
        raise error_from_code(code)
    return code
