"""The global names a decorated compiled function reads that its wrapper's module does not give
(:mod:`tsscan.semantic.wrappers` finds the wrapper; this part needs libcst's scopes, so it is
apart: the package index imports ``wrappers`` on every run, libcst only when a file compiles)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import BuiltinAssignment, MetadataWrapper, ScopeProvider

from tsscan.semantic.module import ModuleInfo
from tsscan.semantic.wrappers import OTHER, Wrapper, _imported_modules


@dataclass(frozen=True)
class BadRead:
    """A global name a decorated compiled function reads that the wrapper's module does not give."""

    name: str
    node: cst.Name
    bound: str | None  # None: the name is not there; else what it is bound to there
    annotation: bool = False  # read in an annotation (the compiler: "Unknown type name")


# type names the compiler's type parser knows without looking them up (measured with torch 2.13:
# `x: Tensor` under `@torch.no_grad()` compiles although `torch.utils._contextlib` has no Tensor)
TYPE_PARSER_NAMES = frozenset({"Tensor", "Device", "Stream", "number", "NoneType", "Any", "None"})


def annotation_reads(fn: cst.FunctionDef) -> Iterator[cst.Name]:
    """The bare names the annotations of ``fn`` read (parameters, return, annotated locals of
    its own body), in source order; dotted names (``torch.Tensor``) and strings are left out."""
    params = fn.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    annotations = [p.annotation for p in every if p.annotation is not None]
    if fn.returns is not None:
        annotations.append(fn.returns)

    class _Local(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False  # a nested function's annotations are its own

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            annotations.append(node.annotation)

    fn.body.visit(_Local())

    class _Names(cst.CSTVisitor):
        def __init__(self) -> None:
            self.out: list[cst.Name] = []

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            return False

        def visit_Name(self, node: cst.Name) -> None:
            self.out.append(node)

    for ann in annotations:
        names = _Names()
        ann.annotation.visit(names)
        yield from names.out


class _Statements(cst.CSTVisitor):
    """Each Name node's innermost statement, and the Names that are the object of ``.attr``."""

    def __init__(self) -> None:
        self.stack: list[cst.CSTNode] = []
        self.statement_of: dict[int, cst.CSTNode] = {}
        self.receivers: set[int] = set()
        self.order: dict[int, int] = {}  # Name node -> its rank in source order

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            self.stack.append(node)
        elif isinstance(node, cst.Name):
            self.order[id(node)] = len(self.order)
            if self.stack:
                self.statement_of[id(node)] = self.stack[-1]
        elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            self.receivers.add(id(node.value))
        elif isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite)) and self.stack:
            self.stack.append(node)  # a body is not its header's statement
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.stack and self.stack[-1] is original_node:
            self.stack.pop()


def global_reads(fn: cst.FunctionDef) -> Iterator[tuple[str, cst.Name, cst.CSTNode | None, bool]]:
    """Every read of a name ``fn`` does not bind (nor any function nested in it), outside
    annotations: (name, node, innermost statement, whether ``.attr`` is looked up on it)."""
    wrapper = MetadataWrapper(cst.Module(body=[fn]), unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    where = _Statements()
    fn.body.visit(where)  # decorators and defaults are evaluated where the function is defined
    seen: set[int] = set()
    found = []
    for scope in {s for s in scopes.values() if s is not None}:
        for access in scope.accesses:
            node = access.node
            if not isinstance(node, cst.Name) or access.is_annotation or id(node) in seen:
                continue
            if id(node) not in where.order:  # not in the body
                continue
            if all(isinstance(r, BuiltinAssignment) for r in access.referents):
                seen.add(id(node))
                found.append((node, where.statement_of.get(id(node)), id(node) in where.receivers))
    found.sort(key=lambda f: where.order.get(id(f[0]), 0))
    for node, stmt, receiver in found:
        yield node.value, node, stmt, receiver


def bad_reads(fn: cst.FunctionDef, wrapper: Wrapper, mod: ModuleInfo, table: Mapping[str, object]) -> list[BadRead]:
    """The global names ``fn`` reads that its wrapper's module lacks (the compiler: "undefined
    value"), or binds to a value that is not a module where the file imports a module of that
    name and looks an attribute up on it; one per name and statement."""
    names = wrapper.names
    if names is None:
        return []
    fallback = set(table.get("typing", ())) | set(table.get("builtins", ()))  # type: ignore[call-overload]
    modules = _imported_modules(mod)
    out: list[BadRead] = []
    done: set[tuple[int, str]] = set()
    for name, node, stmt, receiver in global_reads(fn):
        if name in wrapper.closure or (id(stmt), name) in done:
            continue
        if name in names:
            bound = names[name]
            if not (bound == OTHER and receiver and name in modules):
                continue
            out.append(BadRead(name, node, bound))
        elif name in fallback:
            continue
        else:
            out.append(BadRead(name, node, None))
        done.add((id(stmt), name))
    seen: set[str] = set()
    for node in annotation_reads(fn):
        name = node.value
        if name in names or name in fallback or name in TYPE_PARSER_NAMES or name in seen or name in wrapper.closure:
            continue
        seen.add(name)
        out.append(BadRead(name, node, None, annotation=True))
    return out
