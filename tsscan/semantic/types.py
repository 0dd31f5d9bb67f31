"""The type model's entry point for rules: what the compiler infers for one compiled function.

The model is split by job: :mod:`~tsscan.semantic.annotations` (types and annotations),
:mod:`~tsscan.semantic.exprs` (the expression typer), :mod:`~tsscan.semantic.branches` (what the
compiler decides while compiling), :mod:`~tsscan.semantic.flow` (variables through branches and
loops) and :mod:`~tsscan.semantic.function_types` (what the flow walk learned). This module
re-exports what rules use, and holds the questions rules ask about a function's uses of its values.
"""

from __future__ import annotations

import libcst as cst

# what rules use, from the modules that define it
from tsscan.semantic.annotations import (
    SCALARS,
    annotation_head,
    annotation_type,
    assignable,
    implicitly_converted,
    is_optional,
    iter_annotations,
    param_list,
    split_type_args,
    subscript_items,
    unifiable,
    walk_expr,
)
from tsscan.semantic.branches import unrolled_loop
from tsscan.semantic.exprs import (
    ExprTyper,
    bind_target,
    element_type,
    is_chained_tensor_comparison,
    module_attribute_type,
)
from tsscan.semantic.flow import analyse
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.function_types import BadUse, FunctionTypes, ReturnInfo, Retype
from tsscan.walk import walk

__all__ = [
    "SCALARS",
    "BadUse",
    "ExprTyper",
    "FunctionTypes",
    "Retype",
    "ReturnInfo",
    "analyse",
    "annotation_head",
    "annotation_type",
    "assignable",
    "bind_target",
    "element_type",
    "implicitly_converted",
    "in_quiet_arm",
    "is_chained_tensor_comparison",
    "is_optional",
    "iter_annotations",
    "module_attribute_type",
    "param_list",
    "refined_names",
    "split_type_args",
    "subscript_items",
    "unifiable",
    "unrolled_loop",
    "value_uses",
    "walk_expr",
]


def _may_leave(body: cst.BaseSuite) -> bool:
    """The block holds a ``return``/``raise``/``continue``/``break`` anywhere (nested arms that
    all leave refine as well as a last statement that does)."""
    found = False

    class V(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            found = found or isinstance(node, (cst.Return, cst.Raise, cst.Continue, cst.Break))
            return not found

    body.visit(V())
    return found


def _refines_nothing(n: cst.If) -> bool:
    """``if v is None: <nothing that leaves>`` with no ``else``: ``v`` is as Optional after it
    as before."""
    t = n.test
    return (
        n.orelse is None
        and isinstance(t, cst.Comparison)
        and len(t.comparisons) == 1
        and isinstance(t.comparisons[0].operator, cst.Is)
        and not _may_leave(n.body)
    )


def refined_names(fn: cst.FunctionDef, strict: bool = False) -> set[str]:
    """Names the function compares with ``is``/``is not``, checks with ``isinstance``,
    unwraps, asserts on or rebinds: any of these may refine an Optional, so rules stay quiet.
    Unless ``strict`` (measured), also names compared with ``==``/``!=``; with it, an
    ``if v is None:`` whose body does not leave and that has no ``else`` refines nothing."""
    out: set[str] = set()
    ops: tuple[type, ...] = (cst.Is, cst.IsNot) if strict else (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)
    idle: set[int] = set()  # tests of ifs that refine nothing

    class V(cst.CSTVisitor):
        def visit_If(self, n: cst.If) -> None:
            if strict and _refines_nothing(n):
                idle.add(id(n.test))
            if isinstance(n.test, cst.Name):
                out.add(n.test.value)

        def visit_Comparison(self, n: cst.Comparison) -> None:
            if id(n) in idle:
                return
            if any(isinstance(c.operator, ops) for c in n.comparisons):
                for sub in [n.left] + [c.comparator for c in n.comparisons]:
                    if isinstance(sub, cst.Name):
                        out.add(sub.value)

        def visit_Call(self, n: cst.Call) -> None:
            f = n.func
            name = f.value if isinstance(f, cst.Name) else (f.attr.value if isinstance(f, cst.Attribute) else "")
            if name in ("isinstance", "_unwrap_optional"):
                for a in n.args:
                    if isinstance(a.value, cst.Name):
                        out.add(a.value.value)

        def visit_Assert(self, n: cst.Assert) -> None:
            for sub in walk_expr(n.test):
                if isinstance(sub, cst.Name):
                    out.add(sub.value)

        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            for sub in walk_expr(n.target):
                if isinstance(sub, cst.Name):
                    out.add(sub.value)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            if isinstance(n.target, cst.Name):
                out.add(n.target.value)

        def visit_BooleanOperation(self, n: cst.BooleanOperation) -> None:
            for side in (n.left, n.right):
                if isinstance(side, cst.Name):
                    out.add(side.value)

    walk(fn.body, V())
    return out


def value_uses(fn: cst.FunctionDef, ctx, equality: bool = False) -> dict[int, cst.CSTNode]:
    """id -> node for expressions used as *values* that must not be None: operands of
    arithmetic, receivers of method calls and attribute reads, subscripted values. (Not
    call arguments: many torch functions take Optional arguments.) With ``equality``, also
    operands of ``==``/``!=`` (measured: ``n == 2`` with ``n: Optional[int]`` does not compile)."""
    out: dict[int, cst.CSTNode] = {}

    class V(cst.CSTVisitor):
        def visit_Comparison(self, n: cst.Comparison) -> None:
            if not equality:
                return
            operands = [n.left] + [c.comparator for c in n.comparisons]
            for k, c in enumerate(n.comparisons):
                if isinstance(c.operator, (cst.Equal, cst.NotEqual)):
                    for side in (operands[k], operands[k + 1]):
                        out[id(side)] = side

        def visit_BinaryOperation(self, n: cst.BinaryOperation) -> None:
            out[id(n.left)] = n.left
            out[id(n.right)] = n.right

        def visit_UnaryOperation(self, n: cst.UnaryOperation) -> None:
            if not isinstance(n.operator, cst.Not):
                out[id(n.expression)] = n.expression

        def visit_Attribute(self, n: cst.Attribute) -> None:
            out[id(n.value)] = n.value

        def visit_Subscript(self, n: cst.Subscript) -> None:
            out[id(n.value)] = n.value

    walk(fn.body, V())
    return out


def in_quiet_arm(ctx: FunctionContext | None, node: cst.CSTNode) -> bool:
    """True when ``node`` lies in an ``if`` arm the compiler may drop on types the model does
    not know (see :attr:`FunctionTypes.quiet_nodes`) of the function ``ctx`` describes."""
    if ctx is None or ctx.node is None:
        return False
    return id(node) in analyse(ctx.node, ctx).quiet_nodes
