"""``eddy.blocking_call``: run a ctypes function on Eddy's blocking pool, and
``eddy.to_thread``: run a Python callable in a Python thread."""

from __future__ import annotations

import ctypes
import os
import threading
import types
from ctypes import byref, c_uint64, c_void_p
from typing import Any, Callable, Generator, List, Optional, Tuple, TypeVar

from . import _lib
from ._core import (
    SUSPEND,
    _graveyard,
    _keys,
    _Runtime,
    _running,
    _signals_blocked,
    _then_pending,
    _THEN_FN,
    wait_future,
)
from ._errors import error_from_code

T = TypeVar("T")

# ctypes type -> (signature code of docs/C-ABI.md, is_small_int)
_INT_CODES = {}
for _t, _c in (
    (ctypes.c_bool, "i"),
    (ctypes.c_byte, "i"),
    (ctypes.c_ubyte, "I"),
    (ctypes.c_short, "i"),
    (ctypes.c_ushort, "I"),
    (ctypes.c_int, "i"),
    (ctypes.c_uint, "I"),
    (ctypes.c_long, "l" if ctypes.sizeof(ctypes.c_long) == 8 else "i"),
    (ctypes.c_ulong, "L" if ctypes.sizeof(ctypes.c_long) == 8 else "I"),
    (ctypes.c_longlong, "l"),
    (ctypes.c_ulonglong, "L"),
    (ctypes.c_char, "i"),
):
    _INT_CODES[_t] = _c

_FLOAT_CODES = {ctypes.c_double: "d", ctypes.c_float: "f"}
_PTR_TYPES = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p)


def _code_of(t: Any, what: str) -> str:
    if t in _INT_CODES:
        return _INT_CODES[t]
    if t in _FLOAT_CODES:
        return _FLOAT_CODES[t]
    if t in _PTR_TYPES:
        return "p"
    if isinstance(t, type) and issubclass(t, (ctypes._Pointer, ctypes._CFuncPtr)):  # type: ignore[attr-defined]
        return "p"
    raise TypeError(
        f"blocking_call: unsupported {what} type {getattr(t, '__name__', t)!r} "
        "(supported: integer types up to 64 bits, c_float, c_double, pointers)"
    )


def _pointer_value(a: Any, keep: List[Any]) -> int:
    if a is None:
        return 0
    if isinstance(a, bool):
        raise TypeError("blocking_call: a bool is not a pointer")
    if isinstance(a, int):
        if not 0 <= a < 1 << 64:
            raise OverflowError("blocking_call: pointer value out of range")
        return a
    if isinstance(a, str):
        raise TypeError("blocking_call: pass bytes for a char*, not str")
    if isinstance(a, (bytearray, memoryview)):
        mv = memoryview(a)
        if mv.readonly:
            b = mv.tobytes()
            keep.append(b)
            return ctypes.cast(b, c_void_p).value or 0  # type: ignore[arg-type]
        mv = mv.cast("B") if mv.c_contiguous else memoryview(bytearray(mv.tobytes()))
        arr = (ctypes.c_char * mv.nbytes).from_buffer(mv)
        keep.append(arr)
        keep.append(mv)
        return ctypes.addressof(arr)
    try:
        v = ctypes.cast(a, c_void_p).value
    except (ctypes.ArgumentError, TypeError) as e:
        raise TypeError(f"blocking_call: cannot pass {type(a).__name__} as a pointer") from e
    keep.append(a)
    return v or 0


def _prepare(fn: Any, args: Tuple[Any, ...]) -> Tuple[int, bytes, Any, List[Any], Any]:
    if not isinstance(fn, ctypes._CFuncPtr):  # type: ignore[attr-defined]
        raise TypeError(
            f"blocking_call() needs a ctypes function (e.g. ctypes.CDLL(...).name with argtypes/restype), "
            f"not {type(fn).__name__}"
        )
    addr = ctypes.cast(fn, c_void_p).value
    if not addr:
        raise ValueError("blocking_call(): NULL function pointer")
    argtypes = fn.argtypes
    if argtypes is None:
        if args:
            raise TypeError("blocking_call(): set fn.argtypes so that the arguments can be converted")
        argtypes = ()
    if len(argtypes) != len(args):
        raise TypeError(f"blocking_call(): {getattr(fn, '__name__', 'function')} takes {len(argtypes)} arguments, {len(args)} given")
    restype = fn.restype
    ret_code = "v" if restype is None else _code_of(restype, "return")
    codes = [_code_of(t, "argument") for t in argtypes]
    n = len(args)
    values = (_lib.eddy_value_t * max(n, 1))()
    keep: List[Any] = [fn, values]
    for i, (t, c, a) in enumerate(zip(argtypes, codes, args)):
        v = values[i]
        if c == "p":
            v.p = _pointer_value(a, keep)
        elif c in ("d", "f"):
            if isinstance(a, ctypes._SimpleCData):  # type: ignore[attr-defined]
                a = a.value
            if isinstance(a, bool) or not isinstance(a, (int, float)):
                raise TypeError(f"blocking_call(): argument {i + 1} must be a number, not {type(a).__name__}")
            if c == "d":
                v.d = float(a)
            else:
                v.f = float(a)
        else:
            if isinstance(a, ctypes._SimpleCData):  # type: ignore[attr-defined]
                a = a.value
            if t is ctypes.c_char and isinstance(a, bytes) and len(a) == 1:
                a = a[0]
            if t is ctypes.c_bool:
                a = 1 if a else 0
            if not isinstance(a, int):
                raise TypeError(f"blocking_call(): argument {i + 1} must be an int, not {type(a).__name__}")
            if t is not ctypes.c_bool and t is not ctypes.c_char and t(a).value != a:  # type: ignore[union-attr]
                raise OverflowError(f"blocking_call(): argument {i + 1} ({a}) does not fit {t.__name__}")
            if c in ("i", "l"):
                v.i = a
            else:
                v.u = a
    sig = (ret_code + "(" + "".join(codes) + ")").encode()
    return addr, sig, values, keep, restype


