"""The kernel interface of a run: eddy.run(driver=...), $EDDY_DRIVER, the fallback to
epoll with its reason (issue 18). The other tests run on whichever driver $EDDY_DRIVER
names (`make test` runs them once per driver)."""

from __future__ import annotations

import errno

import pytest

import eddy


async def _info() -> eddy.DriverInfo:
    return eddy.driver_info()


async def _echo() -> bytes:
    async with await eddy.listen("127.0.0.1", 0) as listener:
        async with await eddy.connect("127.0.0.1", listener.port) as c:
            s = await listener.accept()
            async with s:
                await c.write_all(b"ping")
                return await s.read_exactly(4)


def test_explicit_epoll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDDY_DRIVER", "io_uring")
    assert eddy.run(_info(), driver="epoll") == eddy.DriverInfo("epoll", None)


def test_io_uring_or_a_reason() -> None:
    info = eddy.run(_info(), driver="io_uring")
    assert (info.name == "io_uring") == (info.fallback is None)
    assert info.name in ("io_uring", "epoll")


def test_environment_picks_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDDY_DRIVER", "epoll")
    assert eddy.run(_info()).name == "epoll"
    monkeypatch.delenv("EDDY_DRIVER")
    assert eddy.run(_info()).name == "epoll"
    monkeypatch.setenv("EDDY_DRIVER", "io_uring")
    info = eddy.run(_info())
    assert info.name == "io_uring" or info.fallback is not None
    monkeypatch.setenv("EDDY_DRIVER", "kqueue")
    with pytest.raises(eddy.InvalidArgumentError):
        eddy.run(_info())


def test_bad_driver_argument() -> None:
    with pytest.raises(eddy.InvalidArgumentError):
        eddy.run(_info(), driver="uring")


@pytest.mark.parametrize("code", [errno.ENOSYS, errno.EPERM])
def test_refused_setup_falls_back_to_epoll_with_the_reason(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    # The test hook makes io_uring_setup fail as an old kernel (ENOSYS), seccomp or
    # kernel.io_uring_disabled (EPERM) would.
    monkeypatch.setenv("EDDY_TEST_IO_URING_SETUP_ERRNO", str(code))
    info = eddy.run(_info(), driver="io_uring")
    assert info.name == "epoll"
    assert isinstance(info.fallback, OSError) and info.fallback.errno == code
    assert eddy.run(_echo(), driver="io_uring") == b"ping"


def test_driver_info_outside_a_run() -> None:
    with pytest.raises(RuntimeError):
        eddy.driver_info()
