#!/usr/bin/env python3
"""Build (and run) every fenced code block of Eddy's Markdown docs: `make test-docs`.

Blocks by info string:
  swift      one executable target each (its main.swift) in one consumer package that
             depends on Eddy by path; one `swift build` for all, then each is run
  c          cc -std=c11 -Wall -Wextra -Werror, linked against the built libeddy.so, run
  python     run with EDDY_LIBRARY set, from a scratch folder
  sh, bash, console, shell
             commands for users: listed, not run (by design)
  text, none prose, tables, diagrams: listed, not code
Anything else is an error, so a new language is not silently ignored.

Markers, an HTML comment on the line just above the fence (GitHub does not render it):
  <!-- fragment: reason -->     not a whole program; skipped and listed with the reason
  <!-- build-only: reason -->   compiled (Python: byte-compiled) but not run, e.g. it
                                serves forever or needs a peer the check does not start
The info string may also carry `fragment` (```c fragment), with no reason.

An indented code block (four spaces after a blank line, outside a list) is an error: the
extractor sees fenced blocks only, so every block must be one.

Every run is bounded by a timeout; the last line is "test-docs: N passed, N failed".
Standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RUN_TIMEOUT = 60
SHELL_LANGS = {"sh", "bash", "console", "shell", "shell-session"}
TEXT_LANGS = {"", "text", "txt", "plain", "diagram"}
CODE_LANGS = {"swift", "c", "python"}
MARKER = re.compile(r"^\s*<!--\s*(fragment|build-only)\s*(?::\s*(.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$")
INDENTED = re.compile(r"^( {4}|\t)")
LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")


@dataclass
class Block:
    path: str          # relative to the repository
    line: int          # 1-based line of the opening fence
    lang: str
    words: list        # rest of the info string
    code: str
    marker: str = ""   # "fragment" / "build-only" / ""
    reason: str = ""
    name: str = field(default="")

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def extract(root: Path, rel: str) -> list:
    """Fenced blocks of one Markdown file, with the marker just above each."""
    lines = (root / rel).read_text(encoding="utf-8").split("\n")
    blocks, i = [], 0
    prev_blank, in_list = True, False
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            line = lines[i]
            if not line.strip():
                prev_blank = True
            else:
                if prev_blank and not line.startswith((" ", "\t")):
                    in_list = bool(LIST_ITEM.match(line))  # a new paragraph: a list item or not
                elif LIST_ITEM.match(line):
                    in_list = True
                if prev_blank and INDENTED.match(line) and not in_list:
                    # Markdown's other code block: invisible to the fence parser, so refused.
                    raise SystemExit(f"{rel}:{i + 1}: indented code block: fence it (```sh, ```text, ...) "
                                     "so that test-docs sees it")
                prev_blank = False
            i += 1
            continue
        prev_blank, in_list = False, False
        indent, fence, lang, rest = m.groups()
        start, body = i, []
        i += 1
        while i < len(lines):
            close = lines[i].strip()
            if close.startswith(fence[0] * len(fence)) and close.strip(fence[0]) == "":
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        else:
            raise SystemExit(f"{rel}:{start + 1}: unclosed code fence")
        i += 1
        b = Block(rel, start + 1, lang.lower(), rest.split(), "\n".join(body) + "\n")
        above = lines[start - 1] if start > 0 else ""
        mm = MARKER.match(above)
        if mm:
            b.marker, b.reason = mm.group(1), (mm.group(2) or "").strip()
        elif "fragment" in b.words:
            b.marker, b.reason = "fragment", "info string"
        if b.marker and not b.reason:
            raise SystemExit(f"{b.where}: a {b.marker} marker needs a reason: <!-- {b.marker}: why -->")
        ident = re.sub(r"[^A-Za-z0-9]+", "_", rel.removesuffix(".md")).strip("_")
        b.name = f"doc_{ident}_{b.line}"
        blocks.append(b)
    return blocks


def run(cmd, *, cwd=None, env=None, timeout=RUN_TIMEOUT):
    """(ok, output) of one bounded command."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.returncode == 0, p.stdout + ("" if p.returncode == 0 else f"\n(exit {p.returncode})")
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return False, out + f"\n(timed out after {timeout} s)"


def swift_package(root: Path, out: Path, blocks: list) -> None:
    """The consumer package: one executable target per Swift block."""
    src = out / "Sources"
    names = {b.name for b in blocks}
    if src.exists():  # targets of blocks that no longer exist must go
        for d in src.iterdir():
            if d.name not in names:
                shutil.rmtree(d)
    # A path dependency's identity is its folder's name, whatever the clone is called.
    identity = root.name
    targets = []
    for b in blocks:
        (src / b.name).mkdir(parents=True, exist_ok=True)
        write_if_changed(src / b.name / "main.swift", f"// {b.where}\n{b.code}")
        targets.append(f'        .executableTarget(name: "{b.name}", dependencies: [.product(name: "Eddy", package: "{identity}")],\n'
                       f'                          swiftSettings: strict),')
    manifest = f"""// swift-tools-version:6.1
// Generated by Tests/docs/check_docs.py from the docs' Swift blocks: do not edit.
import PackageDescription

// Warnings are errors, as for the C blocks (-Werror).
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "DocsCheck",
    dependencies: [.package(path: "{root}")],
    targets: [
{chr(10).join(targets)}
    ],
    swiftLanguageModes: [.v6]
)
"""
    write_if_changed(out / "Package.swift", manifest)


