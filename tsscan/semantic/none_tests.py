"""What an ``is None`` / ``is not None`` test tells the compiler, for the flow walk
(:mod:`tsscan.semantic.flow`): which arm it keeps when the value's type decides the test, which
tests it may fold on a type not known here, and which Optional locals an arm refines.

Each question takes the walk's view of the variables where the test is: ``lookup`` (a name's
type) or ``typer`` (an expression's type); None is unknown.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from tsscan.semantic.annotations import is_optional, union_members, walk_expr

Lookup = Callable[[str], str | None]
Typer = Callable[[cst.BaseExpression], str | None]
TypeOf = Callable[[cst.BaseExpression], str | None]  # a type expression's TorchScript type


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


def refinements(test: cst.BaseExpression, true_arm: bool, lookup: Lookup, type_of: TypeOf) -> dict[str, str]:
    """``{name: T}`` for the variables the test narrows in this arm, as the compiler does:
    Optional[T] locals proven not None (``v is not None`` and ``and`` chains of it in the true
    arm, ``v is None`` in the false arm), the member of a ``Union`` an ``isinstance`` test
    selects (``type_of``: a type expression's TorchScript type), and either through ``not``."""
    out: dict[str, str] = {}
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) and true_arm:
        out.update(refinements(test.left, True, lookup, type_of))
        out.update(refinements(test.right, True, lookup, type_of))
        return out
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return refinements(test.expression, not true_arm, lookup, type_of)
    tested = _name_tested_against_none(test)
    if tested is not None and tested[1] == true_arm:
        name = tested[0]
        t = lookup(name)
        if is_optional(t):
            out[name] = t[len("Optional[") : -1]
    out.update(_isinstance_refinement(test, true_arm, lookup, type_of))
    return out


def _isinstance_refinement(test: cst.BaseExpression, true_arm: bool, lookup: Lookup, type_of: TypeOf) -> dict[str, str]:
    """``isinstance(v, T)`` or ``torch.jit.isinstance(v, T)`` on a ``Union``/``Optional``
    variable that has ``T`` as one member: ``T`` in the true arm, the other members in the false
    arm (measured with torch 2.13: ``if torch.jit.isinstance(x, Dict[str, Tensor]): x = x["a"]``
    then ``return x`` as a Tensor compiles)."""
    if not (isinstance(test, cst.Call) and len(test.args) == 2 and all(a.keyword is None for a in test.args)):
        return {}
    func = test.func
    plain = isinstance(func, cst.Name) and func.value == "isinstance"
    jit = (
        isinstance(func, cst.Attribute)
        and func.attr.value == "isinstance"
        and isinstance(func.value, (cst.Attribute, cst.Name))
        and (func.value.attr.value if isinstance(func.value, cst.Attribute) else func.value.value) == "jit"
    )
    value = test.args[0].value
    if not (plain or jit) or not isinstance(value, cst.Name):
        return {}
    members = union_members(lookup(value.value))
    wanted = type_of(test.args[1].value)
    if members is None or wanted is None or members.count(wanted) != 1:
        return {}
    if true_arm:
        return {value.value: wanted}
    rest = [m for m in members if m != wanted]
    if len(rest) == 1:
        return {value.value: rest[0]}
    if len(rest) == 2 and "None" in rest:
        return {value.value: f"Optional[{next(m for m in rest if m != 'None')}]"}
    return {value.value: f"Union[{', '.join(rest)}]"}


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
