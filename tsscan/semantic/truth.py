"""Where the compiler casts a value to ``bool``: the tests of ``if``/``while``/``assert`` and of
conditional expressions, the operands of ``and``/``or`` and of ``not``.

TorchScript casts each such operand with ``bool(...)``, which exists for ``Tensor``, numbers,
strings and containers, but not for ``Optional[T]``, ``NoneType`` or a module: "Could not cast
value of type Optional[int] to bool". A name the left side of ``and``/``or`` tests against
``None`` (``v is not None and v``) is refined on the right side, and is left out there.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from tsscan.semantic.annotations import walk_expr
from tsscan.walk import children


def truth_operands(expr: cst.BaseExpression, as_test: bool) -> Iterator[cst.BaseExpression]:
    """The sub-expressions of ``expr`` that the compiler casts to ``bool`` (``expr`` itself
    when ``as_test``), minus those refined by a ``None`` test on the left of ``and``/``or``."""
    yield from _operands(expr, as_test, frozenset())


def _operands(e: cst.BaseExpression, as_test: bool, refined: frozenset[str]) -> Iterator[cst.BaseExpression]:
    if isinstance(e, cst.BooleanOperation):
        yield from _operands(e.left, True, refined)
        guard = _none_guards(e.left, isinstance(e.operator, cst.And))
        yield from _operands(e.right, True, refined | guard)
        return
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
        yield from _operands(e.expression, True, refined)
        return
    if isinstance(e, cst.IfExp):
        yield from _operands(e.test, True, refined)
        yield from _operands(e.body, False, refined)
        yield from _operands(e.orelse, False, refined)
        return
    if as_test and not (isinstance(e, cst.Name) and e.value in refined):
        yield e
    for child in _children(e):
        yield from _operands(child, False, refined)


def _children(e: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """Sub-expressions evaluated in the function's own scope (not lambdas or comprehensions)."""
    if isinstance(e, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
        return
    for child in children(e):
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, (cst.Arg, cst.Element, cst.DictElement, cst.StarredDictElement)):
            yield from (c for c in children(child) if isinstance(c, cst.BaseExpression))
        elif isinstance(child, cst.SubscriptElement):
            yield from (c for c in children(child.slice) if isinstance(c, cst.BaseExpression))
        elif isinstance(child, cst.ComparisonTarget):
            yield child.comparator


def _none_guards(test: cst.BaseExpression, under_and: bool) -> frozenset[str]:
    """Names ``test`` proves not None when it is true (``under_and``) or false."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) == under_and:
        return _none_guards(test.left, under_and) | _none_guards(test.right, under_and)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        op = test.comparisons[0].operator
        left, right = test.left, test.comparisons[0].comparator
        if isinstance(left, cst.Name) and left.value == "None":
            left, right = right, left
        if isinstance(left, cst.Name) and isinstance(right, cst.Name) and right.value == "None":
            if isinstance(op, cst.IsNot if under_and else cst.Is):
                return frozenset({left.value})
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "isinstance":
        if under_and and test.args and isinstance(test.args[0].value, cst.Name):
            return frozenset({test.args[0].value.value})
    return frozenset()


def none_tested(fn: cst.FunctionDef, before: cst.CSTNode) -> frozenset[str]:
    """Names the function compares with ``None`` (``is``/``is not``) or checks with
    ``isinstance`` ahead of ``before`` (in source order): after ``if v is None: return`` or
    ``if v is None: v = 0`` the compiler refines ``v`` where the flow types still say Optional."""
    out: set[str] = set()
    for n in walk_expr(fn.body):
        if n is before:
            break
        if isinstance(n, cst.Comparison):
            operands = [n.left] + [c.comparator for c in n.comparisons]
            if any(isinstance(c.operator, (cst.Is, cst.IsNot)) for c in n.comparisons):
                out.update(o.value for o in operands if isinstance(o, cst.Name) and o.value != "None")
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value == "isinstance":
            out.update(a.value.value for a in n.args[:1] if isinstance(a.value, cst.Name))
    return frozenset(out)
