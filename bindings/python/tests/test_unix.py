"""Unix-domain stream sockets (issue 15): the TcpStream API over a path or an abstract
name, unlink-on-close, stale files, no listener, paths too long, bad input."""
from __future__ import annotations

import errno
import os

import pytest

import eddy
from conftest import open_fds


def run(coro):
    return eddy.run(coro)


@pytest.mark.parametrize("abstract", [False, True])
def test_echo(tmp_path, abstract):
    path = f"@eddy-py-test-{os.getpid()}" if abstract else tmp_path / "e.sock"

    async def main():
        async with await eddy.listen_unix(path, unlink_on_close=True) as listener:
            acc = eddy.spawn(listener.accept())
            async with await eddy.connect_unix(path) as c, await acc as s:
                await c.write_all(b"ping")
                await c.shutdown()
                assert await s.read_exactly(4) == b"ping"
                assert await s.read(10) == b""
                await s.write_all(b"pong")
                assert await c.read(10) == b"pong"
                with pytest.raises(OSError):
                    s.local_address  # not an IP address
                assert s.peer_credentials == (os.getpid(), os.geteuid(), os.getegid())
                assert c.peer_credentials == (os.getpid(), os.geteuid(), os.getegid())
        if not abstract:
            assert not path.exists()  # unlinked on close

    run(main())


def test_stale_file_no_listener_too_long(tmp_path):
    fds = open_fds()
    p = tmp_path / "s.sock"

    async def main():
        listener = await eddy.listen_unix(p)
        with pytest.raises(OSError) as ei:
            await eddy.listen_unix(p)
        assert ei.value.errno == errno.EADDRINUSE
        listener.close()
        assert p.exists()  # kept
        with pytest.raises(ConnectionRefusedError):
            await eddy.connect_unix(p)
        (await eddy.listen_unix(str(p))).close()  # the stale file is replaced
        with pytest.raises(FileNotFoundError):
            await eddy.connect_unix(tmp_path / "none.sock")
        long = str(tmp_path / ("x" * 120))
        for coro in (eddy.listen_unix(long), eddy.connect_unix(long)):
            with pytest.raises(OSError) as ei:
                await coro
            assert ei.value.errno == errno.ENAMETOOLONG
        for bad in ("", "@", "a\x00b"):
            with pytest.raises(ValueError):
                await eddy.listen_unix(bad)
        with pytest.raises(TypeError):
            await eddy.connect_unix(42)
        (tmp_path / "regular").write_text("x")
        with pytest.raises(OSError):
            await eddy.listen_unix(tmp_path / "regular")
        assert (tmp_path / "regular").read_text() == "x"

    run(main())
    assert open_fds() == fds


def test_pass_descriptors(tmp_path):
    fds = open_fds()

    async def main():
        path = tmp_path / "fd.sock"
        async with await eddy.listen_unix(path, unlink_on_close=True) as listener:
            acc = eddy.spawn(listener.accept())
            async with await eddy.connect_unix(path) as c, await acc as s:
                r, w = os.pipe()
                await c.send_fd(w)
                got = await s.recv_fd()
                assert got not in (r, w)
                os.write(got, b"through")
                assert os.read(r, 10) == b"through"
                for fd in (r, w, got):
                    os.close(fd)
                with pytest.raises(OSError) as ei:
                    await c.send_fd(w)  # closed now
                assert ei.value.errno == errno.EBADF
                await c.write_all(b"x")
                with pytest.raises(OSError) as ei:
                    await s.recv_fd()  # plain data
                assert ei.value.errno == errno.EBADMSG
                await c.shutdown()
                with pytest.raises(OSError) as ei:
                    await s.recv_fd()
                assert ei.value.errno == errno.ENODATA
                with pytest.raises(TypeError):
                    await c.send_fd("0")

    run(main())
    assert open_fds() == fds
