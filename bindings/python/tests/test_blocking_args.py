"""eddy.blocking_call converts its arguments exactly as a direct ctypes call does.

The callee is a ctypes callback (a libffi closure) that only records the raw
values it receives: it never dereferences a pointer, so any value ctypes accepts
is safe to pass, and the values eddy's worker delivers can be compared with the
ones a direct ctypes call delivers to the same closure (issue 11, bug 2)."""
from __future__ import annotations

import ctypes
import math
import os
from ctypes import POINTER, c_void_p

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import eddy
from conftest import assert_not_killed, run_snippet


def test_issue_repro_int_for_char_p_is_refused_not_a_crash():
    # The exact snippet of issue 11 (bug 2), in a child: a segfault fails this test
    # instead of killing pytest.
    p = run_snippet(
        """
        import ctypes, eddy
        libc = ctypes.CDLL(None)
        strlen = libc.strlen; strlen.argtypes = [ctypes.c_char_p]; strlen.restype = ctypes.c_size_t
        async def main():
            try:
                await eddy.blocking_call(strlen, 5)
            except ctypes.ArgumentError as e:
                print("refused:", type(e).__name__, isinstance(e, TypeError), e)
            return await eddy.blocking_call(strlen, b"hello")
        print("result:", eddy.run(main()))
        try:
            strlen(5)
        except ctypes.ArgumentError as e:
            print("ctypes:", e)
        """
    )
    assert_not_killed(p)
    assert p.returncode == 0, p.stderr
    assert "refused: ArgumentError True argument 1: TypeError: wrong type" in p.stdout, p.stdout
    assert "ctypes: argument 1: TypeError: wrong type" in p.stdout, p.stdout
    assert "result: 5" in p.stdout, p.stdout


# ---------------------------------------------------------------- the property


class Pair(ctypes.Structure):
    _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_double)]


class Handle(c_void_p):
    """A user subclass of a pointer type (the windll-style HANDLE idiom)."""


class MyInt(ctypes.c_int):
    pass


CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
INT3 = ctypes.c_int * 3

# Every argument type eddy can pass: integers of every width and signedness,
# floats, characters, the pointer types, pointers, arrays, function pointers,
# subclasses.
SUPPORTED = [
    ctypes.c_bool, ctypes.c_byte, ctypes.c_ubyte, ctypes.c_short, ctypes.c_ushort, ctypes.c_int, ctypes.c_uint,
    ctypes.c_long, ctypes.c_ulong, ctypes.c_longlong, ctypes.c_ulonglong, ctypes.c_size_t, ctypes.c_ssize_t,
    ctypes.c_int8, ctypes.c_uint8, ctypes.c_int16, ctypes.c_uint16, ctypes.c_int32, ctypes.c_uint32,
    ctypes.c_int64, ctypes.c_uint64, ctypes.c_float, ctypes.c_double, ctypes.c_char, ctypes.c_wchar,
    ctypes.c_char_p, ctypes.c_void_p, ctypes.c_wchar_p, POINTER(ctypes.c_int), POINTER(ctypes.c_char),
    POINTER(Pair), CALLBACK, INT3, Handle, MyInt,
]
# Types ctypes can pass and eddy's signatures (docs/C-ABI.md) cannot: refused up front.
UNSUPPORTED = [Pair, ctypes.c_longdouble, ctypes.py_object]

# Raw type the recording closure declares for each argument type: what a C
# function of that prototype reads from its registers (pointers as integers).
_RAW = {c: getattr(ctypes, n) for c, n in (
    ("?", "c_bool"), ("b", "c_byte"), ("B", "c_ubyte"), ("h", "c_short"), ("H", "c_ushort"), ("i", "c_int"),
    ("I", "c_uint"), ("l", "c_long"), ("L", "c_ulong"), ("q", "c_longlong"), ("Q", "c_ulonglong"),
    ("f", "c_float"), ("d", "c_double"), ("c", "c_char"), ("u", "c_wchar"),
)}