def _convert_result(v: Any, restype: Any) -> Any:
    if restype is None:
        return None
    if restype in _FLOAT_CODES:
        return v.d if restype is ctypes.c_double else v.f
    if restype is ctypes.c_bool:
        return bool(v.u & 0xFF)
    if restype is ctypes.c_char:
        return bytes([v.u & 0xFF])
    if restype in _INT_CODES:
        code = _INT_CODES[restype]
        raw = v.i if code in ("i", "l") else v.u
        return restype(raw).value  # type: ignore[union-attr]  # narrows e.g. a short returned in an int register
    p = v.p
    if restype is ctypes.c_void_p:
        return p
    if restype is ctypes.c_char_p:
        return ctypes.string_at(p) if p else None
    if restype is ctypes.c_wchar_p:
        return ctypes.wstring_at(p) if p else None
    return ctypes.cast(p or 0, restype)


async def blocking_call(fn: Any, *args: Any) -> Any:
    """Call the ctypes function ``fn(*args)`` on a thread of Eddy's blocking pool.

    The worker calls the C function pointer directly through libffi, so the GIL
    is not held while it runs. ``fn`` needs ``argtypes`` (and ``restype``; ctypes'
    default is ``c_int``). Buffers passed as pointers stay alive until the call
    returns, even if the awaiting task is cancelled."""
    rt = _running()
    addr, sig, values, keep, restype = _prepare(fn, args)
    lib = rt.lib
    out = c_uint64()
    with _signals_blocked():  # a worker thread created now must not take our signals
        rc = lib.eddy_blocking_call(rt.h, addr, sig, values, len(args), byref(out))
    if rc < 0:
        raise error_from_code(rc)
    fut = out.value
    completed = False
    try:
        await wait_future(rt, fut)
        completed = True
    finally:
        if completed:
            v = _lib.eddy_value_t()
            rc = lib.eddy_future_take_value(fut, byref(v))
            lib.eddy_future_free(fut)
        else:
            _orphan(rt, fut, keep)
    if rc < 0:
        raise error_from_code(rc)
    result = _convert_result(v, restype)
    errcheck = getattr(fn, "errcheck", None)
    if errcheck is not None:
        result = errcheck(result, fn, args)
    return result


def _orphan(rt: _Runtime, fut: int, keep: List[Any]) -> None:
    """The awaiting task went away while the call may still run on a worker:
    keep ``keep`` alive until Eddy says the call completed."""
    if rt.ended or rt.pid != os.getpid():
        _graveyard.append(keep)
        return
    key = next(_keys)
    _then_pending[key] = (rt, fut, keep)
    rc = rt.lib.eddy_future_then(fut, _THEN_FN, key)
    if rc < 0:
        _then_pending.pop(key, None)
        _graveyard.append(keep)  # cannot know when the worker is done: never free


@types.coroutine
def _wait_flag(rt: _Runtime, box: List[Any]) -> Generator[Any, None, None]:
    while not box:
        yield SUSPEND


async def to_thread(func: Callable[..., T], *args: Any) -> T:
    """Run the Python callable ``func(*args)`` in a new Python thread and await
    its result (for blocking Python code, e.g. name resolution). The thread wakes
    the task through its Eddy waker (``eddy_waker_wake`` works from any thread)."""
    rt = _running()
    task = rt.current
    if task is None:
        raise RuntimeError("to_thread() must be awaited inside an eddy task")
    box: List[Tuple[bool, Any]] = []
    lib, waker = rt.lib, task._get_waker()

    def worker() -> None:
        try:
            box.append((True, func(*args)))
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
            box.append((False, e))
        lib.eddy_waker_wake(waker)  # stale handle after the task ended -> EBADHANDLE, harmless

    threading.Thread(target=worker, name="eddy.to_thread", daemon=True).start()
    await _wait_flag(rt, box)
    ok, value = box[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value
