"""One name and one message per error code: include/eddy.h's EDDY_ERROR_MAP, the
library (eddy_err_name / eddy_strerror) and _lib.ERRORS all agree entry by entry,
and the binding's constants are the header's codes."""
from __future__ import annotations

import errno
import re

from conftest import REPO

from eddy import _lib

# `#define EDDY_EINTR (-EINTR)` (an errno) or `#define EDDY_EBADHANDLE (-5001)` (Eddy's own).
DEFINE = re.compile(r"^#define (EDDY_E[A-Z_]+) \((-(?:E[A-Z0-9]+|\d+))\)\s*$", re.M)
# `    XX(EINTR, "EINTR", "Interrupted system call")   \` inside EDDY_ERROR_MAP.
ENTRY = re.compile(r'^\s*XX\(([A-Z0-9_]+), "([A-Z_0-9]+)", "([^"]*)"\)\s*\\?$', re.M)


def header_text() -> str:
    return (REPO / "include" / "eddy.h").read_text()


def header_defines() -> dict:
    """EDDY_Exxx -> its value: `(-Eyyy)` resolved with this platform's errno."""
    out = {}
    for macro, value in DEFINE.findall(header_text()):
        out[macro] = -getattr(errno, value[1:]) if value.startswith("-E") else int(value)
    return out


def header_map() -> list:
    """EDDY_ERROR_MAP as (code, name, message), in its order."""
    text = header_text()
    start = text.index("#define EDDY_ERROR_MAP(XX)")
    body = text[start : text.index("\n\n", start)]
    defines = header_defines()
    plain = {"READY": 0, "PENDING": 1}
    rows = []
    for suffix, name, message in ENTRY.findall(body):
        macro = "EDDY_" + suffix
        code = plain[suffix] if suffix in plain else defines[macro]
        assert name in (macro, suffix), (macro, name)  # own codes: the macro; errno codes: the errno
        rows.append((code, name, message))
    return rows


def test_header_defines_are_the_map():
    defines = header_defines()
    rows = header_map()
    assert len([c for c in defines.values() if c <= -5000]) == 6 + 11, defines  # + the resolver's EDDY_EAI_*
    assert {c for c, _, _ in rows} == set(defines.values()) | {0, 1}
    for macro, value in DEFINE.findall(header_text()):
        if value.startswith("-E"):
            assert macro == "EDDY_" + value[1:], f"{macro} defined as ({value})"
        else:
            assert int(value) <= -5000, f"{macro}: a number where an errno exists"


def test_binding_table_is_the_header_map():
    rows = header_map()
    assert len(rows) >= 21
    assert list(_lib.ERRORS.items()) == [(code, (name, message)) for code, name, message in rows]
    for macro, code in header_defines().items():
        # The binding's constant of the same name carries the header's code.
        assert getattr(_lib, macro[len("EDDY_"):]) == code, macro


def test_library_is_the_header_map():
    for code, name, message in header_map():
        assert (_lib.err_name(code), _lib.strerror(code)) == (name, message), code


def test_every_code_has_a_name_and_message():
    for code in list(range(-5200, 2)) + [-(2**31), 2**31 - 1, -100000]:
        name, message = _lib.err_name(code), _lib.strerror(code)
        assert name and message, code
        if -4096 < code < 0 and -code in errno.errorcode:
            assert getattr(errno, name, None) == -code, (code, name)  # a Linux name (aliases too)
