"""``loop.sock_*`` for ``eddy.EventLoop``: try the non-blocking call at once; on
EAGAIN watch the descriptor (edge mode: the callback retries the call and clears
the readiness when it sees EAGAIN again) until it completes."""

from __future__ import annotations

import functools
import socket
from asyncio import base_events
from typing import Any

from ._watch import READ, WRITE


def _check(loop: Any, sock: socket.socket) -> None:
    base_events._check_ssl_socket(sock)
    if loop._debug and sock.gettimeout() != 0:
        raise ValueError("the socket must be non-blocking")


class SockMixin:
    def _sock_done(self, fd: int, bit: int, d: Any, fut: Any) -> None:
        # Only the watch this wait started: a later wait on fd has its own handle.
        if d.handle is not None and d.handle._args and d.handle._args[0] is fut:
            self._unwatch(fd, bit)  # type: ignore[attr-defined]

    def _sock_wait(self, sock: socket.socket, bit: int, callback: Any, fut: Any, *args: Any) -> None:
        fd = sock.fileno()
        self._ensure_fd_no_transport(fd)  # type: ignore[attr-defined]
        d = self._watch(fd, bit, callback, fut, *args)  # type: ignore[attr-defined]
        fut.add_done_callback(functools.partial(self._sock_done, fd, bit, d))

    async def sock_recv(self, sock: socket.socket, n: int) -> bytes:
        _check(self, sock)
        try:
            return sock.recv(n)
        except (BlockingIOError, InterruptedError):
            pass
        fut = self.create_future()  # type: ignore[attr-defined]
        self._sock_wait(sock, READ, self._sock_read_retry, fut, sock, sock.recv, n)
        return await fut  # type: ignore[no-any-return]

    def _sock_read_retry(self, fut: Any, sock: socket.socket, op: Any, arg: Any) -> None:
        """The watch's callback of sock_recv and sock_recv_into: retry ``op(arg)`` (the
        bound ``sock.recv`` / ``sock.recv_into``) and settle ``fut`` with its result."""
        if fut.done():
            return
        try:
            result = op(arg)
        except (BlockingIOError, InterruptedError):
            self._clear(sock, READ)
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    async def sock_recv_into(self, sock: socket.socket, buf: Any) -> int:
        _check(self, sock)
        try:
            return sock.recv_into(buf)
        except (BlockingIOError, InterruptedError):
            pass
        fut = self.create_future()  # type: ignore[attr-defined]
        self._sock_wait(sock, READ, self._sock_read_retry, fut, sock, sock.recv_into, buf)
        return await fut  # type: ignore[no-any-return]

    async def sock_sendall(self, sock: socket.socket, data: Any) -> None:
        _check(self, sock)
        try:
            n = sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        if n == len(data):
            return
        fut = self.create_future()  # type: ignore[attr-defined]
        self._sock_wait(sock, WRITE, self._sock_sendall, fut, sock, memoryview(data), [n])
        return await fut  # type: ignore[no-any-return]

    def _sock_sendall(self, fut: Any, sock: socket.socket, view: memoryview, pos: list) -> None:
        if fut.done():
            return
        start = pos[0]
        try:
            n = sock.send(view[start:])
        except (BlockingIOError, InterruptedError):
            self._clear(sock, WRITE)
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
            return
        start += n
        if start == len(view):
            fut.set_result(None)
        else:
            pos[0] = start

    async def sock_connect(self, sock: socket.socket, address: Any) -> None:
        _check(self, sock)
        if sock.family == socket.AF_INET or (base_events._HAS_IPv6 and sock.family == socket.AF_INET6):
            resolved = await self._ensure_resolved(address, family=sock.family, type=sock.type, proto=sock.proto, loop=self)  # type: ignore[attr-defined]
            _, _, _, _, address = resolved[0]
        fut = self.create_future()  # type: ignore[attr-defined]
        try:
            sock.connect(address)
        except (BlockingIOError, InterruptedError):
            self._sock_wait(sock, WRITE, self._sock_connect_cb, fut, sock, address)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result(None)
        try:
            return await fut  # type: ignore[no-any-return]
        finally:
            fut = None  # break the cycle through the exception's traceback

    def _sock_connect_cb(self, fut: Any, sock: socket.socket, address: Any) -> None:
        if fut.done():
            return
        try:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                raise OSError(err, f"Connect call failed {address}")
        except (BlockingIOError, InterruptedError):
            pass
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            if err == 0:
                fut.set_result(None)

    async def sock_accept(self, sock: socket.socket) -> Any:
        _check(self, sock)
        fut = self.create_future()  # type: ignore[attr-defined]
        try:
            conn, address = sock.accept()
            conn.setblocking(False)
        except (BlockingIOError, InterruptedError):
            self._sock_wait(sock, READ, self._sock_accept, fut, sock)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result((conn, address))
        return await fut

    def _sock_accept(self, fut: Any, sock: socket.socket) -> None:
        if fut.done():
            return
        try:
            conn, address = sock.accept()
            conn.setblocking(False)
        except (BlockingIOError, InterruptedError):
            self._clear(sock, READ)
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            fut.set_exception(exc)
        else:
            fut.set_result((conn, address))

    def _clear(self, sock: socket.socket, bit: int) -> None:
        entry = self._fds.get(sock.fileno())  # type: ignore[attr-defined]
        if entry is not None:
            (entry.reader if bit == READ else entry.writer).clear()


