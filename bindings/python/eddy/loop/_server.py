"""Listening sockets of ``eddy.EventLoop``: what asyncio's ``Server`` calls
(``_start_serving`` / ``_stop_serving``). ``create_server`` itself is asyncio's."""

from __future__ import annotations

import errno
import socket
from asyncio import constants, trsock
from asyncio.log import logger
from typing import Any

from ._watch import READ

_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class ServerMixin:
    def _start_serving(
        self, protocol_factory: Any, sock: socket.socket, sslcontext: Any = None, server: Any = None, backlog: int = 100,
        ssl_handshake_timeout: Any = constants.SSL_HANDSHAKE_TIMEOUT, ssl_shutdown_timeout: Any = constants.SSL_SHUTDOWN_TIMEOUT,
    ) -> None:
        self._watch(  # type: ignore[attr-defined]
            sock.fileno(), READ, self._accept_connection, protocol_factory, sock, sslcontext, server, backlog,
            ssl_handshake_timeout, ssl_shutdown_timeout,
        )

    def _stop_serving(self, sock: socket.socket) -> None:
        self._unwatch(sock.fileno(), READ)  # type: ignore[attr-defined]
        sock.close()

    def _accept_connection(
        self, protocol_factory: Any, sock: socket.socket, sslcontext: Any = None, server: Any = None, backlog: int = 100,
        ssl_handshake_timeout: Any = constants.SSL_HANDSHAKE_TIMEOUT, ssl_shutdown_timeout: Any = constants.SSL_SHUTDOWN_TIMEOUT,
    ) -> None:
        # Up to `backlog` connections per run; EAGAIN clears the readiness (edge
        # mode), otherwise the next iteration accepts more.
        for _ in range(backlog):
            try:
                conn, addr = sock.accept()
                if self._debug:  # type: ignore[attr-defined]
                    logger.debug("%r got a new connection from %r: %r", server, addr, conn)
                conn.setblocking(False)
            except (BlockingIOError, InterruptedError):
                self._clear(sock, READ)  # type: ignore[attr-defined]
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno in _RESOURCE_ERRORS:
                    self.call_exception_handler(  # type: ignore[attr-defined]
                        {"message": "socket.accept() out of system resource", "exception": exc, "socket": trsock.TransportSocket(sock)}
                    )
                    self._unwatch(sock.fileno(), READ)  # type: ignore[attr-defined]
                    self.call_later(  # type: ignore[attr-defined]
                        constants.ACCEPT_RETRY_DELAY, self._start_serving, protocol_factory, sock, sslcontext, server, backlog,
                        ssl_handshake_timeout, ssl_shutdown_timeout,
                    )
                    return
                raise  # the loop's exception handler logs it
            else:
                extra = {"peername": addr}
                self.create_task(  # type: ignore[attr-defined]
                    self._accept_connection2(protocol_factory, conn, extra, sslcontext, server, ssl_handshake_timeout, ssl_shutdown_timeout)
                )

    async def _accept_connection2(
        self, protocol_factory: Any, conn: socket.socket, extra: Any, sslcontext: Any = None, server: Any = None,
        ssl_handshake_timeout: Any = constants.SSL_HANDSHAKE_TIMEOUT, ssl_shutdown_timeout: Any = constants.SSL_SHUTDOWN_TIMEOUT,
    ) -> None:
        protocol = None
        transport = None
        try:
            protocol = protocol_factory()
            waiter = self.create_future()  # type: ignore[attr-defined]
            if sslcontext:
                transport = self._make_ssl_transport(  # type: ignore[attr-defined]
                    conn, protocol, sslcontext, waiter=waiter, server_side=True, extra=extra, server=server,
                    ssl_handshake_timeout=ssl_handshake_timeout, ssl_shutdown_timeout=ssl_shutdown_timeout,
                )
            else:
                transport = self._make_socket_transport(conn, protocol, waiter=waiter, extra=extra, server=server)  # type: ignore[attr-defined]
            try:
                await waiter
            except BaseException:
                transport.close()
                raise
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if self._debug:  # type: ignore[attr-defined]
                context = {"message": "Error on transport creation for incoming connection", "exception": exc}
                if protocol is not None:
                    context["protocol"] = protocol
                if transport is not None:
                    context["transport"] = transport
                self.call_exception_handler(context)  # type: ignore[attr-defined]