def raw_type(t):
    if issubclass(t, ctypes._SimpleCData) and t._type_ in _RAW:
        return _RAW[t._type_]
    return c_void_p


_ints = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 127, 128, 255, 256, -128, -129, 2**15, 2**16, 2**31 - 1, 2**31, -(2**31), 2**32,
                     2**63 - 1, 2**63, -(2**63), 2**64 - 1, 2**64, -(2**64), 0x10FFFF, 0x110000]),
)


def _values():
    # Built lazily (hypothesis calls these per example): fresh ctypes objects each time.
    return st.one_of(
        _ints,
        st.booleans(),
        st.none(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.binary(max_size=8),
        st.text(max_size=4),
        st.builds(bytearray, st.binary(max_size=3)),
        st.builds(lambda b: memoryview(bytearray(b)), st.binary(min_size=1, max_size=3)),
        st.builds(ctypes.c_int, st.integers(-5, 5)),
        st.builds(ctypes.c_double, st.floats(-10, 10)),
        st.builds(ctypes.c_char_p, st.binary(max_size=4)),
        st.builds(ctypes.c_void_p, st.integers(0, 2**64 - 1)),
        st.builds(ctypes.c_wchar_p, st.text(max_size=4)),
        st.builds(ctypes.c_char, st.binary(min_size=1, max_size=1)),
        st.builds(lambda v: ctypes.pointer(ctypes.c_int(v)), st.integers(-5, 5)),
        st.builds(lambda: ctypes.byref(ctypes.c_int(7))),
        st.builds(lambda: ctypes.byref(Pair(1, 2.0))),
        st.builds(lambda: Pair(1, 2.0)),
        st.builds(lambda: ctypes.pointer(Pair(3, 4.0))),
        st.builds(lambda: INT3(1, 2, 3)),
        st.builds(lambda n: ctypes.create_string_buffer(n), st.integers(1, 8)),
        st.builds(lambda: CALLBACK(lambda x: x)),
        st.builds(lambda: Handle(1234)),
        st.builds(lambda: MyInt(9)),
        st.builds(lambda: ctypes.c_short(3)),
        st.builds(object),
        st.lists(st.integers(0, 3), max_size=2),
        st.builds(lambda: 1 + 2j),
    )


class AsParameter:
    """An object ctypes converts through its ``_as_parameter_``."""

    def __init__(self, value):
        self._as_parameter_ = value

    def __repr__(self):
        return f"AsParameter({self._as_parameter_!r})"


def _likely(t):
    """Values ctypes mostly accepts for argument type ``t`` (edges included)."""
    if issubclass(t, ctypes._SimpleCData):
        code = t._type_
        if code in "bBhHiIlLqQ":
            return st.one_of(_ints, st.builds(t, _ints), st.builds(AsParameter, _ints))
        if code == "?":
            return _values()
        if code in "fd":
            return st.one_of(st.floats(), _ints, st.builds(t, st.floats()))
        if code == "c":
            return st.one_of(st.binary(min_size=1, max_size=1), st.integers(-2, 300), st.builds(t, st.binary(min_size=1, max_size=1)))
        if code == "u":
            return st.one_of(st.characters(), st.text(max_size=2))
        if code == "z":
            return st.one_of(st.binary(max_size=8), st.none(), st.builds(ctypes.c_char_p, st.binary(max_size=4)),
                             st.builds(lambda n: ctypes.create_string_buffer(n), st.integers(1, 8)),
                             st.builds(lambda: ctypes.pointer(ctypes.c_char(b"x"))))
        if code == "Z":
            return st.one_of(st.text(max_size=8), st.none(), st.builds(ctypes.c_wchar_p, st.text(max_size=4)),
                             st.builds(lambda n: ctypes.create_unicode_buffer(n), st.integers(1, 8)))
        # c_void_p and its subclasses
        return st.one_of(st.integers(-(2**65), 2**65), st.none(), st.binary(max_size=4), st.text(max_size=4),
                         st.builds(lambda: INT3(1, 2, 3)), st.builds(lambda: ctypes.pointer(ctypes.c_int(5))),
                         st.builds(lambda: ctypes.byref(ctypes.c_int(7))), st.builds(t, st.integers(0, 2**64 - 1)))
    if issubclass(t, ctypes._Pointer):
        target = t._type_
        return st.one_of(st.none(), st.builds(lambda: ctypes.pointer(target())), st.builds(lambda: ctypes.byref(target())),
                         st.builds(target), st.builds(lambda: (target * 2)()), st.builds(lambda: AsParameter(target())))
    if issubclass(t, ctypes._CFuncPtr):
        return st.one_of(st.builds(lambda: t(lambda *a: 0)), st.none())
    if issubclass(t, ctypes.Array):
        return st.one_of(st.builds(t), st.builds(lambda: ctypes.byref(t._type_())), st.builds(lambda: ctypes.pointer(t._type_())))
    return _values()


def _arg_values(t):
    # one value in six from anywhere, so that refusals stay frequent but whole calls get through
    return st.integers(0, 5).flatmap(lambda k: _values() if k == 0 else _likely(t))


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b and type(a) is type(b)


def _recorder(argtypes, args):
    """A function pointer with the user's prototype to a closure recording what
    it receives. A str turned into a pointer (a temporary wide-char buffer
    ctypes makes) is read during the call: its address differs from call to
    call, its content must not, and it must still be alive then."""
    raws = [raw_type(t) for t in argtypes]
    wide = [raw is c_void_p and isinstance(a, str) for raw, a in zip(raws, args)]
    seen = []

    def record(*vals):
        seen.append(tuple(ctypes.wstring_at(v) if w and v else v for v, w in zip(vals, wide)))
        return 0

    target = ctypes.CFUNCTYPE(ctypes.c_int, *raws)(record)
    fn = ctypes.CFUNCTYPE(ctypes.c_int, *argtypes)(ctypes.cast(target, c_void_p).value)
    return fn, target, seen


_CARG = type(ctypes.byref(ctypes.c_int()))


def _crashes_ctypes(argtypes, args) -> bool:
    """CPython 3.11's from_param of a function-pointer type segfaults on a
    byref()/converted argument (see eddy._blocking._from_param_crashes): a
    direct call cannot be made; eddy must refuse."""
    return any(issubclass(t, ctypes._CFuncPtr) and isinstance(a, _CARG) for t, a in zip(argtypes, args))


def _ctypes_accepts(argtypes, args) -> bool:
    for t, a in zip(argtypes, args):
        try:
            t.from_param(a)
        except Exception:
            return False
    return True


PROPERTY = settings(
    max_examples=int(os.environ.get("EDDY_BLOCKING_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(data=st.data(), n=st.integers(0, 4))
def test_blocking_call_converts_like_ctypes(data, n):
    argtypes = data.draw(st.lists(st.sampled_from(SUPPORTED), min_size=n, max_size=n), label="argtypes")
    # Mostly values the type accepts or nearly so (edges: widths, signs, None); any value may come.
    args = data.draw(st.tuples(*[_arg_values(t) for t in argtypes]), label="args")
    fn, target, seen = _recorder(argtypes, args)

    if _crashes_ctypes(argtypes, args):
        direct = None
    else:
        accepts = _ctypes_accepts(argtypes, args)
        try:
            assert fn(*args) == 0
            direct = seen.pop()
        except ctypes.ArgumentError:
            direct = None
        assert (direct is not None) == accepts, "a direct call and from_param disagree"

    async def main():
        try:
            return await eddy.blocking_call(fn, *args), seen.pop()
        except ctypes.ArgumentError as e:
            assert isinstance(e, TypeError)  # also a TypeError, like the rest of eddy's type checks
            assert not seen, "refused after the call ran"
            return None

    got = eddy.run(main())
    event("refused" if direct is None else "accepted")
    if direct is None:
        assert got is None, f"eddy accepted {args!r} for {argtypes!r}; ctypes refuses"
        return
    assert got is not None, f"eddy refused {args!r} for {argtypes!r}; ctypes accepts"
    rc, via_eddy = got
    assert rc == 0
    assert len(via_eddy) == len(direct)
    for i, (a, b) in enumerate(zip(via_eddy, direct)):
        assert _same(a, b), f"argument {i + 1} ({argtypes[i].__name__}, {args[i]!r}): eddy passed {a!r}, ctypes {b!r}"


@settings(max_examples=60, deadline=None)
@given(t=st.sampled_from(UNSUPPORTED), value=_values())
def test_unsupported_argument_types_refused_before_the_call(t, value):
    calls = []
    target = ctypes.CFUNCTYPE(ctypes.c_int)(lambda: calls.append(1) or 0)
    fn = ctypes.CFUNCTYPE(ctypes.c_int, t)(ctypes.cast(target, c_void_p).value)

    async def main():
        try:
            await eddy.blocking_call(fn, value)
        except TypeError as e:
            return str(e)
        return None

    msg = eddy.run(main())
    assert msg is not None and "unsupported" in msg
    assert not calls


def test_conversion_keeps_temporaries_until_the_call_returned():
    # A str for c_wchar_p is converted into a wide-char buffer that only the
    # converted argument owns: the worker must see it intact.
    wcslen = ctypes.CDLL(None).wcslen
    wcslen.argtypes = [ctypes.c_wchar_p]
    wcslen.restype = ctypes.c_size_t
    text = "é" * 5000

    async def main():
        return await eddy.gather(*(eddy.blocking_call(wcslen, text + str(i)) for i in range(8)))

    assert eddy.run(main()) == [5001] * 8


def test_as_parameter_and_errcheck_like_ctypes():
    labs = ctypes.CDLL(None).labs
    labs.argtypes = [ctypes.c_long]
    labs.restype = ctypes.c_long
    labs.errcheck = lambda result, func, args: (result, args)

    class Wrapped:
        _as_parameter_ = -42

    async def main():
        return await eddy.blocking_call(labs, Wrapped())

    w = Wrapped()
    r, args = eddy.run(main())
    assert r == 42 == labs(w)[0]
    assert isinstance(args[0], Wrapped)



def test_arguments_that_crash_ctypes_are_refused():
    # ctypes' own from_param of a function-pointer type segfaults on these
    # (checked in a child); eddy refuses them before asking ctypes.
    p = run_snippet(
        """
        import ctypes
        CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
        CB.from_param(ctypes.byref(ctypes.c_int(1)))
        print("ctypes survived")
        """
    )
    crashes = p.returncode < 0
    CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    calls = []
    target = ctypes.CFUNCTYPE(None, c_void_p)(lambda p: calls.append(p))
    takes_callback = ctypes.CFUNCTYPE(None, CB)(ctypes.cast(target, c_void_p).value)

    class Indirect:
        _as_parameter_ = ctypes.byref(ctypes.c_int(2))

    async def main():
        for bad in (ctypes.byref(ctypes.c_int(1)), ctypes.c_int.from_param(3), Indirect()):
            try:
                await eddy.blocking_call(takes_callback, bad)
            except ctypes.ArgumentError as e:
                assert "argument 1" in str(e)
            else:
                raise AssertionError(f"{bad!r} accepted")
        cb = CB(lambda x: x)
        await eddy.blocking_call(takes_callback, cb)  # an instance of the type is fine
        return ctypes.cast(cb, c_void_p).value

    assert eddy.run(main()) is not None
    assert len(calls) == 1
    assert crashes or "ctypes survived" in p.stdout  # either way eddy refused
