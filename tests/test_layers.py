"""The architecture of ../shared/design.md: layers import downward only, and no module of tsscan/
imports one that imports it back (directly or in a loop). Every import counts, also those
inside functions: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tsscan"

# top to bottom; a module may import modules of its own layer or of layers below it. A module
# is placed by the longest prefix listed. (output/, verify/ and fix/ are packages or modules.)
LAYERS: list[tuple[str, ...]] = [
    ("tsscan.__main__", "tsscan.cli", "tsscan.flake8", "tsscan.server", "tsscan.precommit"),
    # the fix-and-confirm loop drives the verifier: it is a step of the runner, above verify/
    # (tsscan.fix.fixer runs it, tsscan.fix.judge reads the compiler's outcome; tsscan.fix.edits
    # is the edit layer below verify/)
    ("tsscan.runner", "tsscan.package", "tsscan.fixer", "tsscan.fix.fixer", "tsscan.fix.judge"),
    ("tsscan.report", "tsscan.docs", "tsscan.output"),
    ("tsscan.verify", "tsscan.verify_worker"),
    ("tsscan.fix",),
    ("tsscan.engine", "tsscan.candidates"),
    ("tsscan.registry",),
    ("tsscan.rules",),
    ("tsscan.rule", "tsscan.context", "tsscan.compiler_rule", "tsscan.prefilter"),
    ("tsscan.config", "tsscan.cache"),
    ("tsscan.semantic",),
    ("tsscan.diagnostic", "tsscan.selection", "tsscan.files", "tsscan.progress", "tsscan.walk", "tsscan"),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer_of(module: str) -> int:
    best, where = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, where = len(prefix), i
    if where is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return where


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in MODULES else base)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in MODULES and m not in (module, "tsscan")}


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_module_has_a_layer():
    for m in MODULES:
        layer_of(m)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    mine = layer_of(module)
    upward = sorted(m for m in GRAPH[module] if layer_of(m) < mine)
    assert not upward, f"{module} (layer {mine}) imports a layer above it: {upward}"


def test_the_semantic_model_imports_nothing_above_it():
    for module, targets in GRAPH.items():
        if module.startswith("tsscan.semantic"):
            outside = {t for t in targets if not t.startswith("tsscan.semantic")}
            assert outside <= {"tsscan.walk"}, (module, outside)


def test_no_import_cycles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_checker_finds_a_planted_cycle_and_an_upward_import(monkeypatch):
    """The two checks above can fail: plant an upward import and a loop."""
    monkeypatch.setitem(GRAPH, "tsscan.semantic.module", {"tsscan.engine"})
    assert layer_of("tsscan.engine") < layer_of("tsscan.semantic.module")
    with pytest.raises(AssertionError):
        test_imports_point_down("tsscan.semantic.module")
    monkeypatch.setitem(GRAPH, "tsscan.engine", GRAPH["tsscan.engine"] | {"tsscan.semantic.module"})
    with pytest.raises(AssertionError, match="tsscan.engine"):
        test_no_import_cycles()
