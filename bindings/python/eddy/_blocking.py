"""``eddy.blocking_call``: run a ctypes function on Eddy's blocking pool, and
``eddy.to_thread``: run a Python callable on the same pool."""

from __future__ import annotations

import ctypes
import itertools
from ctypes import byref, c_uint64, c_void_p
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from . import _lib
from ._driver import PID, THEN_FN, Runtime, graveyard, keys, running, then_pending, wait_future
from ._errors import InvalidArgumentError, error_from_code

T = TypeVar("T")

# Return types: ctypes type -> signature code of docs/C-ABI.md (exact types: a
# subclass of a simple type is returned as an instance by ctypes, not handled here).
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


# Argument types, by the ctypes format letter of a simple type (``_type_``, so
# aliases and subclasses are covered): (signature code, the plain ctypes type a C
# function of that prototype reads). Pointer-like types (c_void_p, c_char_p,
# c_wchar_p, POINTER(T), arrays, function pointers) read as c_void_p.
_LONG = "l" if ctypes.sizeof(ctypes.c_long) == 8 else "i"
_ULONG = "L" if ctypes.sizeof(ctypes.c_long) == 8 else "I"
_ARG_SIMPLE = {
    "?": ("i", ctypes.c_bool),
    "b": ("i", ctypes.c_byte),
    "B": ("I", ctypes.c_ubyte),
    "h": ("i", ctypes.c_short),
    "H": ("I", ctypes.c_ushort),
    "i": ("i", ctypes.c_int),
    "I": ("I", ctypes.c_uint),
    "l": (_LONG, ctypes.c_long),
    "L": (_ULONG, ctypes.c_ulong),
    "q": ("l", ctypes.c_longlong),
    "Q": ("L", ctypes.c_ulonglong),
    "c": ("i", ctypes.c_char),
    "u": ("I" if ctypes.sizeof(ctypes.c_wchar) == 4 else "i", ctypes.c_wchar),
    "f": ("f", ctypes.c_float),
    "d": ("d", ctypes.c_double),
    "P": ("p", c_void_p),
    "z": ("p", c_void_p),
    "Z": ("p", c_void_p),
}
_POINTER_LIKE = (ctypes._Pointer, ctypes._CFuncPtr, ctypes.Array)  # type: ignore[attr-defined]


def _arg_code(t: Any, i: int) -> Tuple[str, Any]:
    """(signature code, raw ctypes type) of argument type ``t``."""
    if isinstance(t, type):
        if issubclass(t, ctypes._SimpleCData):  # type: ignore[attr-defined]
            entry = _ARG_SIMPLE.get(t._type_)  # type: ignore[attr-defined]
            if entry is not None:
                return entry
        elif issubclass(t, _POINTER_LIKE):
            return "p", c_void_p
    raise TypeError(
        f"blocking_call(): unsupported type {getattr(t, '__name__', t)!r} of argument {i + 1} "
        "(supported: integer and character types up to 64 bits, c_float, c_double, pointer types, "
        "arrays, function pointers; not structures by value, c_longdouble, py_object)"
    )


_CARG = type(ctypes.byref(ctypes.c_int()))  # what byref() and from_param() return
_NO_PROTO = (ctypes._CFuncPtr, ctypes.Structure, ctypes.Union)  # type: ignore[attr-defined]


def _from_param_crashes(t: Any, a: Any) -> bool:
    """from_param of function-pointer, structure and union types segfaults on
    a byref()/converted argument (a CArgObject), given directly or through
    ``_as_parameter_`` (seen with CPython 3.11; these types have no pointed-to
    type for the CArgObject check). A direct call crashes the interpreter; eddy
    refuses such an argument instead."""
    if not issubclass(t, _NO_PROTO):
        return False
    for _ in range(64):
        if isinstance(a, t):
            return False
        if isinstance(a, _CARG):
            return True
        try:
            a = a._as_parameter_
        except Exception:
            return False  # from_param refuses it
    return False


