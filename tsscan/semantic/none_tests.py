"""What an ``is None`` / ``is not None`` test tells the compiler, for the flow walk
(:mod:`tsscan.semantic.flow`): which arm it keeps when the value's type decides the test, which
tests it may fold on a type not known here, and which Optional locals an arm refines.

Each question takes the walk's view of the variables where the test is: ``lookup`` (a name's
type) or ``typer`` (an expression's type); None is unknown.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from tsscan.semantic.annotations import is_optional, walk_expr

Lookup = Callable[[str], str | None]
Typer = Callable[[cst.BaseExpression], str | None]


def none_test_live_arm(s: cst.If, lookup: Lookup) -> int | None:
    """0/1: the arm that stays when the test is ``v is None`` / ``v is not None`` and
    ``v``'s type decides it (the compiler skips the other arm: ``None`` is always None, a
    Tensor or int never is)."""
    tested = _name_tested_against_none(s.test)
    if tested is None:
        return None
    name, is_not = tested
    t = lookup(name)
    if t is None or t.startswith(("Optional[", "Union[")) or t == "Any":
        return None
    is_none = t == "None"
    if is_not:
        is_none = not is_none
    return 0 if is_none else 1


def uncertain_none_test(test: cst.BaseExpression, typer: Typer) -> bool:
    """True when ``test`` compares something with ``None`` (``is``/``is not``) whose type
    we do not know to be Optional: the compiler folds such tests when the value's type is
    NoneType or can never be None, and then drops an arm."""
    for n in walk_expr(test):
        if not isinstance(n, cst.Comparison):
            continue
        operands = [n.left] + [c.comparator for c in n.comparisons]
        for k, c in enumerate(n.comparisons):
            if not isinstance(c.operator, (cst.Is, cst.IsNot)):
                continue
            a, b = operands[k], operands[k + 1]
            if isinstance(a, cst.Name) and a.value == "None":
                a, b = b, a
            if not (isinstance(b, cst.Name) and b.value == "None"):
                continue
            t = typer(a)
            if t is None or not (t.startswith(("Optional[", "Union[")) or t == "Any"):
                return True
    return False


def refinements(test: cst.BaseExpression, true_arm: bool, lookup: Lookup) -> dict[str, str]:
    """``{name: T}`` for Optional[T] locals the test proves not None in this arm
    (``v is not None`` and ``and`` chains of it in the true arm, ``v is None`` in the
    false arm): the compiler refines them there."""
    out: dict[str, str] = {}
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) and true_arm:
        out.update(refinements(test.left, True, lookup))
        out.update(refinements(test.right, True, lookup))
        return out
    tested = _name_tested_against_none(test)
    if tested is not None and tested[1] == true_arm:
        name = tested[0]
        t = lookup(name)
        if is_optional(t):
            out[name] = t[len("Optional[") : -1]
    return out


def _name_tested_against_none(test: cst.BaseExpression) -> tuple[str, bool] | None:
    """``(v, is_not)`` for a test that is exactly ``v is None`` (False) or ``v is not None``
    (True), either way round; None for any other test."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    op = test.comparisons[0].operator
    left, right = test.left, test.comparisons[0].comparator
    if isinstance(left, cst.Name) and left.value == "None":
        left, right = right, left
    if not (
        isinstance(op, (cst.Is, cst.IsNot))
        and isinstance(left, cst.Name)
        and isinstance(right, cst.Name)
        and right.value == "None"
    ):
        return None
    return left.value, isinstance(op, cst.IsNot)
