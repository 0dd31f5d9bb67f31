import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule

# calls that take a range as their argument (measured with torch 2.13); `reversed` has its own rule
_TAKES_RANGE = {"list", "zip", "enumerate", "reversed"}


class RangeValue(Rule):
    """`range(...)` used as a value: an index, an argument, the right side of `in`.

    What it does:
        Flags `range(...)` used as a subscript (`x[..., range(0, n)]`), subscripted
        (`range(n)[0]`), passed to a function other than `list`, `zip` or `enumerate`
        (`len(range(n))`, `sum(range(n))`, `torch.tensor(range(n))`, `tuple(range(n))`) or
        tested with `in`.

    Why is this bad:
        TorchScript's `range` only drives loops: "range cannot be used as a value".
        `for i in range(n)`, comprehensions over it and `list(range(n))` are fine.

    Example:
        picked = x[..., range(0, n)]

    Use instead:
        picked = x[..., torch.arange(0, n)] (or `x[..., :n]` for a contiguous range)
    """

    code = "TS517"
    needs = Needs(calls={"range"})
    name = "range-value"
    message = (
        "`range()` cannot be used as a value in TorchScript; use `list(range(...))`, `torch.arange(...)` or a slice"
    )
    level = "type"

    invalid = [
        Example(
            """
import torch


class Pick(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., range(0, 2)]
"""
        ),
        Example(
            """
import torch


class Count(torch.nn.Module):
    def forward(self, x: torch.Tensor, n: int) -> int:
        return sum(range(n))
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


class Pick(torch.nn.Module):
    def forward(self, x: torch.Tensor, n: int) -> List[int]:
        out = list(range(n))
        for i, j in zip(range(n), range(n)):
            out.append(i + j)
        return out + [k * 2 for k in range(n)]
"""
        ),
    ]

    def on_function(self) -> None:
        self._as_value: set[int] = set()

    def visit_SubscriptElement(self, node: cst.SubscriptElement) -> None:
        if isinstance(node.slice, cst.Index):
            self._as_value.add(id(node.slice.value))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._as_value.add(id(node.value))

    def visit_ComparisonTarget(self, node: cst.ComparisonTarget) -> None:
        if isinstance(node.operator, (cst.In, cst.NotIn)):
            self._as_value.add(id(node.comparator))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Name) and func.value in _TAKES_RANGE and not self.ctx.is_shadowed(func.value)):
            for a in node.args:
                self._as_value.add(id(a.value))
        if id(node) in self._as_value and isinstance(func, cst.Name) and func.value == "range":
            if not self.ctx.is_shadowed("range"):
                self.report(node)
