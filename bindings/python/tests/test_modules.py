"""The binding's module rules (issue 13), checked on the source so they stay true:

  - no import cycle between the package's modules (imports inside functions
    count; ``if TYPE_CHECKING:`` imports do not: they never run), and every
    import points down the layers listed below;
  - no ``_private`` name imported from one module into another: what modules
    share is named without the underscore (the private modules themselves,
    ``from . import _lib``, are how a package names its parts);
  - no module over 700 lines;
  - the public awaitables are declared as such: ``async def``, or a function
    whose signature returns ``Awaitable[...]``, not a generator type.
"""
from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

import eddy
from eddy import _protocol

PKG = Path(eddy.__file__).resolve().parent
MAX_LINES = 700


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(tree: ast.Module, modules: Set[str]) -> List[Tuple[str, List[str], bool]]:
    """(imported package module, names imported from it, runs at import/call
    time) for each import of a module of ``modules`` in ``tree``."""
    out: List[Tuple[str, List[str], bool]] = []

    def visit(node: ast.AST, runs: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for n in node.body:
                visit(n, False)
            for n in node.orelse:
                visit(n, runs)
            return
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if node.level == 1 and node.module is None:  # from . import _lib
                for name in names:
                    if name in modules:
                        out.append((name, [], runs))
            elif node.level == 1 and node.module in modules:  # from ._driver import running
                out.append((node.module, names, runs))
            elif node.level == 0 and node.module and node.module.startswith("eddy."):
                mod = node.module.split(".", 1)[1]
                if mod in modules:
                    out.append((mod, names, runs))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("eddy.") and a.name.split(".", 1)[1] in modules:
                    out.append((a.name.split(".", 1)[1], [], runs))
        for child in ast.iter_child_nodes(node):
            visit(child, runs)

    visit(tree, True)
    return out


def package_graph() -> Tuple[Dict[str, Set[str]], Dict[str, List[Tuple[str, List[str]]]]]:
    """Run-time import edges between the package's modules, and every import
    (also TYPE_CHECKING ones) with the names it takes."""
    files = {p.stem: p for p in PKG.glob("*.py")}
    modules = set(files)
    edges: Dict[str, Set[str]] = {m: set() for m in modules}
    taken: Dict[str, List[Tuple[str, List[str]]]] = {m: [] for m in modules}
    for m, p in files.items():
        for target, names, runs in imports_of(ast.parse(p.read_text(), str(p)), modules):
            taken[m].append((target, names))
            if runs and target != m:
                edges[m].add(target)
    return edges, taken


def find_cycle(edges: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One cycle of the directed graph ``edges`` (as a path that returns to its
    start), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {m: WHITE for m in edges}
    stack: List[str] = []

    def dfs(m: str) -> Optional[List[str]]:
        color[m] = GREY
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if color.get(n, WHITE) == GREY:
                return stack[stack.index(n):] + [n]
            if color.get(n, WHITE) == WHITE:
                found = dfs(n)
                if found:
                    return found
        stack.pop()
        color[m] = BLACK
        return None

    for m in sorted(edges):
        if color[m] == WHITE:
            found = dfs(m)
            if found:
                return found
    return None


def test_the_checks_see_what_they_check():
    # The checkers find a cycle and the package's real edges (an empty graph
    # would pass every rule).
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    src = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._b import X\ndef f():\n    from ._c import _y\n"
    assert imports_of(ast.parse(src), {"_b", "_c"}) == [("_b", ["X"], False), ("_c", ["_y"], True)]
    edges, _ = package_graph()
    assert "_driver" in edges["_tasks"] and "_protocol" in edges["_driver"]
    assert "_tasks" not in edges["_driver"]  # annotations only


def test_no_import_cycle():
    edges, _ = package_graph()
    assert find_cycle(edges) is None, f"import cycle: {' -> '.join(find_cycle(edges) or [])}"


# The layers, bottom first (docs/ARCHITECTURE.md, "The binding's modules"): a
# module imports only modules below it. A new module takes its place here.
LAYERS = [
    "_lib", "_errors", "_sigpipe",  # the C ABI, exceptions
    "_protocol",  # what awaitables yield to the driver: a leaf over _lib
    "_addr",  # issue 15: addresses and socket options (over _lib, _errors)
    "_driver", "_timeouts", "_tasks",
    "_backend",  # ---- driver (io_uring) ---- the kernel interface of a run: over _driver
    "_wakeup", "_runners",
    "_blocking",
    "_lines",  # ---- lines and files (branch lines-15) ---- buffered reads: a mixin of _net's streams
    "_names",  # ---- names (issue 15 item 1): lookups, connect by name (over _driver, _addr) ----
    "_net",
    "_shutdown", "_diagnostics",  # eddy.shutdown, metrics, task_dump (issue 14, branch pool-14)
    "_dgram_socket",  # what UdpSocket and UnixDatagramSocket share (handle, poll loop)
    "_udp",  # issue 15
    "_unix_dgram",  # ---- Unix datagram sockets (issue 15 item 3) ----
    "_waiters",
    "_shared",  # ---- channels across runtimes and threads (issue 16 item 1, chan2-16): over _waiters ----
    "_sync", "_queue",  # coordination (issue 16): over _driver / _protocol
    "_files",  # ---- lines and files (branch lines-15) ---- over _blocking
    "_clock", "_combinators", "_fdready",  # time and combinators (issue 16, item 6)
    "_signals", "_procstreams", "_process",  # signals and child processes (issue 16, sigproc-16): over _tasks / _net
    "_broadcast",  # ---- broadcast and watch (issue 16 item 1, bcast-16): over _waiters / _queue ----
    "_oneshot",  # ---- oneshot (issue 16 item 1, audit-16): over _broadcast's waiter set ----
    "__init__",
]


def test_imports_point_down_the_layers():
    edges, _ = package_graph()
    assert set(edges) == set(LAYERS), f"modules not placed in LAYERS: {set(edges) ^ set(LAYERS)}"
    up = [f"{m} imports {t}" for m, ts in edges.items() for t in ts if LAYERS.index(t) >= LAYERS.index(m)]
    assert not up, up
    assert edges["_protocol"] == {"_lib"}


def test_no_private_name_imported_from_another_module():
    _, taken = package_graph()
    bad = [f"{m} imports {n} from {t}" for m, imps in taken.items() for t, names in imps for n in names if n.startswith("_")]
    assert not bad, bad


def test_no_module_over_700_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in PKG.glob("*.py")}
    assert not {k: v for k, v in sizes.items() if v > MAX_LINES}, sizes


PUBLIC_AWAITABLES = [
    eddy.TcpStream.read,
    eddy.TcpStream.read_exactly,
    eddy.TcpStream.write,
    eddy.TcpStream.write_all,
    eddy.TcpStream.shutdown,
    eddy.TcpStream.__aenter__,
    eddy.TcpStream.__aexit__,
    eddy.TcpListener.accept,
    eddy.TcpListener.__aenter__,
    eddy.TcpListener.__aexit__,
    eddy.connect,
    eddy.listen,
    eddy.sleep,
    eddy.wait_for,
    eddy.gather,
    eddy.blocking_call,
    eddy.to_thread,
    eddy.Timeout.__aenter__,
    eddy.Timeout.__aexit__,
    # issue 15
    eddy.bind_udp,
    eddy.UdpSocket.recv_from,
    eddy.UdpSocket.recv,
    eddy.UdpSocket.send_to,
    eddy.UdpSocket.send,
    eddy.listen_unix,
    eddy.connect_unix,
    eddy.TcpStream.send_fd,
    eddy.TcpStream.recv_fd,
]


@pytest.mark.parametrize("fn", PUBLIC_AWAITABLES, ids=lambda f: f.__qualname__)
def test_public_awaitables_are_declared_awaitable(fn):
    ret = inspect.signature(fn).return_annotation
    if inspect.iscoroutinefunction(fn):
        return
    assert isinstance(ret, str) and ret.startswith("Awaitable["), f"{fn.__qualname__} returns {ret!r}"


def test_awaitable_rejects_an_undeclared_generator():
    def gen() -> "Generator[Any, None, int]":  # noqa: F821 - only the string is read
        yield

    with pytest.raises(TypeError, match="Suspends"):
        _protocol.awaitable(gen)
