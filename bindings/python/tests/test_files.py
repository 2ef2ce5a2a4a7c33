"""Files through the blocking pool (issue 16 item 5): read_file/write_file, open_file's
AsyncFile, bad input (missing path, a directory, bad modes and sizes), and no
descriptor leaked by a cancelled open, read or write."""
from __future__ import annotations

import os
import threading

import pytest

import eddy
from conftest import open_fds


def test_whole_file_round_trip_and_append(tmp_path):
    p = tmp_path / "f.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)  # several CHUNK reads

    async def main():
        await eddy.write_file(p, data)
        assert await eddy.read_file(p) == data
        await eddy.write_file(str(p), b"tail", append=True)
        assert await eddy.read_file(os.fsencode(p)) == data + b"tail"
        await eddy.write_file(p, bytearray(b"short"))  # truncates
        assert await eddy.read_file(p) == b"short"
        await eddy.write_file(p, memoryview(b"xyz"))
        assert p.read_bytes() == b"xyz"

    before = open_fds()
    eddy.run(main())
    assert open_fds() == before


def test_streamed_reads_and_writes(tmp_path):
    p = tmp_path / "s.txt"

    async def main():
        async with await eddy.open_file(p, "wb") as f:
            for i in range(100):
                assert await f.write(b"%03d\n" % i) == 4
        assert f.closed
        async with await eddy.open_file(p) as f:
            assert await f.read(4) == b"000\n"
            assert await f.read(8) == b"001\n002\n"
            rest = await f.read()
            assert rest.startswith(b"003\n") and rest.endswith(b"099\n")
            assert await f.read(10) == b""
            assert await f.read(1 << 60) == b""  # a huge size allocates nothing up front
        async with await eddy.open_file(p, "r+b") as f:
            await f.write(b"XXX")
            assert await f.read(1) == b"\n"
        assert p.read_bytes().startswith(b"XXX\n001\n")
        with pytest.raises(FileExistsError):
            await eddy.open_file(p, "xb")

    before = open_fds()
    eddy.run(main())
    assert open_fds() == before


def test_missing_path_and_directory_are_clear_errors(tmp_path):
    missing = tmp_path / "nope" / "x"

    async def main():
        with pytest.raises(FileNotFoundError) as ei:
            await eddy.read_file(missing)
        assert ei.value.filename == str(missing)
        with pytest.raises(FileNotFoundError):
            await eddy.open_file(missing)
        with pytest.raises(FileNotFoundError):
            await eddy.write_file(missing, b"x")
        with pytest.raises(IsADirectoryError) as ei:
            await eddy.read_file(tmp_path)
        assert ei.value.filename == str(tmp_path)
        with pytest.raises(IsADirectoryError):
            await eddy.open_file(tmp_path)
        with pytest.raises(IsADirectoryError):
            await eddy.write_file(tmp_path, b"x")

    before = open_fds()
    eddy.run(main())
    assert open_fds() == before


def test_bad_arguments(tmp_path):
    p = tmp_path / "a"
    p.write_bytes(b"abc")

    async def main():
        for bad in ("rt", "q", "", "rw", "r++"):
            with pytest.raises(ValueError):
                await eddy.open_file(p, bad)
        with pytest.raises(TypeError):
            await eddy.open_file(p, 1)
        with pytest.raises(TypeError):
            await eddy.read_file(3.5)
        with pytest.raises(ValueError):
            await eddy.read_file("a\x00b")
        with pytest.raises(TypeError):
            await eddy.write_file(p, "text")
        async with await eddy.open_file(p) as f:
            for bad in (-2, -(1 << 70)):
                with pytest.raises(ValueError):
                    await f.read(bad)
            with pytest.raises(TypeError):
                await f.read("1")
        with pytest.raises(eddy.ClosedResourceError):
            await f.read(1)
        with pytest.raises(eddy.ClosedResourceError):
            await f.write(b"x")
        await f.close()  # idempotent

    eddy.run(main())


def test_cancelled_open_closes_its_descriptor(tmp_path):
    """The open job runs while its caller is cancelled: the descriptor it made is
    closed by the job, not leaked (the pool is held busy so the cancel lands
    while the open is queued or running)."""
    p = tmp_path / "c"
    p.write_bytes(b"x")
    gate = threading.Event()

    async def main():
        for _ in range(20):
            gate.clear()
            blockers = [eddy.spawn(eddy.to_thread(gate.wait)) for _ in range(1)]
            t = eddy.spawn(eddy.open_file(p))
            await eddy.sleep(0)
            t.cancel()
            gate.set()
            with pytest.raises(eddy.CancelledError):
                await t
            for b in blockers:
                await b
        await eddy.sleep(0.05)

    before = open_fds()
    eddy.run(main(), blocking_threads=1)
    assert open_fds() == before


def test_close_during_a_running_read_waits_for_it(tmp_path):
    """close() while a cancelled read still runs on a pool thread: the job keeps the
    descriptor until it ends and then closes it (never a closed or reused fd under
    a running read)."""
    p = tmp_path / "big"
    p.write_bytes(os.urandom(8 * 1024 * 1024))

    async def main():
        f = await eddy.open_file(p)
        t = eddy.spawn(f.read())
        await eddy.sleep(0)
        t.cancel()
        await f.close()
        with pytest.raises(eddy.CancelledError):
            await t
        for _ in range(100):  # the job, if it started, closes the descriptor at its end
            if f._fd < 0:
                break
            await eddy.sleep(0.01)
        assert f._fd < 0

    before = open_fds()
    eddy.run(main())
    assert open_fds() == before


def test_unclosed_file_is_closed_when_collected(tmp_path):
    p = tmp_path / "u"
    p.write_bytes(b"u")

    async def main():
        f = await eddy.open_file(p)
        assert await f.read() == b"u"
        del f

    before = open_fds()
    eddy.run(main())
    assert open_fds() == before


@pytest.mark.parametrize("caller_gone_first", [False, True])
def test_open_handover_closes_the_descriptor_of_a_caller_that_gave_up(tmp_path, caller_gone_first):
    """Both orders of the race between the open job finishing and its caller being
    cancelled (open_file's except branch): the descriptor is closed either way."""
    from eddy._files import _Opening

    p = tmp_path / "h"
    p.write_bytes(b"h")
    before = open_fds()
    o = _Opening()
    if caller_gone_first:
        o.abandon()
        o.job(str(p), os.O_RDONLY | os.O_CLOEXEC)  # the job closes what it opened
    else:
        o.job(str(p), os.O_RDONLY | os.O_CLOEXEC)
        assert open_fds() == before + 1
        o.abandon()  # the caller closes what the job handed over
    assert open_fds() == before
