"""Property tests (hypothesis) for the buffered reads (issue 15 item 5): however the
peer's bytes are split into writes, readline/readexactly give the same lines and frames
as a plain split of the data, lines over the limit are errors, junk arguments are
exceptions, and no descriptor is lost."""
from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eddy
from conftest import open_fds

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

lines_st = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"_")), max_size=20)


def chunked(data: bytes, cuts: list) -> list:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points + [len(data)]:
        out.append(data[last:p])
        last = p
    return out


async def serve(chunks: list, limit: int, consume):
    async with await eddy.listen("127.0.0.1", 0) as listener:
        accepted = eddy.spawn(listener.accept())
        async with await eddy.connect("127.0.0.1", listener.port) as c, await accepted as s:
            s.limit = limit

            async def send():
                for ch in chunks:
                    await c.write_all(ch)
                    await eddy.sleep(0)
                await c.shutdown()

            t = eddy.spawn(send())
            try:
                return await consume(s)
            finally:
                await t


@SETTINGS
@given(lines=lines_st, tail=st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"_")),
       cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
       limit=st.integers(min_value=1, max_value=60))
def test_lines_do_not_depend_on_how_the_bytes_were_split(lines, tail, cuts, limit):
    data = b"".join(line + b"\n" for line in lines) + tail

    async def consume(s):
        got = []
        while True:
            try:
                line = await s.readline()
            except ValueError:
                got.append("over")
                continue
            if not line:
                return got
            got.append(line)

    before = open_fds()
    got = eddy.run(serve(chunked(data, cuts), limit, consume))
    assert open_fds() == before
    if all(len(line) <= limit for line in lines) and len(tail) <= limit:
        assert got == [line + b"\n" for line in lines] + ([tail] if tail else [])
    else:
        assert "over" in got  # an over-long line is an error, never a line longer than the limit
        assert all(x == "over" or len(x) <= limit + 1 for x in got)


@SETTINGS
@given(frames=st.lists(st.binary(max_size=300), max_size=8),
       cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
def test_length_prefixed_frames(frames, cuts):
    data = b"".join(struct.pack("!H", len(f)) + f for f in frames)

    async def consume(s):
        got = []
        while True:
            try:
                (n,) = struct.unpack("!H", await s.readexactly(2))
            except eddy.IncompleteReadError as e:
                assert e.partial == b""
                return got
            got.append(await s.readexactly(n))

    assert eddy.run(serve(chunked(data, cuts), 1000, consume)) == frames


junk = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                 st.floats(allow_nan=True), st.text(max_size=5), st.binary(max_size=70), st.just(object()))


@SETTINGS
@given(sep=junk, n=junk, limit=junk)
def test_junk_arguments_are_exceptions(sep, n, limit):
    async def consume(s):
        for call in (lambda: s.readuntil(sep), lambda: eddy.wait_for(s.readexactly(n), 0.02)):
            try:
                await call()
            except (TypeError, ValueError, TimeoutError, eddy.IncompleteReadError, eddy.LimitOverrunError):
                pass
        try:
            s.limit = limit
        except (TypeError, ValueError):
            pass

    before = open_fds()
    eddy.run(serve([b"abc\n"], 100, consume))
    assert open_fds() == before
