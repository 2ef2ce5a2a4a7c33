#!/usr/bin/env python3
"""Every public declaration of the Swift module carries a `///` doc comment.

Scans Sources/Eddy (or the folders given) for `public`/`open` declarations and enum
cases; attributes (`@inlinable`, `@discardableResult`, ...) between the comment and the
declaration are allowed. DocC renders these comments as the reference (`make docs`), so an
undocumented symbol is a blank page there. Standard library only; part of `make test-docs`.
"""
import re
import sys
from pathlib import Path

DECL = re.compile(r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:nonisolated\(nonsending\)\s+)?"
                  r"(?:public|open)\s+(?!import\b)")
# `case a` / `case a(T)` / `case a, b` in an enum body; a switch's `case .a:` ends with ':'.
CASE = re.compile(r"^\s*case\s+[a-zA-Z_]\w*(?:\([^)]*\))?(?:\s*,\s*[a-zA-Z_]\w*(?:\([^)]*\))?)*\s*(?://.*)?$")
ATTR = re.compile(r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s*)+$")


def undocumented(path: Path):
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if not (DECL.match(line) or CASE.match(line)):
            continue
        j = i - 1
        while j >= 0 and ATTR.match(lines[j]):
            j -= 1
        if j < 0 or not lines[j].lstrip().startswith("///"):
            yield i + 1, line.strip()


def main():
    root = Path(__file__).resolve().parents[2]
    dirs = [Path(a) for a in sys.argv[1:]] or [root / "Sources" / "Eddy"]
    missing = [(f, n, text) for d in dirs for f in sorted(d.rglob("*.swift")) for n, text in undocumented(f)]
    for f, n, text in missing:
        print(f"{f.relative_to(root) if f.is_relative_to(root) else f}:{n}: no doc comment: {text[:100]}")
    print(f"doc comments: {len(missing)} public declarations without one" if missing
          else "doc comments: every public declaration has one")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
