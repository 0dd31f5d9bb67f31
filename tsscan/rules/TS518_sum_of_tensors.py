import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class SumOfTensors(Rule):
    """`sum(...)` over tensors (a list of tensors, or a generator of them).

    What it does:
        Flags the builtin `sum` called on a `List[Tensor]` or on a generator or list
        comprehension whose items are tensors (`sum(l(x) for l in self.losses)`).
        `sum` over ints or floats, generators included, compiles.

    Why is this bad:
        TorchScript's `sum` has overloads for lists of `int`, `float`, `complex` and `bool`
        only: "Arguments for call are not valid".

    Example:
        total = sum(t.mean() for t in parts)

    Use instead:
        total = torch.zeros(()) / `for t in parts: total = total + t.mean()`, or
        `torch.stack([t.mean() for t in parts]).sum()` when the items have one shape.
    """

    code = "TS518"
    needs = Needs(calls={"sum"})
    name = "sum-of-tensors"
    message = "TorchScript's `sum()` does not add tensors; add them in a loop or use `torch.stack(...).sum(0)`"
    level = "type"

    invalid = [
        Example(
            """
from typing import List

import torch


class Total(torch.nn.Module):
    def forward(self, parts: List[torch.Tensor]) -> torch.Tensor:
        return sum(t.mean() for t in parts)
"""
        ),
        Example(
            """
from typing import List

import torch


class Total(torch.nn.Module):
    def forward(self, parts: List[torch.Tensor]) -> torch.Tensor:
        return sum(parts)
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


class Total(torch.nn.Module):
    def forward(self, parts: List[torch.Tensor], sizes: List[int]) -> torch.Tensor:
        total = torch.zeros(())
        for t in parts:
            total = total + t.mean()
        return total * sum(s * 2 for s in sizes) + torch.stack([t.sum() for t in parts]).sum()
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Name) and func.value == "sum" and len(node.args) == 1):
            return
        if self.ctx.is_shadowed("sum"):
            return
        arg = node.args[0]
        if arg.keyword is not None or arg.star:
            return
        value = arg.value
        typed = value
        if isinstance(value, cst.GeneratorExp):  # typed as the list comprehension it iterates like
            typed = cst.ListComp(elt=value.elt, for_in=value.for_in)
        if self.ctx.types.type_at(value, typed) == "List[Tensor]" and not in_quiet_arm(self.ctx, node):
            self.report(node)
