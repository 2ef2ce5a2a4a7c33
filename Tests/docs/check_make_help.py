#!/usr/bin/env python3
"""`make help` lists the targets a user meets, one line each (issue 12, section 4).

    python3 Tests/docs/check_make_help.py HELP_FILE TEST_TARGETS...

HELP_FILE holds the output of `make help`. Checked:
  - every line under a file heading is `  NAME  one line of text` (no empty description,
    no target listed twice);
  - every target of TEST_TARGETS (what `make test` runs) is listed;
  - every target the docs tell a user to run (a backticked `make NAME ...` in README.md,
    docs/*.md, bindings/python/README.md, the DocC catalog) is listed.
A target added without its `## ` text therefore fails `make test-docs`.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = (
    [ROOT / "README.md", ROOT / "bindings" / "python" / "README.md"]
    + sorted((ROOT / "docs").glob("*.md"))
    + sorted((ROOT / "Sources" / "Eddy" / "Eddy.docc").glob("*.md"))
)
MAKE_CALL = re.compile(r"`make ([a-z0-9_.-]+)[^`]*`")


def parse_help(text: str) -> tuple[dict[str, str], list[str]]:
    """Target -> description, and the problems found in the listing itself."""
    targets: dict[str, str] = {}
    problems = []
    for line in text.splitlines():
        if not line.strip() or not line.startswith(" "):
            continue  # a file heading
        m = re.match(r"^  (\S+)\s+(\S.*)$", line)
        if not m:
            problems.append(f"help line without a description: {line!r}")
            continue
        name, desc = m.groups()
        if name in targets:
            problems.append(f"target {name} listed twice")
        targets[name] = desc
    return targets, problems


def documented_calls() -> dict[str, str]:
    """Target -> the first doc that tells a user to run it."""
    calls: dict[str, str] = {}
    for doc in DOCS:
        for m in MAKE_CALL.finditer(doc.read_text()):
            calls.setdefault(m.group(1), str(doc.relative_to(ROOT)))
    return calls


def check(help_text: str, test_targets: list[str], calls: dict[str, str]) -> list[str]:
    targets, problems = parse_help(help_text)
    if not targets:
        problems.append("make help listed no targets")
    for t in test_targets:
        if t not in targets:
            problems.append(f"{t} (in TEST_TARGETS, run by make test) has no `## ` line in make help")
    for t, doc in sorted(calls.items()):
        if t not in targets:
            problems.append(f"`make {t}` (named in {doc}) has no `## ` line in make help")
    return problems


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    help_text = Path(sys.argv[1]).read_text()
    problems = check(help_text, sys.argv[2:], documented_calls())
    for p in problems:
        print(f"check_make_help: {p}", file=sys.stderr)
    if problems:
        return 1
    n = len(parse_help(help_text)[0])
    print(f"check_make_help: {n} targets in make help, every TEST_TARGETS entry and documented `make` call among them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
