import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import element_type, in_quiet_arm


def _unpacks(target: cst.BaseExpression) -> bool:
    """A tuple/list target without a starred element (TS128 reports those)."""
    return isinstance(target, (cst.Tuple, cst.List)) and not any(
        isinstance(e, cst.StarredElement) for e in target.elements
    )


class TensorUnpacked(Rule):
    """A Tensor unpacked into several names (`mean, var = pred`).

    What it does:
        Flags an assignment (or a `for` target) that unpacks a value the compiler types as
        `Tensor` into a tuple of names: a parameter without annotation (TorchScript makes
        it a Tensor), one annotated `Tensor`, or a local holding a Tensor.

    Why is this bad:
        Python iterates the Tensor's first dimension; TorchScript only unpacks tuples and
        lists: "Tensor (inferred) cannot be used as a tuple". Often the parameter was meant
        to be a tuple and has no annotation.

    Example:
        def forward(self, pred, target):
            mean, var = pred
            return (mean - target) ** 2 / var

    Use instead:
        Annotate what is really passed (`pred: Tuple[Tensor, Tensor]`), or index the
        Tensor: `mean, var = pred[0], pred[1]`.
    """

    code = "TS229"
    name = "tensor-unpacked"
    message = (
        "`{value}` is a Tensor to TorchScript, which cannot unpack it into names; annotate it as a Tuple or index it"
    )
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class GaussianNLL(nn.Module):
    def forward(self, pred, target: torch.Tensor) -> torch.Tensor:
        mean, var = pred
        return (mean - target) ** 2 / var
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def gather(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    row, col = edge_index
    return x[row] - x[col]
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def pairs(x: torch.Tensor) -> torch.Tensor:
    y = x * 2
    for a, b in y:
        x = x + a * b
    return x
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List, Optional, Tuple

import torch
from torch import nn


class GaussianNLL(nn.Module):
    def forward(
        self, pred: Tuple[torch.Tensor, torch.Tensor], target: torch.Tensor, hc: Optional[List[torch.Tensor]] = None
    ) -> torch.Tensor:
        mean, var = pred
        if hc is not None:
            h, c = hc
            mean = mean + h * c
        row, col = target[0], target[1]
        return (mean - row * col) ** 2 / var
"""
        ),
    ]

    def _report(self, target: cst.BaseExpression, value: cst.BaseExpression, what: str) -> None:
        self.report(target, self.message.format(value=what + cst.Module(body=[]).code_for_node(value)))

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if _unpacks(t.target) and self.ctx.types.type_at(node.value) == "Tensor":
                if not in_quiet_arm(self.ctx, node):
                    self._report(t.target, node.value, "")

    def visit_For(self, node: cst.For) -> None:
        # what a loop binds is an element of its iterable: a Tensor's elements are Tensors
        if _unpacks(node.target) and element_type(self.ctx.types.type_at(node.iter)) == "Tensor":
            if not in_quiet_arm(self.ctx, node):
                self._report(node.target, node.iter, "an element of ")
