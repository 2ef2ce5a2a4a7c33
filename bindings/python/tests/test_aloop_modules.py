"""The module rules of test_modules.py, for the eddy.loop subpackage (test_modules
looks at the package's top level only): small files, no private name imported
from another module."""
from __future__ import annotations

import ast
from pathlib import Path

import eddy.loop

LOOP = Path(eddy.loop.__file__).resolve().parent


def test_loop_modules_are_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in LOOP.glob("*.py")}
    assert sizes and all(n <= 700 for n in sizes.values()), sizes


def test_no_private_names_imported_across_modules():
    bad = []
    for p in LOOP.glob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                bad += [f"{p.name}: {a.name}" for a in node.names if a.name.startswith("_") and a.name != "_lib"]
    assert bad == []
