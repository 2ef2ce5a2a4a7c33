"""Smoke test of an installed eddy wheel (`make test-wheel`), run from a folder outside the
repository with no EDDY_LIBRARY / LD_LIBRARY_PATH: the package must use its own library.

usage: python smoke.py EXPECTED_VERSION   (the header's MAJOR.MINOR.PATCH)
"""
import os
import sys
import sysconfig
from pathlib import Path

import eddy
from eddy import _lib

expected = sys.argv[1]
pkg = Path(eddy.__file__).resolve().parent
site = Path(sysconfig.get_paths()["platlib"]).resolve()
assert "EDDY_LIBRARY" not in os.environ and "LD_LIBRARY_PATH" not in os.environ, "the environment must be clean"
assert pkg.parent == site, f"eddy imported from {pkg}, not from the venv's {site}"
assert eddy.library_version() == expected, f"library {eddy.library_version()!r}, header {expected!r}"
assert _lib._path == str(pkg / "libeddy.so"), f"loaded {_lib._path}, not the package's copy"


async def main() -> bytes:
    listener = await eddy.listen("127.0.0.1", 0)

    async def serve() -> None:
        async with await listener.accept() as conn:
            while data := await conn.read(4096):
                await conn.write_all(data)

    eddy.spawn(serve())
    async with await eddy.connect("127.0.0.1", listener.port) as c:
        await c.write_all(b"hello wheel")
        await c.shutdown()
        return await c.read_exactly(11)


assert eddy.run(main()) == b"hello wheel"
print(f"wheel smoke test: eddy {eddy.library_version()} from {_lib._path}: echo ok")
