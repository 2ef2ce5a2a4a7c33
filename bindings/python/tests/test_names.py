"""Names (issue 15 item 1) from Python: eddy.resolve on libeddy's blocking pool,
connect and listen by name, Happy Eyeballs over an address list (loopback only),
NameResolutionError with the host, bad input, and hypothesis over the new calls.
"localhost" and "LOCALHOST" are names getaddrinfo answers from /etc/hosts; the
binding's numeric fast path takes numeric addresses only."""
from __future__ import annotations

import pickle
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eddy
from conftest import open_fds


def run(coro):
    return eddy.run(coro)


def closed_port(host: str) -> int:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_resolve_a_name_and_a_number():
    async def main():
        assert await eddy.resolve("LOCALHOST", 80) == [("127.0.0.1", 80)]
        assert await eddy.resolve("::1", 5) == [("::1", 5)]
        assert await eddy.resolve("LOCALHOST") == [("127.0.0.1", 0)]

    run(main())


def test_unknown_name_fails_fast_with_the_host():
    async def main():
        t0 = time.monotonic()
        with pytest.raises(eddy.NameResolutionError) as ei:
            await eddy.connect("nonexistent.invalid", 80)
        assert time.monotonic() - t0 < 1.0
        e = ei.value
        assert isinstance(e, socket.gaierror) and isinstance(e, eddy.EddyError)
        assert e.host == "nonexistent.invalid"
        assert e.code == -5102 and e.name == "EDDY_EAI_NONAME"
        assert "nonexistent.invalid" in str(e) and "Name or service not known" in str(e)
        with pytest.raises(eddy.NameResolutionError) as ei:
            await eddy.resolve("x.invalid")
        assert ei.value.host == "x.invalid"
        with pytest.raises(eddy.NameResolutionError):
            await eddy.listen("y.invalid", 0)
        # Picklable with its host (errors cross process pools).
        again = pickle.loads(pickle.dumps(e))
        assert again.host == e.host and again.code == e.code

    run(main())


def test_bad_names_are_value_errors():
    async def main():
        for host in ["", "a" * 254, "a\x00b"]:
            with pytest.raises(ValueError):
                await eddy.resolve(host)
            with pytest.raises(ValueError):
                await eddy.connect(host, 1)
        with pytest.raises(TypeError):
            await eddy.resolve(b"localhost")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await eddy.resolve("LOCALHOST", -1)
        with pytest.raises(ValueError):
            await eddy.connect_addresses([])
        with pytest.raises(ValueError):
            await eddy.connect_addresses([("127.0.0.1", 1)] * 1025)
        with pytest.raises(ValueError):
            await eddy.connect_addresses([("LOCALHOST", 1)])  # addresses must be numeric
        with pytest.raises(TypeError):
            await eddy.connect_addresses([None])

    run(main())


def test_connect_and_listen_by_name():
    async def main():
        async with await eddy.listen("LOCALHOST", 0) as listener:
            assert listener.local_address[0] == "127.0.0.1"
            acc = eddy.spawn(listener.accept())
            async with await eddy.connect("LOCALHOST", listener.port) as c, await acc as s:
                await c.write_all(b"by name")
                assert await s.read_exactly(7) == b"by name"

    run(main())


def test_numeric_connect_needs_no_lookup():
    """A numeric host connects without the blocking pool (no job, no thread)."""
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as listener:
            acc = eddy.spawn(listener.accept())
            async with await eddy.connect("127.0.0.1", listener.port) as c, await acc as s:
                await c.write_all(b"n")
                assert await s.readexactly(1) == b"n"
            m = eddy.metrics()
            assert m.blocking_completed == 0 and m.blocking_threads == 0, m

    run(main())


