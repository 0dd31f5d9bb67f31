import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.operators import OPERATORS, comparison_fails
from tsscan.semantic.types import FunctionTypes, in_quiet_arm, walk_expr


def _is_none(e: cst.BaseExpression) -> bool:
    return isinstance(e, cst.Name) and e.value == "None"


def _tests_type(e: cst.BaseExpression) -> bool:
    """``e`` holds an ``is``/``is not`` comparison or an ``isinstance``/``hasattr`` call: the
    compiler may refine or drop what depends on it."""
    for n in walk_expr(e):
        if isinstance(n, cst.ComparisonTarget) and isinstance(n.operator, (cst.Is, cst.IsNot)):
            return True
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in ("isinstance", "hasattr"):
            return True
    return False


class ComparisonTypes(Rule):
    """A comparison TorchScript has no operator for (`x == "max"` with `x` a Tensor, `x == None`).

    What it does:
        Flags `==`, `!=`, `<`, `<=`, `>`, `>=`, `in` and `not in` in compiled code whose two
        operands have types for which the compiler has no overload, by a table measured with
        the compiler (`scripts/measure_comparisons.py`, 18 types, 8 operators): a parameter
        without annotation (a Tensor) compared with a string or tested for membership in a
        list of strings; a string compared with an int or with an attribute that is None; and
        `==`/`!=` with `None`, which compiles for no type at all. The types are those in force
        at the comparison (after assignments); an operand of unknown type is never judged, nor
        an `Optional` one (whether it is refined there is not tracked), nor a comparison that
        an `is`/`isinstance`/`hasattr` test before it in an `and`/`or` or a conditional
        expression may skip.

    Why is this bad:
        Python compares anything with anything. TorchScript looks up `aten::eq` and friends
        for the two static types and stops with "Arguments for call are not valid" when none
        matches. The usual cause is a parameter like `mode="avg"` without annotation: its
        default says str, but TorchScript types it Tensor.

    Example:
        def forward(self, x, mode="avg"):
            if mode == "max":
                ...

    Use instead:
        Annotate the parameter (`mode: str = "avg"`), refine an Optional first
        (`if mode is not None and mode == "max"`), and test for None with `is None`.

    Fix:
        `x == None` becomes `x is None` (and `!=` becomes `is not`): the same answer in Python
        for every type TorchScript compiles.
    """

    code = "TS260"
    needs = HOOKS
    name = "comparison-types"
    message = 'TorchScript has no `{op}` for {left} and {right} ("Arguments for call are not valid"){why}'
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Pool(nn.Module):
    def forward(self, x: torch.Tensor, mode="avg") -> torch.Tensor:
        if mode == "max":
            return x.amax(dim=-1)
        return x.mean(dim=-1)
"""
        ),
        Example(
            """
import torch
from typing import Optional


@torch.jit.script
def scale(x: torch.Tensor, factor: Optional[float] = None) -> torch.Tensor:
    if factor == None:
        return x
    return x * factor
""",
            fixed="""
import torch
from typing import Optional


@torch.jit.script
def scale(x: torch.Tensor, factor: Optional[float] = None) -> torch.Tensor:
    if factor is None:
        return x
    return x * factor
""",
            inputs="[(torch.ones(2),), (torch.ones(2), 3.0)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn
from typing import List


class Amplitude(nn.Module):
    def forward(self, x: torch.Tensor, kind) -> torch.Tensor:
        assert kind in ["avg", "peak"]
        return x.abs().mean()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Optional


class Pool(nn.Module):
    def forward(self, x: torch.Tensor, mode: str = "avg", norm: Optional[str] = None) -> torch.Tensor:
        if mode == "max":
            x = x.amax(dim=-1)
        if norm is not None and norm == "l2":
            x = x / x.norm()
        if x.dim() in [1, 2] and 0 < x.numel():
            return x
        return x.mean(dim=-1)
"""
        ),
        Example(
            """
import torch
from typing import List


@torch.jit.script
def count(x: torch.Tensor, names: List[str]) -> int:
    n = 0
    for name in names:
        if name == "cls" or name in ["bos", "eos"]:
            n += 1
    return n + int(x.size(0) == 3)
"""
        ),
    ]

    def on_function(self) -> None:
        self._guarded: set[int] = set()  # nodes an `is`/`isinstance` test before them may skip

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        if _tests_type(node.left):
            self._guarded.update(id(n) for n in walk_expr(node.right))

    def visit_IfExp(self, node: cst.IfExp) -> None:
        if _tests_type(node.test):
            self._guarded.update(id(n) for part in (node.body, node.orelse) for n in walk_expr(part))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if id(node) in self._guarded or in_quiet_arm(self.ctx, node):
            return
        types = self.ctx.types
        left: cst.BaseExpression = node.left
        for target in node.comparisons:
            right = target.comparator
            op = OPERATORS.get(type(target.operator))
            if op is not None:
                self._pair(node, target, left, op, right, types)
            left = right

    def _pair(self, node, target, left, op: str, right, types: FunctionTypes) -> None:
        if op in ("==", "!=") and (_is_none(left) or _is_none(right)):
            other = right if _is_none(left) else left
            new_op = cst.Is if op == "==" else cst.IsNot
            old = target.operator
            fix = Fix(
                replacements=[
                    (old, new_op(whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after))
                ],
                safety=SAFE,
                description=f"`{'is' if op == '==' else 'is not'} None`",
            )
            what = types.type_at(other) or "a value"
            self.report(
                node,
                self.message.format(op=op, left=what, right="None", why="; use `is None`/`is not None`"),
                fix=fix if len(node.comparisons) == 1 else None,
            )
            return
        a, b = types.type_at(left), types.type_at(right)
        if any(t is None or t.startswith("Optional[") for t in (a, b)):
            return
        if comparison_fails(a, op, b) is None:
            return
        self.report(node, self.message.format(op=op, left=a, right=b, why=self._why(types, left, right)))

    @staticmethod
    def _why(types: FunctionTypes, *operands: cst.BaseExpression) -> str:
        for e in operands:
            if isinstance(e, cst.Name) and e.value in types.params and e.value not in types.declared:
                return f"; `{e.value}` has no annotation, so TorchScript types it Tensor"
        return ""
