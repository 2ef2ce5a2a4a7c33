"""Unix-domain datagram sockets (issue 15 item 3) from Python: paths and abstract names,
truncation, empty datagrams, unbound senders, connect, stale files, bad input (with
hypothesis), no descriptor lost."""
from __future__ import annotations

import errno
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eddy
from conftest import open_fds


def run(coro):
    return eddy.run(coro)


@pytest.mark.parametrize("abstract", [False, True])
def test_send_to_recv_from(tmp_path, abstract):
    a = f"@eddy-py-udg-a-{os.getpid()}" if abstract else str(tmp_path / "a.sock")
    b = f"@eddy-py-udg-b-{os.getpid()}" if abstract else str(tmp_path / "b.sock")

    async def main():
        async with await eddy.bind_unix_datagram(a, unlink_on_close=True) as sa, \
                await eddy.bind_unix_datagram(b, unlink_on_close=True) as sb:
            assert await sa.send_to(b"ping", b) == 4
            assert await sb.recv_from() == (b"ping", a, False)
            await sb.send_to(b"pong!", a)
            assert await sa.recv(2) == (b"po", None, True)
            await sb.send_to(b"", a)
            assert await sa.recv_from() == (b"", b, False)
            sa.connect(b)
            await sa.send(b"c")
            assert (await sb.recv_from()).data == b"c"
            assert sa.fileno() >= 0
        if not abstract:
            assert not os.path.exists(a) and not os.path.exists(b)

    run(main())


def test_unbound_sender_and_errors(tmp_path):
    path = str(tmp_path / "s.sock")

    async def main():
        async with await eddy.bind_unix_datagram(path) as srv, await eddy.bind_unix_datagram() as cli:
            await cli.send_to(bytearray(b"x"), path)
            assert await srv.recv_from() == (b"x", "", False)  # unbound: unnamed
            with pytest.raises(OSError) as ei:
                await eddy.bind_unix_datagram(path)
            assert ei.value.errno == errno.EADDRINUSE
        # The file stays (no unlink_on_close): stale now, replaced by the next bind.
        async with await eddy.bind_unix_datagram(path):
            pass
        async with await eddy.bind_unix_datagram() as c:
            with pytest.raises(FileNotFoundError):
                await c.send_to(b"x", tmp_path / "none.sock")
            with pytest.raises(ConnectionRefusedError):
                await c.send_to(b"x", path)
            with pytest.raises(OSError) as ei:
                await c.send(b"x")
            assert ei.value.errno == errno.ENOTCONN
            with pytest.raises(OSError) as ei:
                await c.send_to(b"x", "/" + "x" * 200)
            assert ei.value.errno == errno.ENAMETOOLONG
            for bad in (-1, 1 << 40):
                with pytest.raises(ValueError):
                    await c.recv(bad)
            with pytest.raises(TypeError):
                await c.send_to("text", path)
            with pytest.raises(ValueError):
                await c.send_to(b"x", "a\x00b")
        for bad in ("", "@"):
            with pytest.raises(ValueError):
                await eddy.bind_unix_datagram(bad)
        with pytest.raises(TypeError):
            await eddy.bind_unix_datagram(3)
        c = await eddy.bind_unix_datagram()
        c.close()
        with pytest.raises(eddy.ClosedResourceError):
            await c.send_to(b"x", path)

    run(main())


def test_addresses_and_from_fd(tmp_path):
    """local_address / peer_address (path, "@name", "" unbound), and adopting a
    descriptor: queued datagrams received, wrong types refused and closed."""
    import socket

    path = str(tmp_path / "adopted.sock")
    name = f"@eddy-py-udg-addr-{os.getpid()}"
    fds0 = open_fds()

    async def main():
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        raw.bind(path)
        async with await eddy.bind_unix_datagram(name) as named, await eddy.bind_unix_datagram() as c:
            assert named.local_address == name
            assert c.local_address == ""
            with pytest.raises(OSError) as e:
                c.peer_address
            assert e.value.errno == errno.ENOTCONN
            await c.send_to(b"early", path)  # queued before Eddy takes the descriptor
            async with eddy.UnixDatagramSocket.from_fd(raw.detach()) as s:
                assert s.local_address == path
                assert await s.recv_from() == (b"early", "", False)
                c.connect(path)
                assert c.peer_address == path
                c.connect(name)
                assert c.peer_address == name
            closed = s
        with pytest.raises(eddy.ClosedResourceError):
            closed.local_address
        # Wrong types are refused and closed; not a socket / not open are OSErrors.
        for fam, typ in ((socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_UNIX, socket.SOCK_STREAM)):
            fd = socket.socket(fam, typ).detach()
            with pytest.raises(ValueError):
                eddy.UnixDatagramSocket.from_fd(fd)
            with pytest.raises(OSError) as e:
                os.fstat(fd)
            assert e.value.errno == errno.EBADF
        r, w = os.pipe()
        os.close(w)
        with pytest.raises(OSError) as e:
            eddy.UnixDatagramSocket.from_fd(r)
        assert e.value.errno == errno.ENOTSOCK
        with pytest.raises(OSError) as e:
            eddy.UnixDatagramSocket.from_fd(-1)
        assert e.value.errno == errno.EBADF
        for bad in (1.5, "3", None, True):
            with pytest.raises(TypeError):
                eddy.UnixDatagramSocket.from_fd(bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            eddy.UnixDatagramSocket.from_fd(2**40)
        # A Unix datagram socket is not UDP either.
        with pytest.raises(ValueError):
            eddy.UdpSocket.from_fd(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).detach())

    run(main())
    assert open_fds() == fds0


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
junk = st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=8),
                 st.binary(max_size=8), st.just(object()), st.floats())


@SETTINGS
@given(path=junk | st.sampled_from(["", "@", "@eddy-hyp-udg", "/" + "y" * 200, "/nonexistent-dir/x.sock"]),
       data=junk | st.binary(max_size=64), n=junk | st.integers(min_value=-3, max_value=2**21))
def test_unix_datagram_never_crashes_or_leaks(path, data, n):
    fds0 = open_fds()

    async def main():
        try:
            s = await eddy.bind_unix_datagram(None)
        except (TypeError, ValueError, OSError):
            return
        async with s:
            try:
                await eddy.wait_for(s.send_to(data, path), 1.0)
            except (TypeError, ValueError, OSError, OverflowError):
                pass
            try:
                await eddy.wait_for(s.recv(n), 0.01)
            except (TypeError, ValueError, OSError, OverflowError, TimeoutError):
                pass

    run(main())
    assert open_fds() == fds0


@SETTINGS
@given(fd=junk | st.integers(min_value=-3, max_value=4096))
def test_from_fd_junk_never_crashes_or_leaks(fd):
    """from_fd with junk: TypeError / ValueError / OSError; a descriptor it was given
    is Eddy's (closed when refused). Numbers of descriptors this process holds are
    replaced by a fresh datagram socket's, so nothing of pytest's is taken."""
    import socket

    fds0 = open_fds()

    async def main():
        target = fd
        if isinstance(fd, int) and not isinstance(fd, bool) and 0 <= fd < 4096:
            target = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).detach()  # ours to give away
        try:
            s = eddy.UnixDatagramSocket.from_fd(target)  # type: ignore[arg-type]
        except (TypeError, ValueError, OSError, OverflowError):
            return
        async with s:
            assert s.local_address == ""

    run(main())
    assert open_fds() == fds0