def write_if_changed(path: Path, text: str) -> None:
    """Unchanged files keep their time stamps, so SwiftPM rebuilds only edited blocks."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def check_swift(root, out, blocks, results):
    if not blocks:
        return
    pkg = out / "swift"
    pkg.mkdir(parents=True, exist_ok=True)
    swift_package(root, pkg, blocks)
    t0 = time.monotonic()
    ok, log = run(["swift", "build", "--package-path", str(pkg)], timeout=1800)
    print(f"   (swift build of {len(blocks)} doc targets: {time.monotonic() - t0:.1f} s)")
    bindir = pkg / ".build" / "debug"
    attributed = False
    for b in blocks:
        if not ok:
            # Attribute compiler errors to the blocks they name; the rest did not build either.
            mine = sorted({l for l in log.splitlines() if f"/{b.name}/" in l and "error:" in l})
            attributed |= bool(mine)
            results.fail(b, "swift build failed" + ("" if mine else " (not built: see the other blocks)"),
                         "\n".join(mine))
            continue
        if b.marker == "build-only":
            results.ok(b, f"built (build-only: {b.reason})")
            continue
        rok, rlog = run([str(bindir / b.name)], cwd=out)
        results.ok(b, "built and ran") if rok else results.fail(b, "ran and failed", rlog)
    if not ok and not attributed:
        print(log[-6000:])


def check_c(root, out, blocks, results, clibdir):
    cdir = out / "c"
    cdir.mkdir(parents=True, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    for b in blocks:
        srcf, exe = cdir / f"{b.name}.c", cdir / b.name
        srcf.write_text(f"/* {b.where} */\n{b.code}", encoding="utf-8")
        ok, log = run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", f"-I{root / 'include'}",
                       "-o", str(exe), str(srcf), f"-L{clibdir}", "-leddy", f"-Wl,-rpath,{clibdir}"])
        if not ok:
            results.fail(b, "cc failed", log)
        elif b.marker == "build-only":
            results.ok(b, f"built (build-only: {b.reason})")
        else:
            rok, rlog = run([str(exe)], cwd=cdir)
            results.ok(b, "built and ran") if rok else results.fail(b, "ran and failed", rlog)


def check_python(root, out, blocks, results, python, library):
    pdir = out / "python"
    pdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, EDDY_LIBRARY=str(library),
               PYTHONPATH=os.pathsep.join(filter(None, [str(root / "bindings" / "python"),
                                                       os.environ.get("PYTHONPATH")])))
    for b in blocks:
        srcf = pdir / f"{b.name}.py"
        srcf.write_text(f"# {b.where}\n{b.code}", encoding="utf-8")
        if b.marker == "build-only":
            ok, log = run([python, "-m", "py_compile", str(srcf)], env=env)
            results.ok(b, f"compiled (build-only: {b.reason})") if ok else results.fail(b, "py_compile failed", log)
        else:
            ok, log = run([python, str(srcf)], cwd=pdir, env=env)
            results.ok(b, "ran") if ok else results.fail(b, "ran and failed", log)


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = self.notcode = 0

    def ok(self, b, what):
        self.passed += 1
        print(f"ok     {b.where} ({b.lang}): {what}")

    def fail(self, b, what, log=""):
        self.failed += 1
        print(f"FAIL   {b.where} ({b.lang}): {what}")
        if log:
            print("       " + log.strip().replace("\n", "\n       "))

    def skip(self, b, what):
        self.skipped += 1
        print(f"skip   {b.where} ({b.lang or 'no language'}): {what}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    ap.add_argument("--out", type=Path, required=True, help="scratch folder (e.g. .build/docs-check)")
    ap.add_argument("--library", type=Path, required=True, help="the built libeddy.so")
    ap.add_argument("--c-libdir", type=Path, required=True, help="folder with libeddy.so and its soname link")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--only", choices=sorted(CODE_LANGS), action="append", help="check only these languages")
    ap.add_argument("files", nargs="*", help="Markdown files (default: README.md docs/*.md bindings/python/README.md)")
    a = ap.parse_args()
    root, out = a.root.resolve(), a.out.resolve()
    files = a.files or (["README.md"] + sorted(str(p.relative_to(root)) for p in (root / "docs").glob("*.md"))
                        + sorted(str(p.relative_to(root)) for p in (root / "Sources" / "Eddy" / "Eddy.docc").glob("*.md"))
                        + ["bindings/python/README.md"])
    blocks = [b for f in files for b in extract(root, f)]
    if not blocks:
        raise SystemExit("test-docs: no code blocks found")

    results, todo = Results(), {lang: [] for lang in CODE_LANGS}
    for b in blocks:
        if b.marker == "fragment":
            results.skip(b, f"skipped fragment ({b.reason})")
        elif b.lang in SHELL_LANGS:
            results.skip(b, "commands for users, not run by design")
        elif b.lang in TEXT_LANGS:
            results.skip(b, "text, not code")
        elif b.lang in CODE_LANGS:
            if not a.only or b.lang in a.only:
                todo[b.lang].append(b)
        else:
            results.fail(b, f"unknown language '{b.lang}': teach Tests/docs/check_docs.py or mark it")

    out.mkdir(parents=True, exist_ok=True)
    check_c(root, out, todo["c"], results, a.c_libdir.resolve())
    check_python(root, out, todo["python"], results, a.python, a.library.resolve())
    check_swift(root, out, todo["swift"], results)
    print(f"test-docs: {results.passed} passed, {results.failed} failed, {results.skipped} skipped")
    sys.exit(1 if results.failed else 0)


if __name__ == "__main__":
    main()
