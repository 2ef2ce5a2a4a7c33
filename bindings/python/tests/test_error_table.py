"""One name and one message per error code: the library (eddy_err_name /
eddy_strerror), include/eddy.h's comments and _lib.ERRORS all agree, and the
binding's constants are the header's numbers."""
from __future__ import annotations

import errno
import re

from conftest import REPO

from eddy import _lib

DEFINE = re.compile(r"^#define (EDDY_E[A-Z]+) \((-\d+)\)(?:\s*/\* (.*) \*/)?\s*$", re.M)


def header_codes():
    text = (REPO / "include" / "eddy.h").read_text()
    return [(name, int(code), msg) for name, code, msg in DEFINE.findall(text)]


def test_header_library_and_binding_agree():
    defs = header_codes()
    own = [d for d in defs if d[1] <= -5000]
    assert len(own) == 6, own
    for name, code, comment in defs:
        # The binding's constant of the same name carries the header's number.
        assert getattr(_lib, name[len("EDDY_"):]) == code, name
        if code <= -5000:
            assert _lib.err_name(code) == name
            assert _lib.strerror(code) == comment, name
            assert _lib.ERRORS[code] == (name, comment)
        else:
            assert "EDDY_" + _lib.err_name(code) == name
            assert not comment, f"{name}: errno codes use the C library's text"
            assert _lib.strerror(code) == _lib.load().eddy_strerror(code).decode()
    # ERRORS holds exactly Eddy's own codes plus READY / PENDING.
    assert set(_lib.ERRORS) == {d[1] for d in own} | {0, 1}
    for code, (name, message) in _lib.ERRORS.items():
        assert (_lib.err_name(code), _lib.strerror(code)) == (name, message)


def test_every_code_has_a_name_and_message():
    for code in list(range(-5200, 2)) + [-(2**31), 2**31 - 1, -100000]:
        name, message = _lib.err_name(code), _lib.strerror(code)
        assert name and message, code
        if -4096 < code < 0 and -code in errno.errorcode:
            assert getattr(errno, name, None) == -code, (code, name)  # a Linux name (aliases too)
