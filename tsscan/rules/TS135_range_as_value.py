import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm

# calls that take a range as a value (measured on torch 2.13: `list(range(n))` scripts)
_VALUE_CALLS = ("len", "tuple", "sorted", "sum", "min", "max")


class RangeAsValue(Rule):
    """`range(...)` used as a value: an index, an `in` test, an argument (`x[..., range(n)]`).

    What it does:
        Flags `range(...)` used as a subscript index, as the right side of `in`/`not in`,
        or as an argument of `len()`, another builtin or a `torch` function. Loops,
        comprehensions, `enumerate`/`zip` of it and `list(range(n))` are fine.

    Why is this bad:
        TorchScript's `range` only drives loops: "range cannot be used as a value".

    Example:
        pairs = xcorr[..., range(0, n_pairs)]

    Use instead:
        Index with a Tensor: `xcorr.index_select(-1, torch.arange(n_pairs))` (after `...`
        a Tensor index fails too, TS133), or use `list(range(0, n_pairs))`.
    """

    code = "TS135"
    needs = Needs(calls={"range"})
    name = "range-as-value"
    message = "`range(...)` is used as a value here; TorchScript's `range` only drives loops, use `torch.arange(...)` or `list(range(...))`"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def first_pairs(xcorr: torch.Tensor, n_pairs: int) -> torch.Tensor:
    return xcorr[..., range(0, n_pairs)]
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def first_pairs(xcorr: torch.Tensor, n_pairs: int) -> torch.Tensor:
    idx = list(range(0, n_pairs))
    for i, j in zip(range(n_pairs), idx):
        xcorr = xcorr + i * j
    return xcorr.index_select(-1, torch.arange(n_pairs)) + len(idx)
"""
        ),
    ]

    def _is_range(self, node: cst.BaseExpression) -> bool:
        return (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "range"
            and self.ctx.qualname(node.func) == "range"
            and "range" not in self.ctx.module.functions
            and self.ctx.types.type_of(node.func) is None
        )

    def _flag(self, node: cst.BaseExpression) -> None:
        if self._is_range(node) and not in_quiet_arm(self.ctx, node):
            self.report(node)

    def visit_SubscriptElement(self, node: cst.SubscriptElement) -> None:
        if isinstance(node.slice, cst.Index):
            self._flag(node.slice.value)

    def visit_ComparisonTarget(self, node: cst.ComparisonTarget) -> None:
        if isinstance(node.operator, (cst.In, cst.NotIn)):
            self._flag(node.comparator)

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if isinstance(f, cst.Name) and f.value in _VALUE_CALLS:
            pass
        elif not (self.ctx.qualname(f) or "").startswith("torch."):
            return
        for a in node.args:
            self._flag(a.value)