class ArgumentError(ctypes.ArgumentError, TypeError):
    """An argument ctypes would not convert: raised like ``ctypes.ArgumentError``
    by a direct call, and a ``TypeError`` like eddy's other type checks."""


# Conversion by ctypes itself. Each argument goes through ``argtype.from_param``,
# as in a direct call (same acceptance, same truncation of wide integers, same
# temporaries: a str for c_wchar_p becomes a wide-char buffer the converted
# object owns). The converted objects are then passed, without argtypes, to a
# libffi closure declared with the raw types a C function of that prototype
# reads (pointers as c_void_p): it receives exactly the register values the real
# function would, which become the eddy_value_t arguments. One closure per raw
# signature, cached; nothing is dereferenced.
_readers: Dict[Tuple[Any, ...], Tuple[Any, Any]] = {}
_MAX_READERS = 256


def _reader(raws: Tuple[Any, ...]) -> Tuple[Any, Any]:
    entry = _readers.get(raws)
    if entry is None:
        def read(box: Any, *vals: Any) -> None:
            box.append(vals)

        closure = ctypes.CFUNCTYPE(None, ctypes.py_object, *raws)(read)
        call = ctypes.PYFUNCTYPE(None)(ctypes.cast(closure, c_void_p).value)  # GIL held; extra args: no argtypes
        if len(_readers) >= _MAX_READERS:
            _readers.clear()  # a caller still using an entry holds it
        entry = _readers[raws] = (closure, call)
    return entry


def _prepare(fn: Any, args: Tuple[Any, ...]) -> Tuple[int, bytes, Any, List[Any], Any]:
    if not isinstance(fn, ctypes._CFuncPtr):  # type: ignore[attr-defined]
        raise TypeError(
            f"blocking_call() needs a ctypes function (e.g. ctypes.CDLL(...).name with argtypes/restype), "
            f"not {type(fn).__name__}"
        )
    addr = ctypes.cast(fn, c_void_p).value
    if not addr:
        raise InvalidArgumentError("blocking_call(): NULL function pointer")
    argtypes = fn.argtypes
    if argtypes is None:
        if args:
            raise TypeError("blocking_call(): set fn.argtypes so that the arguments can be converted")
        argtypes = ()
    if len(argtypes) != len(args):
        raise TypeError(f"blocking_call(): {getattr(fn, '__name__', 'function')} takes {len(argtypes)} arguments, {len(args)} given")
    restype = fn.restype
    ret_code = "v" if restype is None else _code_of(restype, "return")
    kinds = [_arg_code(t, i) for i, t in enumerate(argtypes)]
    n = len(args)
    values = (_lib.eddy_value_t * max(n, 1))()
    keep: List[Any] = [fn, values, args]
    converted = []
    for i, (t, a) in enumerate(zip(argtypes, args)):
        if _from_param_crashes(t, a):
            raise ArgumentError(f"argument {i + 1}: TypeError: expected {t.__name__} instance, not a byref()/converted argument")
        try:
            converted.append(t.from_param(a))
        except Exception as e:  # a direct call reports it the same way
            raise ArgumentError(f"argument {i + 1}: {type(e).__name__}: {e}") from None
    keep.append(converted)  # owns the temporaries (wide-char buffers, byref objects)
    if n:
        box: List[Tuple[Any, ...]] = []
        closure, call = _reader(tuple(raw for _, raw in kinds))
        try:
            call(ctypes.py_object(box), *converted)
        except ctypes.ArgumentError as e:  # a custom from_param returned what ctypes cannot pass
            raise ArgumentError(f"argument: {e}") from None
        for v, (code, raw), x in zip(values, kinds, box[0]):
            if code == "p":
                v.p = x
            elif code == "d":
                v.d = x
            elif code == "f":
                v.f = x
            else:
                if raw is ctypes.c_char:
                    x = x[0]
                elif raw is ctypes.c_wchar:
                    x = ord(x)
                if code in ("i", "l"):
                    v.i = int(x)
                else:
                    v.u = x
    sig = (ret_code + "(" + "".join(code for code, _ in kinds) + ")").encode()
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
    default is ``c_int``). Each argument is converted by ctypes itself
    (``argtype.from_param``), exactly as in a direct call ``fn(*args)``: what
    ctypes refuses raises ``ctypes.ArgumentError`` (here also a ``TypeError``).
    Argument types: integers and characters up to 64 bits, ``c_float``,
    ``c_double``, pointer types, arrays and function pointers (not structures by
    value). Buffers passed as pointers, and the temporaries of the conversion,
    stay alive until the call returns, even if the awaiting task is cancelled."""
    rt = running()
    addr, sig, values, keep, restype = _prepare(fn, args)
    lib = rt.lib
    out = c_uint64()
    # Pool threads block every signal from birth (Eddy's BlockingPool): no mask needed here.
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


def _orphan(rt: Runtime, fut: int, keep: List[Any]) -> None:
    """The awaiting task went away while the call may still run on a worker:
    keep ``keep`` alive until Eddy says the call completed."""
    if rt.ended or rt.pid != PID[0]:
        graveyard.append(keep)
        return
    key = next(keys)
    then_pending[key] = (rt, fut, keep)
    rc = rt.lib.eddy_future_then(fut, THEN_FN, key)
    if rc < 0:
        then_pending.pop(key, None)
        graveyard.append(keep)  # cannot know when the worker is done: never free


# to_thread jobs by key: (func, args, box). The pool thread pops its entry under the
# GIL; a cancelled caller pops it first when the job has not started, so a job runs at
# most once and never after its caller gave up on it before it began.
_thread_jobs: Dict[int, Tuple[Callable[..., Any], Tuple[Any, ...], List[Tuple[bool, Any]]]] = {}
_thread_keys = itertools.count(1)


def _thread_job(arg: Optional[int]) -> None:
    """Runs on a thread of Eddy's blocking pool (ctypes takes the GIL for it)."""
    entry = _thread_jobs.pop(arg or 0, None)
    if entry is None:
        return  # cancelled before it started
    func, args, box = entry
    try:
        box.append((True, func(*args)))
    except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
        box.append((False, e))


