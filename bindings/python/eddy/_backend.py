"""The kernel interface (driver) of a run: epoll or io_uring (``eddy.driver_info``)."""

from __future__ import annotations

from ctypes import byref, c_int, c_uint32
from typing import NamedTuple, Optional

from . import _lib
from ._driver import check, current_runtime
from ._errors import error_from_code


class DriverInfo(NamedTuple):
    """What ``eddy.driver_info()`` reports."""

    name: str
    """``"epoll"`` or ``"io_uring"``: the driver the running runtime waits with."""
    fallback: Optional[BaseException]
    """Why io_uring, asked for (``eddy.run(driver=...)`` or ``$EDDY_DRIVER``), is not
    used: the error of its setup (ENOSYS: not in this kernel or a seccomp filter,
    EPERM: ``kernel.io_uring_disabled`` or a container policy, EOPNOTSUPP: Linux
    older than 5.13); None when the run uses the driver it was asked for."""


def driver_config(driver: Optional[str]) -> Optional[int]:
    """``eddy_config_t.driver`` for ``eddy.run``'s ``driver`` argument; None if invalid."""
    if driver is None:
        return _lib.DRIVER_DEFAULT
    if driver == "epoll":
        return _lib.DRIVER_EPOLL
    if driver == "io_uring":
        return _lib.DRIVER_IO_URING
    return None


def driver_info() -> DriverInfo:
    """The driver of the runtime of the current ``eddy.run`` (RuntimeError outside one)."""
    rt = current_runtime()
    kind = c_uint32()
    fallback = c_int()
    check(rt.lib.eddy_runtime_driver(rt.h, byref(kind), byref(fallback)))
    err = error_from_code(fallback.value) if fallback.value < 0 else None
    return DriverInfo(_lib.DRIVER_NAMES.get(kind.value, "unknown"), err)
