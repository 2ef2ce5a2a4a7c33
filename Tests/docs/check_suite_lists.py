#!/usr/bin/env python3
"""docs/RELIABILITY.md's suite lists and counts are what the make files run (issue 11).

    python3 Tests/docs/check_suite_lists.py NAME=WORDS...   (from mk/docs.mk)

Each NAME is a make variable (C_SUITES, REL_C_SUITES, VG_C_SUITES, SANLIB_TSAN_SUITES, ...)
with its value. In docs/RELIABILITY.md a span

    <!-- make:NAME -->25 suites: `tcp` `timers` ...<!-- /make -->

must name exactly the variable's words (each in backticks, optionally as `test_x`) and, when it
says "N suites", N must be their number (a span may give the count alone). `<!-- count:corpus -->11<!-- /count -->` is the
number of seeds in Tests/fuzz/corpus.txt. Also: every Tests/c/test_*.c is in C_SUITES or
REL_C_SUITES (no suite file that no target runs).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SPAN = re.compile(r"<!-- make:([A-Z_]+) -->(.*?)<!-- /make -->", re.S)
COUNT = re.compile(r"<!-- count:([a-z_]+) -->\s*(\d+)\s*<!-- /count -->")


def corpus_seeds(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.split("#", 1)[0].strip())


def check(doc: str, variables: dict[str, list[str]], suite_files: list[str], corpus: int) -> list[str]:
    problems = []
    spans = SPAN.findall(doc)
    if not spans:
        problems.append("no <!-- make:NAME --> span")
    for name, body in spans:
        if name not in variables:
            problems.append(f"<!-- make:{name} -->: no such variable was passed")
            continue
        named = {w.removeprefix("test_") for w in re.findall(r"`([a-z0-9_]+)`", body)}
        want = set(variables[name])
        m = re.search(r"(\d+)\s+suites?", body)
        if not named and not m:
            problems.append(f"<!-- make:{name} -->: names no suite and gives no count")
        if named and named != want:
            extra, missing = sorted(named - want), sorted(want - named)
            problems.append(f"{name}: the doc names {extra or 'nothing'} that do not run there and leaves out "
                            f"{missing or 'nothing'}")
        if m and int(m.group(1)) != len(want):
            problems.append(f"{name}: the doc says {m.group(1)} suites, {len(want)} run")
    counts = COUNT.findall(doc)
    for name, n in counts:
        if name != "corpus":
            problems.append(f"<!-- count:{name} -->: unknown count")
        elif int(n) != corpus:
            problems.append(f"the doc says {n} corpus seeds, Tests/fuzz/corpus.txt has {corpus}")
    run = set(variables.get("C_SUITES", [])) | set(variables.get("REL_C_SUITES", []))
    for s in suite_files:
        if s not in run:
            problems.append(f"Tests/c/test_{s}.c is in no suite list (C_SUITES, REL_C_SUITES): nothing runs it")
    return problems


def main() -> int:
    variables = {}
    for arg in sys.argv[1:]:
        name, _, words = arg.partition("=")
        variables[name] = words.split()
    doc_path = ROOT / "docs" / "RELIABILITY.md"
    files = sorted(p.stem.removeprefix("test_") for p in (ROOT / "Tests" / "c").glob("test_*.c"))
    problems = check(doc_path.read_text(), variables, files, corpus_seeds(ROOT / "Tests" / "fuzz" / "corpus.txt"))
    for p in problems:
        print(f"check_suite_lists: docs/RELIABILITY.md: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_suite_lists: docs/RELIABILITY.md's suite lists match {', '.join(sorted(variables))}; "
          f"{len(files)} C suite files, each run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