# One C entry point for every to_thread job (kept alive by this module).
_THREAD_JOB = ctypes.CFUNCTYPE(c_void_p, c_void_p)(_thread_job)


async def to_thread(func: Callable[..., T], *args: Any) -> T:
    """Run the Python callable ``func(*args)`` on a thread of Eddy's blocking pool
    (``eddy_spawn_blocking``, the pool ``blocking_call`` and the C and Swift front
    doors use; ``eddy.run(blocking_threads=...)`` bounds it, default 4; more calls
    queue) and await its result, e.g. for blocking Python code such as name
    resolution. The callable holds the GIL like any Python thread; it sees a pool
    thread (``threading.current_thread()`` is a dummy thread object) with every
    signal blocked.

    Cancellation: if the awaiting task is cancelled before a pool thread started
    ``func``, it never runs; once started it runs to completion and its result is
    discarded."""
    rt = running()
    if rt.current is None:
        raise RuntimeError("to_thread() must be awaited inside an eddy task")
    box: List[Tuple[bool, Any]] = []
    key = next(_thread_keys)
    _thread_jobs[key] = (func, args, box)
    lib = rt.lib
    out = c_uint64()
    rc = lib.eddy_spawn_blocking(rt.h, _THREAD_JOB, key, byref(out))
    if rc < 0:
        _thread_jobs.pop(key, None)
        raise error_from_code(rc)
    fut = out.value
    try:
        await wait_future(rt, fut)
    finally:
        _thread_jobs.pop(key, None)  # not started: it never will
        lib.eddy_future_free(fut)  # a running job finishes in the pool, result discarded
    if not box:  # the runtime abandoned the job (shutting down)
        raise error_from_code(_lib.ESHUTDOWN)
    ok, value = box[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value
