"""Child processes: ``create_subprocess_exec`` and ``Process``, with asyncio's
names and semantics (``subprocess.PIPE`` / ``DEVNULL`` / ``STDOUT`` accepted).

The piped standard streams are asyncio-style ``StreamReader`` (stdout, stderr:
``read``, ``readline``, ``readuntil``, ``readexactly``) and ``StreamWriter``
(stdin: ``write``, ``drain``, ``close``, ``wait_closed``) over Eddy
``TcpStream`` objects on a Unix socket pair (libuv does the same; see
``_procstreams``). The child is started with posix_spawn (no fork), gets only
descriptors 0-2, and is reaped by Eddy: through a pidfd, or a SIGCHLD watcher
where there is none. A Process dropped before its child exited hands it to
Eddy's reaper thread: never a zombie. docs/OS.md has the details.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import types
from ctypes import POINTER, byref, c_char_p, c_int, c_int32
from typing import Any, Generator, List, Mapping, Optional, Tuple, Union

from . import _lib
from ._driver import PID, Runtime, owned, running
from ._errors import error_from_code
from ._lines import DEFAULT_LIMIT
from ._net import TcpStream
from ._procstreams import StreamReader, StreamWriter
from ._protocol import PENDING, READY, SUSPEND

PIPE = subprocess.PIPE
STDOUT = subprocess.STDOUT
DEVNULL = subprocess.DEVNULL

_Arg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def _mode(value: object, name: str) -> int:
    if value is None:
        return _lib.STDIO_INHERIT
    if value == PIPE:
        return _lib.STDIO_PIPE
    if value == DEVNULL:
        return _lib.STDIO_NULL
    if value == STDOUT:
        if name != "stderr":
            raise ValueError(f"STDOUT is only valid for stderr, not {name}")
        return _lib.STDIO_STDOUT
    raise ValueError(f"{name}: eddy supports None, PIPE, DEVNULL (and STDOUT for stderr), not {value!r}")


def _cstr(arg: object, what: str) -> bytes:
    b = os.fsencode(arg)  # type: ignore[arg-type]  # TypeError for other types, like asyncio
    if b"\x00" in b:
        raise ValueError(f"embedded null byte in {what}")
    return b


class Process:
    """asyncio's ``Process``: ``pid``, ``returncode``, ``stdin`` (a ``StreamWriter``)
    / ``stdout`` / ``stderr`` (``StreamReader``s), or None when not piped,
    ``wait()``, ``communicate()``, ``send_signal()``, ``terminate()``, ``kill()``."""

    def __init__(self, rt: Runtime, h: int) -> None:
        self._rt = rt
        self._h: Optional[int] = h
        pid = c_int32()
        rt.lib.eddy_process_pid(h, byref(pid))
        self.pid: int = pid.value
        self.returncode: Optional[int] = None
        self._code = c_int()
        self._sig = c_int()
        self.stdin: Optional[StreamWriter] = None
        self.stdout: Optional[StreamReader] = None
        self.stderr: Optional[StreamReader] = None

    def _take(self, which: int) -> TcpStream:
        rt = self._rt
        assert self._h is not None
        rc = rt.lib.eddy_process_take_stdio(self._h, which, rt.out_ref)
        if rc < 0:
            raise error_from_code(rc)
        return TcpStream(rt, rt.out.value)

    def __repr__(self) -> str:
        return f"<eddy.Process {self.pid}>"

    def __del__(self) -> None:
        self._free()

    def _free(self) -> None:
        h, self._h = self._h, None
        rt = getattr(self, "_rt", None)
        if h is None or rt is None or rt.ended or rt.pid != PID[0]:
            return  # the runtime freed it (its child went to the reaper)
        rc = rt.lib.eddy_process_free(h)
        if rc == _lib.EWRONGTHREAD:
            rt.defer(rt.lib.eddy_process_free, h)

    def _handle(self) -> int:
        owned(self._rt, "Process")
        if self._h is None:
            raise RuntimeError("process handle freed")
        return self._h

    @types.coroutine
    def _wait(self) -> Generator[Any, Optional[int], int]:
        rt = self._rt
        poll = rt.lib.eddy_process_poll_wait
        code_ref, sig_ref = byref(self._code), byref(self._sig)
        while True:
            rc = poll(self._handle(), rt.cx, code_ref, sig_ref)
            if rc == READY:
                s = self._sig.value
                self.returncode = -s if s else self._code.value
                return self.returncode
            if rc == PENDING:
                yield SUSPEND
                continue
            raise error_from_code(rc)

    async def wait(self) -> int:
        """Wait for the child to exit; its return code (negative: -signal)."""
        if self.returncode is not None:
            return self.returncode
        return await self._wait()

    def send_signal(self, sig: int) -> None:
        """Send ``sig``. ProcessLookupError once the child has exited."""
        rc = self._rt.lib.eddy_process_kill(self._handle(), int(sig))
        if rc < 0:
            if rc == -errno.ESRCH:  # exited; reaped by the call
                self._poll_status()
            raise error_from_code(rc)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _poll_status(self) -> None:
        """After -ESRCH the child is reaped: pick its status up without waiting."""
        rt = self._rt
        cx = rt.cx
        rc = rt.lib.eddy_process_poll_wait(self._handle(), cx, byref(self._code), byref(self._sig))
        if rc == READY:
            s = self._sig.value
            self.returncode = -s if s else self._code.value

    async def communicate(self, input: Optional[bytes] = None) -> Tuple[Optional[bytes], Optional[bytes]]:
        """Send ``input`` to stdin (then end it), read stdout and stderr to their
        end, wait for the exit. Returns ``(stdout_data, stderr_data)`` (None for
        a stream that is not a pipe)."""
        from ._tasks import gather

        async def feed() -> None:
            w = self.stdin
            if w is None:
                return
            try:
                if input:
                    w.write(input)
                    await w.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the child exited without reading it all, as asyncio ignores
            finally:
                w.close()
                await w.wait_closed()

        async def drain(r: Optional[StreamReader]) -> Optional[bytes]:
            if r is None:
                return None
            try:
                return await r.read()
            finally:
                r.stream.close()

        _, out, err = await gather(feed(), drain(self.stdout), drain(self.stderr))
        await self.wait()
        return out, err


async def create_subprocess_exec(
    program: _Arg,
    *args: _Arg,
    stdin: Any = None,
    stdout: Any = None,
    stderr: Any = None,
    limit: int = DEFAULT_LIMIT,
    cwd: Optional[_Arg] = None,
    env: Optional[Mapping[Any, Any]] = None,
    **kwds: Any,
) -> Process:
    """asyncio's ``create_subprocess_exec``: start ``program`` with ``args``
    (PATH searched unless it holds a '/'). ``stdin``/``stdout``/``stderr``: None
    (inherit), ``PIPE``, ``DEVNULL``, ``STDOUT`` (stderr only); ``limit``: the
    readers' line limit (asyncio's, 64 KiB). FileNotFoundError
    / PermissionError when it cannot be executed (nothing is left behind)."""
    if kwds:
        raise TypeError(f"create_subprocess_exec(): unsupported arguments {sorted(kwds)}")
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an int, not {type(limit).__name__}")
    if limit <= 0:
        raise ValueError("Limit cannot be <= 0")  # asyncio's words
    rt = running()
    argv = [_cstr(program, "program")] + [_cstr(a, "argument") for a in args]
    modes = (c_int * 3)(_mode(stdin, "stdin"), _mode(stdout, "stdout"), _mode(stderr, "stderr"))
    c_argv = (c_char_p * (len(argv) + 1))(*argv, None)
    c_env: Any = None
    if env is not None:
        entries = []
        for k, v in env.items():
            kb, vb = _cstr(k, "environment name"), _cstr(v, "environment value")
            if not kb or b"=" in kb:
                raise ValueError(f"illegal environment variable name {k!r}")
            entries.append(kb + b"=" + vb)
        c_env = (c_char_p * (len(entries) + 1))(*entries, None)
    c_cwd = _cstr(cwd, "cwd") if cwd is not None else None
    rc = rt.lib.eddy_process_spawn(
        rt.h, c_argv, c_env if c_env is not None else POINTER(c_char_p)(), c_cwd, modes, rt.out_ref
    )
    if rc < 0:
        raise error_from_code(rc)
    p = Process(rt, rt.out.value)
    if stdin == PIPE:
        p.stdin = StreamWriter(p._take(0))
    for which, mode, name in ((1, stdout, "stdout"), (2, stderr, "stderr")):
        if mode == PIPE:
            s = p._take(which)
            s.limit = limit
            setattr(p, name, StreamReader(s))
    return p


async def create_subprocess_shell(
    cmd: Union[str, bytes],
    stdin: Any = None,
    stdout: Any = None,
    stderr: Any = None,
    limit: int = DEFAULT_LIMIT,
    **kwds: Any,
) -> Process:
    """asyncio's ``create_subprocess_shell``: ``/bin/sh -c cmd``, otherwise as
    ``create_subprocess_exec`` (same keywords: ``cwd``, ``env``)."""
    if not isinstance(cmd, (str, bytes)):
        raise ValueError("cmd must be a string")  # asyncio's words
    return await create_subprocess_exec("/bin/sh", "-c", cmd, stdin=stdin, stdout=stdout, stderr=stderr,
                                         limit=limit, **kwds)
