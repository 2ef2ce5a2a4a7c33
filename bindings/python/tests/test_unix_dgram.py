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
