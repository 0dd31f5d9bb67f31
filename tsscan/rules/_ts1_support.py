"""Helpers shared by the statement/expression rules (TS1xx): not a rule file (leading ``_``).

The rewrite of a list comprehension into explicit loops (TS103, TS104: :func:`comprehension_fix`,
:class:`ComprehensionRule`), with the name collection it needs for fresh names, and the shapes
the augmented-assignment rewrites accept (:func:`simple_target`, TS126, TS127). Types come from
the semantic model through the rule's context (``ctx.eager_types``), never from here.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from tsscan.rule import SAFE as _SAFE
from tsscan.rule import UNSAFE as _UNSAFE
from tsscan.rule import Fix as _Fix
from tsscan.rule import Replacement
from tsscan.rule import Rule as _Rule
from tsscan.semantic.types import element_type
from tsscan.walk import children, walk

_code = cst.Module(body=[]).code_for_node


def code(node: cst.CSTNode) -> str:
    return _code(node)


# --------------------------------------------------------------------------- names
# The visitors are classes at module level: walk() looks the hooks of a visitor class up once
# per class.
class _NamesV(cst.CSTVisitor):
    def __init__(self) -> None:
        self.out: set[str] = set()

    def visit_Name(self, n: cst.Name) -> None:
        self.out.add(n.value)


class _NamesOutsideComprehensionsV(_NamesV):
    def on_visit(self, node: cst.CSTNode) -> bool:
        if is_comprehension(node):
            return False
        return super().on_visit(node)


class _ImpureV(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Call, cst.Await, cst.Yield, cst.NamedExpr, cst.Lambda)) or is_comprehension(node):
            self.found = True
            return False
        return True


def names_in(node: cst.CSTNode) -> set[str]:
    v = _NamesV()
    walk(node, v)
    return v.out


def is_comprehension(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp))


def comp_fors(comp) -> list[cst.CompFor]:
    out = []
    f = comp.for_in
    while f is not None:
        out.append(f)
        f = f.inner_for_in
    return out


def names_outside_comprehensions(fn: cst.FunctionDef) -> set[str]:
    """Every name the function uses or binds outside comprehensions (params included)."""
    v = _NamesOutsideComprehensionsV()
    walk(fn, v)
    return v.out


def is_pure(e: cst.CSTNode) -> bool:
    """No calls (so no side effects, the values cannot change by evaluating it earlier)."""
    v = _ImpureV()
    walk(e, v)
    return not v.found


def path_to(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode] | None:
    """Nodes from ``root`` down to ``target`` (both included), by identity."""
    if root is target:
        return [root]
    for child in children(root):
        sub = path_to(child, target)
        if sub is not None:
            return [root] + sub
    return None


# --------------------------------------------------------------------------- comprehension -> loops
def fresh_name(base: str, taken: set[str]) -> str:
    name = base
    i = 1
    while name in taken:
        name = f"{base}_{i}"
        i += 1
    return name


class _Rename(cst.CSTTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        super().__init__()
        self.mapping = mapping

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        new = self.mapping.get(original.value)
        return updated.with_changes(value=new) if new else updated

    # `obj.p` and `f(p=...)` are not the variable `p`
    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)


def _annotation_code(t: str) -> str:
    return t.replace("Tensor", "torch.Tensor")


def comprehension_fix(
    rule,
    comp: cst.ListComp,
    stmt: cst.BaseStatement,
    in_sequence: bool,
    fn: cst.FunctionDef,
) -> tuple[cst.CSTNode, Replacement, list[str], bool, str] | None:
    """Rewrite ``stmt`` so that the list comprehension ``comp`` in it becomes explicit loops
    placed before it. Returns (old, new, imports, safe, why-unsafe) or None (no fix)."""
    if not isinstance(comp, cst.ListComp) or not in_sequence:
        return None
    # where the comprehension sits: the only small statement of a line, or the test of an
    # `if` / the iterable of a `for` (evaluated once, before anything else of the statement)
    if isinstance(stmt, cst.SimpleStatementLine):
        if len(stmt.body) != 1:
            return None
        small = stmt.body[0]
        if not isinstance(small, (cst.Assign, cst.AnnAssign, cst.Return, cst.Expr, cst.AugAssign)):
            return None
        region: cst.CSTNode = small
    elif isinstance(stmt, cst.If):
        region = stmt.test
    elif isinstance(stmt, cst.For):
        region = stmt.iter
    else:
        return None
    path = path_to(region, comp)
    if path is None:
        return None
    for node in path[:-1]:
        # evaluated only sometimes, or in another scope: hoisting would change that
        if isinstance(node, (cst.BooleanOperation, cst.IfExp, cst.Lambda)) or is_comprehension(node):
            return None
    fors = comp_fors(comp)
    if any(gen.asynchronous is not None for gen in fors):
        return None
    # the element's type as the eager function has it (a parameter without annotation is unknown)
    elt_type = element_type(rule.ctx.eager_types.type_at(comp))
    if elt_type is None:
        return None
    # names: loop variables must not clobber names the function uses elsewhere
    outside = names_outside_comprehensions(fn)
    # names other fixes of this function chose in the same round (shared through the
    # FunctionContext, which all rules of one function share)
    reserved: set[str] = rule.ctx.fresh_names
    taken = names_in(fn) | outside | reserved
    renames: dict[str, str] = {}
    for gen in fors:
        for n in names_in(gen.target):
            if n in outside:
                k, cand = 2, n + "_"
                while cand in taken:
                    cand, k = f"{n}_{k}", k + 1
                renames[n] = cand
    # a nested comprehension / lambda inside that rebinds a renamed name: give up
    for part in [comp.elt] + [c.test for g in fors for c in g.ifs] + [g.iter for g in fors[1:]]:
        for sub in _walk(part):
            if (is_comprehension(sub) or isinstance(sub, cst.Lambda)) and renames:
                return None
    # the list the loop fills
    direct = None
    if isinstance(region, cst.Assign) and region.value is comp and len(region.targets) == 1:
        t = region.targets[0].target
        if isinstance(t, cst.Name) and t.value not in names_in(comp):
            direct = t.value
    if isinstance(region, cst.AnnAssign) and region.value is comp and isinstance(region.target, cst.Name):
        if region.target.value not in names_in(comp):
            direct = region.target.value
    target = direct or fresh_name("items", taken)
    reserved.add(target)
    ren = _Rename(renames)

    def r(node: cst.CSTNode) -> str:
        if not renames:
            return code(node)
        renamed = node.visit(ren)
        assert isinstance(renamed, cst.CSTNode), "_Rename changes names, it removes nothing"
        return code(renamed)

    lines: list[str] = []
    imports: list[str] = []
    if isinstance(region, cst.AnnAssign) and direct:
        lines.append(f"{target}: {code(region.annotation.annotation)} = []")
    elif elt_type == "Tensor":
        lines.append(f"{target} = []")
    else:
        lines.append(f"{target}: List[{_annotation_code(elt_type)}] = []")
        imports.append("from typing import List")
        if "Tensor" in elt_type:
            imports.append("import torch")
    depth = 0
    first_iter = True
    for gen in fors:
        it = code(gen.iter) if first_iter else r(gen.iter)  # the first iterable is evaluated outside
        first_iter = False
        lines.append("    " * depth + f"for {r(gen.target)} in {it}:")
        depth += 1
        for cond in gen.ifs:
            lines.append("    " * depth + f"if {r(cond.test)}:")
            depth += 1
    lines.append("    " * depth + f"{target}.append({r(comp.elt)})")
    try:
        loop_stmts = list(cst.parse_module("\n".join(lines) + "\n").body)
    except cst.ParserSyntaxError:
        return None
    loop_stmts[0] = loop_stmts[0].with_changes(leading_lines=stmt.leading_lines)
    if direct and isinstance(region, (cst.Assign, cst.AnnAssign)):
        assert isinstance(stmt, cst.SimpleStatementLine), "an assignment region is a line's only statement"
        new_stmts = loop_stmts
        if stmt.trailing_whitespace.comment is not None:
            last = new_stmts[0]
            new_stmts[0] = last.with_changes(trailing_whitespace=stmt.trailing_whitespace)
    else:
        replaced = _replace_node(stmt, comp, cst.Name(target)).with_changes(leading_lines=[])
        new_stmts = loop_stmts + [replaced]
    # everything of the statement evaluated before the comprehension must be free of calls
    safe, why = True, ""
    before = _evaluated_before(region, comp)
    if not all(is_pure(n) for n in before):
        safe, why = False, "the statement calls something before the comprehension; the loop now runs first"
    return stmt, cst.FlattenSentinel(new_stmts), imports, safe, why


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for c in children(node):
        yield from _walk(c)


def _replace_node(
    root: cst.BaseStatement, old: cst.CSTNode, new: cst.CSTNode
) -> cst.SimpleStatementLine | cst.BaseCompoundStatement:
    class T(cst.CSTTransformer):
        def on_leave(self, original, updated):
            return new if original is old else updated

    replaced = root.visit(T())
    assert isinstance(replaced, (cst.SimpleStatementLine, cst.BaseCompoundStatement)), "old is inside root"
    return replaced


def _evaluated_before(region: cst.CSTNode, comp: cst.CSTNode) -> list[cst.CSTNode]:
    """Expression nodes of ``region`` that Python evaluates before ``comp`` (textual order,
    assignment targets after the value)."""
    out: list[cst.CSTNode] = []
    if isinstance(region, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
        value = region.value
        if value is None:
            return out
        if isinstance(region, cst.AugAssign):
            out.append(region.target)  # read first
        region = value
    found = [False]

    def visit(node: cst.CSTNode) -> None:
        if found[0]:
            return
        if node is comp:
            found[0] = True
            return
        kids = list(children(node))
        if not kids or not any(path_to(k, comp) for k in kids):
            out.append(node)
            return
        for k in kids:
            visit(k)

    visit(region)
    return out


# --------------------------------------------------------------------------- TS103 / TS104 base
_OTHER_COMPOUND = (cst.While, cst.With, cst.Try, cst.ClassDef, cst.Match)


class ComprehensionRule(_Rule):
    """Shared visitor of TS103/TS104: tracks the enclosing statement of each comprehension
    and offers the loop rewrite for list comprehensions."""

    def wants(self, fors: list[cst.CompFor]) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_function(self) -> None:
        self._depth = 0
        self._stmts: list[tuple[cst.BaseStatement, bool]] = []
        self._elifs: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        self._stmts.append((node, False))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
        self._stmts.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._stmts.append((node, True))

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._stmts.pop()

    def visit_If(self, node: cst.If) -> None:
        if isinstance(node.orelse, cst.If):
            self._elifs.add(id(node.orelse))
        self._stmts.append((node, id(node) not in self._elifs))

    def leave_If(self, original_node: cst.If) -> None:
        self._stmts.pop()

    def visit_For(self, node: cst.For) -> None:
        self._stmts.append((node, True))

    def leave_For(self, original_node: cst.For) -> None:
        self._stmts.pop()

    def _push_other(self, node: cst.BaseStatement) -> None:
        self._stmts.append((node, False))

    def _pop_other(self, original_node: cst.BaseStatement) -> None:
        self._stmts.pop()

    visit_While = visit_With = visit_Try = visit_ClassDef = visit_Match = _push_other
    leave_While = leave_With = leave_Try = leave_ClassDef = leave_Match = _pop_other

    def _check(self, node) -> None:
        fors = comp_fors(node)
        if not self.wants(fors):
            return
        fix = None
        if isinstance(node, cst.ListComp) and self._depth == 1 and self._stmts:
            stmt, in_seq = self._stmts[-1]
            found = comprehension_fix(self, node, stmt, in_seq, self.ctx.function_node)
            if found is not None:
                old, new, imports, safe, why = found
                fix = _Fix(
                    replacements=[(old, new)],
                    imports=imports,
                    safety=_SAFE if safe else _UNSAFE,
                    description="explicit loop that appends to a new list" + (f" (UNSAFE: {why})" if why else ""),
                )
        self.report(node, fix=fix)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._check(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._check(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._check(node)


def simple_target(t: cst.BaseExpression) -> bool:
    """A name, attribute chain or subscript with literal or simple indices: evaluating it twice is harmless."""
    if isinstance(t, cst.Name):
        return True
    if isinstance(t, cst.Attribute):
        return simple_target(t.value)
    if isinstance(t, cst.Subscript):
        if not simple_target(t.value):
            return False
        for el in t.slice:
            if not isinstance(el.slice, cst.Index):
                return False
            v = el.slice.value
            if not (isinstance(v, (cst.Integer, cst.SimpleString)) or simple_target(v)):
                return False
        return True
    return False
