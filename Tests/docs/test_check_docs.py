#!/usr/bin/env python3
"""The doc checkers fail when they should: broken blocks, unknown languages, markers.

Run by `make test-docs` before the real check (C and Python blocks only: no Swift build).
Usage: test_check_docs.py LIBEDDY_SO C_LIBDIR
"""
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIBRARY, C_LIBDIR = sys.argv[1], sys.argv[2]

SAMPLE = textwrap.dedent("""\
    <!-- fragment: only the call -->
    ```c
    eddy_runtime_free(rt);
    ```
    ```c
    int main(void) { int unused; return 0; }
    ```
    ```c
    #include <eddy.h>
    int main(void) { return eddy_version() > 0 ? 0 : 1; }
    ```
    ```python
    raise SystemExit(3)
    ```
    <!-- build-only: serves forever -->
    ```python
    while True: pass
    ```
    ```python
    import eddy
    async def main():
        await eddy.sleep(0)
        return 7
    assert eddy.run(main()) == 7
    ```
    ```sh
    rm -rf /
    ```
    ```yaml
    a: 1
    ```
    """)


class CheckDocs(unittest.TestCase):
    def check(self, text):
        with tempfile.TemporaryDirectory() as tmp:
            md = Path(tmp) / "sample.md"
            md.write_text(text)
            # The repository's include/ and bindings/python; the sample file from elsewhere.
            p = subprocess.run([sys.executable, str(HERE / "check_docs.py"), "--root", str(ROOT),
                                "--out", str(Path(tmp) / "out"), "--library", LIBRARY,
                                "--c-libdir", C_LIBDIR, str(md)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        return p.returncode, p.stdout.replace(str(md), "sample.md")

    def test_each_kind_of_block(self):
        rc, out = self.check(SAMPLE)
        self.assertEqual(rc, 1, out)
        self.assertIn("skip   sample.md:2 (c): skipped fragment (only the call)", out)
        self.assertIn("FAIL   sample.md:5 (c): cc failed", out)           # -Werror: unused variable
        self.assertIn("ok     sample.md:8 (c): built and ran", out)        # linked against libeddy.so
        self.assertIn("FAIL   sample.md:12 (python): ran and failed", out)
        self.assertIn("ok     sample.md:16 (python): compiled (build-only: serves forever)", out)
        self.assertIn("ok     sample.md:19 (python): ran", out)
        self.assertIn("skip   sample.md:26 (sh): commands for users, not run by design", out)
        self.assertIn("FAIL   sample.md:29 (yaml): unknown language 'yaml'", out)
        self.assertIn("test-docs: 3 passed, 3 failed, 2 skipped", out)

    def test_marker_needs_a_reason(self):
        rc, out = self.check("<!-- fragment -->\n```c\nx\n```\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("needs a reason", out)

    def test_indented_code_block_is_refused(self):
        rc, out = self.check("Install:\n\n    pip install eddy\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("sample.md:3: indented code block", out)
        # a list item's continuation is not a code block
        rc, out = self.check("- item\n\n    more of the item\n\n```python\nprint(1)\n```\n")
        self.assertEqual(rc, 0, out)

    def test_unclosed_fence(self):
        rc, out = self.check("```c\nint x;\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("unclosed code fence", out)


class CheckDocComments(unittest.TestCase):
    def test_undocumented_public_declaration_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "A.swift").write_text(textwrap.dedent("""\
                /// Documented.
                public struct A {
                    /// Documented, behind an attribute line.
                    @inlinable @inline(__always)
                    public func f() {}
                    public var bare: Int { 0 }
                }
                /// Documented.
                public enum E {
                    case one, two
                }
                """))
            p = subprocess.run([sys.executable, str(HERE / "check_doc_comments.py"), tmp],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("A.swift:6: no doc comment: public var bare", p.stdout)
        self.assertIn("A.swift:10: no doc comment: case one, two", p.stdout)
        self.assertIn("2 public declarations without one", p.stdout)


class CheckMakeHelp(unittest.TestCase):
    HELP = "Makefile\n  test               every suite\n  build              release build\n"

    def run_check(self, help_text, *test_targets):
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "help.txt"
            f.write_text(help_text)
            return subprocess.run([sys.executable, str(HERE / "check_make_help.py"), str(f), *test_targets],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)

    def test_checker_logic(self):
        sys.path.insert(0, str(HERE))
        import check_make_help as c
        self.assertEqual(c.check(self.HELP, ["test"], {"build": "README.md"}), [])
        # a TEST_TARGETS entry or a documented `make x` without its `## ` line
        self.assertIn("test-new (in TEST_TARGETS, run by make test) has no `## ` line in make help",
                      c.check(self.HELP, ["test", "test-new"], {}))
        self.assertIn("`make docs` (named in docs/X.md) has no `## ` line in make help",
                      c.check(self.HELP, [], {"docs": "docs/X.md"}))
        self.assertIn("target build listed twice", c.check(self.HELP + "  build              again\n", [], {}))
        self.assertIn("help line without a description: '  lonely'", c.check(self.HELP + "  lonely\n", [], {}))
        self.assertIn("make help listed no targets", c.check("Makefile\n", [], {}))

    def test_missing_test_target_fails_the_script(self):
        p = self.run_check(self.HELP, "test", "test-unlisted")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("test-unlisted (in TEST_TARGETS", p.stdout)


class CheckLinks(unittest.TestCase):
    def test_outside_and_missing_links_fail(self):
        sys.path.insert(0, str(HERE))
        import check_links as c
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "docs").mkdir()
            (root / "README.md").write_text("x")
            doc = root / "docs" / "A.md"
            doc.write_text("[ok](../README.md) [url](https://x.org/a) [anchor](#b)\n"
                           "[out](../../shared/DESIGN.md) [gone](B.md#c)\n"
                           "```\n[in code](../../nowhere)\n```\n`[inline](../../nowhere)`\n")
            problems = c.check(doc, root)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("link (../../shared/DESIGN.md) points outside the repository", problems[0])
        self.assertIn("link (B.md#c) names a file that does not exist", problems[1])


class CheckSuiteLists(unittest.TestCase):
    DOC = ("<!-- make:VG -->2 suites: `tcp` `test_fd`<!-- /make --> and <!-- make:ALL -->all 3\n"
           "suites<!-- /make -->; corpus <!-- count:corpus --> 4 <!-- /count -->")
    VARS = {"C_SUITES": ["tcp", "fd"], "REL_C_SUITES": ["faults"], "VG": ["tcp", "fd"], "ALL": ["tcp", "fd", "faults"]}

    def test_checker_logic(self):
        sys.path.insert(0, str(HERE))
        import check_suite_lists as c
        self.assertEqual(c.check(self.DOC, self.VARS, ["tcp", "fd", "faults"], 4), [])
        vg_more = dict(self.VARS, VG=["tcp", "fd", "host"])
        problems = c.check(self.DOC, vg_more, ["tcp", "fd", "faults"], 4)
        self.assertIn("VG: the doc names nothing that do not run there and leaves out ['host']", problems)
        self.assertIn("VG: the doc says 2 suites, 3 run", problems)
        self.assertIn("ALL: the doc says 3 suites, 4 run", c.check(self.DOC, dict(self.VARS, ALL=["a", "b", "c", "d"]),
                                                                   ["tcp", "fd", "faults"], 4))
        self.assertIn("the doc says 4 corpus seeds, Tests/fuzz/corpus.txt has 5",
                      c.check(self.DOC, self.VARS, ["tcp", "fd", "faults"], 5))
        self.assertIn("Tests/c/test_new.c is in no suite list (C_SUITES, REL_C_SUITES): nothing runs it",
                      c.check(self.DOC, self.VARS, ["tcp", "fd", "faults", "new"], 4))
        self.assertIn("no <!-- make:NAME --> span", c.check("no spans", self.VARS, [], 4))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
