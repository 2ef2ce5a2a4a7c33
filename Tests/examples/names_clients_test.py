"""Every example client names the host when a name does not resolve (issue 15 item 1):
the C, Python and Swift delay clients against "nonexistent.invalid" fail fast (no DNS
query: RFC 6761's .invalid is refused by libeddy itself), exit non-zero, and print
the host and getaddrinfo's message.

    names_clients_test.py C_DELAY_CLIENT SWIFT_DELAY_CLIENT   (EDDY_LIBRARY for Python)
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = "nonexistent.invalid"


def check(name: str, argv: list) -> None:
    t0 = time.monotonic()
    p = subprocess.run(argv + ["--host", HOST, "--port", "80", "-n", "2"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ))
    took = time.monotonic() - t0
    out = p.stdout + p.stderr
    assert p.returncode != 0, f"{name}: exit 0 for an unknown host\n{out}"
    assert HOST in out, f"{name}: the host is not in the error\n{out}"
    assert "Name or service not known" in out, f"{name}: not getaddrinfo's message\n{out}"
    assert took < 20, f"{name}: {took:.1f} s for an unknown name"
    print(f"{name}: ok ({took:.2f} s): {out.strip().splitlines()[0]}")


def main() -> int:
    c_client, swift_client = sys.argv[1], sys.argv[2]
    check("C", [c_client])
    check("Python", [sys.executable, str(REPO / "examples/python/delay_client.py")])
    check("Swift", [swift_client])
    return 0


if __name__ == "__main__":
    sys.exit(main())
