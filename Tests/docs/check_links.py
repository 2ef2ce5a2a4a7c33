#!/usr/bin/env python3
"""Every relative link of the docs names a file inside the repository (issue 12: the docs
point at nothing outside it, and at nothing that is gone).

    python3 Tests/docs/check_links.py [FILE.md ...]   (default: the files test-docs checks)

Checked: Markdown links `[text](target)` outside code blocks whose target is not a URL
(`scheme:`) or an anchor (`#...`): the target, relative to the file, must exist and lie
inside the repository.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.S | re.M)


def default_files() -> list[Path]:
    return ([ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
            + sorted((ROOT / "Sources" / "Eddy" / "Eddy.docc").glob("*.md"))
            + [ROOT / "bindings" / "python" / "README.md"])


def check(path: Path, root: Path = ROOT) -> list[str]:
    text = FENCED.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    problems = []
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
            continue
        rel = target.split("#", 1)[0]
        where = (path.parent / rel).resolve()
        try:
            where.relative_to(root.resolve())
        except ValueError:
            problems.append(f"{path}: link ({target}) points outside the repository")
            continue
        if not where.exists():
            problems.append(f"{path}: link ({target}) names a file that does not exist")
    return problems


def main() -> int:
    files = [Path(a).resolve() for a in sys.argv[1:]] or default_files()
    problems = [p for f in files for p in check(f)]
    for p in problems:
        print(f"check_links: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_links: every relative link of {len(files)} files names a file in the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