def test_localhost_is_resolved_like_any_name():
    """Not an alias for 127.0.0.1: resolved on the pool (::1 and/or 127.0.0.1) and
    raced, so a server on 127.0.0.1 only is reached; numeric-only calls refuse it."""
    async def main():
        addrs = await eddy.resolve("localhost", 9)
        assert addrs and all(p == 9 for _, p in addrs)
        assert ("127.0.0.1", 9) in addrs or ("::1", 9) in addrs
        async with await eddy.listen("127.0.0.1", 0) as listener:
            jobs = eddy.metrics().blocking_completed
            acc = eddy.spawn(listener.accept())
            async with await eddy.connect("localhost", listener.port) as c, await acc as s:
                assert c.peer_address == ("127.0.0.1", listener.port)
                await c.write_all(b"hi")
                assert await s.readexactly(2) == b"hi"
            for _ in range(200):  # the counter moves just after the job's result is published
                if eddy.metrics().blocking_completed > jobs:
                    break
                await eddy.sleep(0.01)
            assert eddy.metrics().blocking_completed > jobs  # the lookup ran on the pool
        with pytest.raises(ValueError):
            await eddy.bind_udp("localhost", 0)  # UDP binds numeric addresses only

    run(main())


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_happy_eyeballs_refused_v6_then_v4():
    async def main():
        async with await eddy.listen("127.0.0.1", 0) as listener:
            acc = eddy.spawn(listener.accept())
            t0 = time.monotonic()
            c = await eddy.connect_addresses([("::1", closed_port("::1")), ("127.0.0.1", listener.port)])
            assert time.monotonic() - t0 < 0.2
            async with c, await acc:
                assert c.peer_address == ("127.0.0.1", listener.port)
        with pytest.raises(ConnectionRefusedError):
            await eddy.connect_addresses([("::1", closed_port("::1")), ("127.0.0.1", closed_port("127.0.0.1"))])

    run(main())


def test_happy_eyeballs_delay_then_winner_and_losers_closed():
    # A listener whose accept queue is full drops the next SYN: that attempt hangs.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    fillers = []
    for _ in range(2):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(hole.getsockname())
        fillers.append(f)
    time.sleep(0.1)
    fds0 = open_fds()

    async def main():
        async with await eddy.listen("127.0.0.1", 0) as listener:
            acc = eddy.spawn(listener.accept())
            t0 = time.monotonic()
            c = await eddy.connect_addresses([hole.getsockname(), ("127.0.0.1", listener.port)])
            took = time.monotonic() - t0
            async with c, await acc:
                assert c.peer_address == ("127.0.0.1", listener.port)
            assert 0.24 <= took < 0.9, took

    try:
        run(main())
        assert open_fds() == fds0  # the hanging attempt was closed
    finally:
        for f in fillers:
            f.close()
        hole.close()


def test_cancelled_lookup_leaks_nothing():
    fds0 = open_fds()

    async def main():
        for _ in range(20):
            t = eddy.spawn(eddy.resolve("LOCALHOST", 1))
            t.cancel()
            with pytest.raises(BaseException):
                await t
        with pytest.raises(TimeoutError):
            await eddy.wait_for(eddy.connect_addresses([("127.0.0.1", 1)] * 3), 0.0)

    run(main())
    assert open_fds() == fds0


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
hosts = st.one_of(st.sampled_from(["LOCALHOST", "nonexistent.invalid", "127.0.0.1", "::1", "", "a" * 300, "a\x00",
                                   "[::1]", "x.invalid."]),
                  st.none(), st.integers(), st.binary(max_size=8), st.just(object()))
# Port 0 (a connect is refused) or invalid ones: no connection may reach another
# program's listener on this shared machine.
ports = st.one_of(st.sampled_from([-3, 0, 65536, 70000, 2**40]), st.none(), st.booleans(), st.text(max_size=3))
addr = st.one_of(st.tuples(st.sampled_from(["127.0.0.1", "::1", "LOCALHOST", "", "1.2.3"]),
                           st.sampled_from([-2, 0, 65536])),
                 st.none(), st.integers(), st.text(max_size=4))
EXPECTED = (TypeError, ValueError, OverflowError, OSError, TimeoutError)


@SETTINGS
@given(host=hosts, port=ports, addrs=st.lists(addr, max_size=4))
def test_names_never_crash_or_leak(host, port, addrs):
    fds0 = open_fds()

    async def main():
        try:
            r = await eddy.resolve(host, port)
            assert r and all(isinstance(a, tuple) for a in r)
        except EXPECTED:
            pass
        try:
            c = await eddy.wait_for(eddy.connect(host, port), 1.0)
            c.close()
        except EXPECTED:
            pass
        try:
            c = await eddy.wait_for(eddy.connect_addresses(addrs), 1.0)
            c.close()
        except EXPECTED:
            pass

    run(main())
    assert open_fds() == fds0
