import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import UNSAFE, Example, Fix, Rule
from tsscan.semantic.types import in_quiet_arm


class TupleOfList(Rule):
    """`tuple(...)` of a generator, a comprehension or a list.

    What it does:
        Flags `tuple(t * 2 for t in xs)`, `tuple([...])` and `tuple(xs)` with `xs` a list.

    Why is this bad:
        A TorchScript tuple has a length known at compile time, and a list's is not:
        "cannot statically infer the expected size of a list in this context".

    Example:
        return torch.cat(tuple(t * 2 for t in xs))

    Use instead:
        return torch.cat([t * 2 for t in xs])

    Fix:
        For `tuple(v[a:b])` with integer literal bounds of the same sign (`x.shape[-2:]`,
        `size[1:3]`) on a name or attribute: the tuple of the items, `(v[-2], v[-1])`. UNSAFE:
        where `v` is shorter than the slice, Python's slice gives a shorter tuple and the fix
        raises `IndexError`.
    """

    code = "TS226"
    needs = Needs(calls={"tuple"})
    name = "tuple-of-list"
    message = "`tuple()` of a list or generator has no length TorchScript can know; pass the list itself"
    level = "type"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import torch
from typing import Tuple


@torch.jit.script
def spatial(x: torch.Tensor) -> Tuple[int, int]:
    return tuple(x.shape[-2:])
""",
            fixed="""
import torch
from typing import Tuple


@torch.jit.script
def spatial(x: torch.Tensor) -> Tuple[int, int]:
    return (x.shape[-2], x.shape[-1])
""",
            inputs="[(torch.zeros(2, 3, 4, 5),), (torch.zeros(4, 5),)]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch
from typing import List


@torch.jit.script
def join(xs: List[torch.Tensor]) -> torch.Tensor:
    return torch.cat(tuple(t * 2 for t in xs))
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def join(xs: List[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t * 2 for t in xs]) + sum([t.numel() for t in xs])
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "tuple" and len(node.args) == 1):
            return
        types = self.ctx.types
        if "tuple" in types.params or "tuple" in types.declared:
            return
        arg = node.args[0]
        if arg.star:
            return
        v = arg.value
        if isinstance(v, (cst.GeneratorExp, cst.ListComp)):
            if not in_quiet_arm(self.ctx, node):
                self.report(node)
            return
        t = types.type_of(v)
        if t is not None and t.startswith("List["):
            if not in_quiet_arm(self.ctx, node):
                self.report(node, fix=_items_fix(node, v))


def _int(e: cst.BaseExpression | None) -> int | None:
    if isinstance(e, cst.Integer):
        return int(e.value)
    if (
        isinstance(e, cst.UnaryOperation)
        and isinstance(e.operator, cst.Minus)
        and isinstance(e.expression, cst.Integer)
    ):
        return -int(e.expression.value)
    return None


def _plain(e: cst.BaseExpression) -> bool:
    """A name or an attribute chain: evaluating it again reads the same value."""
    while isinstance(e, cst.Attribute):
        e = e.value
    return isinstance(e, cst.Name)


def _items_fix(node: cst.Call, v: cst.BaseExpression) -> Fix | None:
    """``tuple(v[a:b])`` -> ``(v[a], ..., v[b - 1])`` when the slice's length is known."""
    if not (isinstance(v, cst.Subscript) and len(v.slice) == 1 and _plain(v.value)):
        return None
    sl = v.slice[0].slice
    if not isinstance(sl, cst.Slice) or sl.step is not None:
        return None
    lower = 0 if sl.lower is None else _int(sl.lower)
    upper = _int(sl.upper) if sl.upper is not None else None
    if lower is None or (sl.upper is not None and upper is None):
        return None
    if upper is None:  # v[-n:]: the last n items
        indices = list(range(lower, 0)) if lower < 0 else []
    elif (lower < 0) == (upper < 0):
        indices = list(range(lower, upper))
    else:
        indices = []  # v[1:-1]: the length depends on len(v)
    if not indices or len(indices) > 8:
        return None
    items = [
        cst.Element(cst.Subscript(value=v.value, slice=[cst.SubscriptElement(cst.Index(_index(i)))])) for i in indices
    ]
    return Fix(
        replacements=[(node, cst.Tuple(elements=items))], safety=UNSAFE, description="build the tuple from its items"
    )


def _index(i: int) -> cst.BaseExpression:
    return cst.Integer(str(i)) if i >= 0 else cst.UnaryOperation(cst.Minus(), cst.Integer(str(-i)))
