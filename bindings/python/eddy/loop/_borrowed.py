"""What ``eddy.EventLoop`` takes from asyncio's own selector / Unix loops as is.

These methods and transports only call the loop's descriptor primitives
(``_add_reader`` / ``_remove_reader`` / ``_add_writer`` / ``_remove_writer``,
``sock_*``, ``_start_serving``, ``call_soon`` ...), which ``EventLoop``
implements over Eddy's reactor: Unix-domain connections and servers, pipe
transports, datagram endpoints (``_SelectorDatagramTransport``), the datagram
``sock_*`` methods, ``sock_sendfile``, subprocesses (through asyncio's child
watcher) and the signal-number plumbing. None of them reaches a selector.
"""

from __future__ import annotations

import socket
from asyncio import selector_events, unix_events
from typing import Any

_U = unix_events._UnixSelectorEventLoop
_S = selector_events.BaseSelectorEventLoop


class DatagramTransport(selector_events._SelectorDatagramTransport):  # type: ignore[misc,name-defined]
    """asyncio's datagram transport; its ``repr`` asks the loop's watches, not a
    selector (asyncio's reads ``loop._selector``, which an Eddy loop has not)."""

    def __repr__(self) -> str:
        info = [self.__class__.__name__]
        if self._sock is None:
            info.append("closed")
        elif self._closing:
            info.append("closing")
        info.append(f"fd={self._sock_fd}")
        loop = self._loop
        if loop is not None and not loop.is_closed():
            entry = loop._fds.get(self._sock_fd)
            reading = entry is not None and entry.reader.handle is not None
            writing = entry is not None and entry.writer.handle is not None
            info.append("read=polling" if reading else "read=idle")
            info.append(f"write=<{'polling' if writing else 'idle'}, bufsize={self.get_write_buffer_size()}>")
        return "<{}>".format(" ".join(info))


class BorrowedMixin:
    # Unix-domain streams
    create_unix_connection = _U.create_unix_connection
    create_unix_server = _U.create_unix_server
    # pipes and subprocesses
    _make_read_pipe_transport = _U._make_read_pipe_transport
    _make_write_pipe_transport = _U._make_write_pipe_transport
    _make_subprocess_transport = _U._make_subprocess_transport
    _child_watcher_callback = _U._child_watcher_callback
    # sendfile on sockets (os.sendfile when the socket is writable)
    _sock_sendfile_native = _U._sock_sendfile_native
    _sock_sendfile_native_impl = _U._sock_sendfile_native_impl
    _sock_sendfile_update_filepos = _U._sock_sendfile_update_filepos
    _sock_add_cancellation_callback = _U._sock_add_cancellation_callback
    # loop.sendfile on a SocketTransport (TRY_NATIVE): pause reading, wait for the
    # transport's buffer to drain (_make_empty_waiter), sock_sendfile, resume
    _sendfile_native = _S._sendfile_native
    # datagrams
    def _make_datagram_transport(self, sock: Any, protocol: Any, address: Any = None, waiter: Any = None, extra: Any = None) -> Any:
        return DatagramTransport(self, sock, protocol, address, waiter, extra)

    sock_recvfrom = _S.sock_recvfrom
    _sock_recvfrom = _S._sock_recvfrom
    sock_recvfrom_into = _S.sock_recvfrom_into
    _sock_recvfrom_into = _S._sock_recvfrom_into
    sock_sendto = _S.sock_sendto
    _sock_sendto = _S._sock_sendto
    _sock_read_done = _S._sock_read_done
    _sock_write_done = _S._sock_write_done
    # signals: numbers arrive on the wake-up socket (signal.set_wakeup_fd)
    _process_self_data = _U._process_self_data
    _handle_signal = _U._handle_signal
    _check_signal = _U._check_signal
    _remove_signal_handler = _U.remove_signal_handler
    _add_signal_handler = _U.add_signal_handler

    def add_signal_handler(self, sig: int, callback: Any, *args: Any) -> None:
        """asyncio's: ``callback(*args)`` runs in the loop when ``sig`` arrives
        (main thread only: ``RuntimeError`` elsewhere)."""
        self._check_closed()  # type: ignore[attr-defined]
        self._open_self_pipe()
        self._add_signal_handler(sig, callback, *args)

    def remove_signal_handler(self, sig: int) -> bool:
        return self._remove_signal_handler(sig)  # type: ignore[no-any-return]

    def _open_self_pipe(self) -> None:
        if getattr(self, "_ssock", None) is not None:
            return
        self._ssock, self._csock = socket.socketpair()
        self._ssock.setblocking(False)
        self._csock.setblocking(False)
        self._add_reader(self._ssock.fileno(), self._read_from_self)  # type: ignore[attr-defined]

    def _read_from_self(self) -> None:
        while True:
            try:
                data = self._ssock.recv(4096)
                if not data:
                    break
                self._process_self_data(data)
            except InterruptedError:
                continue
            except BlockingIOError:
                break

    def _close_signals(self) -> None:
        for sig in list(getattr(self, "_signal_handlers", {})):
            try:
                self.remove_signal_handler(sig)
            except (ValueError, RuntimeError, OSError):
                pass
        ssock = getattr(self, "_ssock", None)
        if ssock is not None:
            self._remove_reader(ssock.fileno())  # type: ignore[attr-defined]
            ssock.close()
            self._csock.close()
            self._ssock = self._csock = None


