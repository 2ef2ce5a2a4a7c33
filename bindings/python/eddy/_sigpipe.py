"""SIGPIPE is blocked in the thread running eddy.run.

TcpStream.write() writes to the socket with os.write, which cannot pass
MSG_NOSIGNAL: a write to a reset connection raises SIGPIPE in the writing
thread. CPython ignores SIGPIPE at start-up, but a program may have restored the
default action (the usual fix for "BrokenPipeError" in pipelines), which would
kill the process. Blocked, the write fails with EPIPE instead and the signal
stays pending on this thread; it is consumed before the mask is restored (the
way libcurl and OpenSSL users guard their writes).
"""

from __future__ import annotations

import signal

_PIPE = {signal.SIGPIPE}


def block() -> bool:
    """Block SIGPIPE in this thread; returns whether it was blocked already."""
    return signal.SIGPIPE in signal.pthread_sigmask(signal.SIG_BLOCK, _PIPE)


def restore(was_blocked: bool) -> None:
    """Undo block(): drop the SIGPIPEs raised meanwhile, then unblock."""
    if was_blocked:
        return
    while signal.SIGPIPE in signal.sigpending():
        if signal.sigtimedwait(_PIPE, 0) is None:
            break
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _PIPE)
