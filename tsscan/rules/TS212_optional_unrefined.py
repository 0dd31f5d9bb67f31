import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm, is_optional, refined_names, value_uses


class OptionalUnrefined(Rule):
    """An `Optional[...]` parameter or local used without an `is not None` check.

    What it does:
        Flags uses of a parameter or annotated local of type `Optional[T]` as a `T`
        (arithmetic, method call, indexing) in functions that
        never refine it (`is None`/`is not None`, `assert`, `isinstance`, rebinding), and
        operands of `==`/`!=` (`n == 2` does not compile either). An `if v is None:` that
        neither leaves nor has an `else` refines nothing.

    Why is this bad:
        TorchScript checks Optional types strictly: `x + y` with `y: Optional[Tensor]` is
        "Arguments for call are not valid ... found type 'Optional[Tensor]'", and `y.sum()`
        is "'Optional[Tensor]' object has no attribute or method 'sum'".

    Example:
        def forward(self, x: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
            return x + y

    Use instead:
        def forward(self, x: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
            if y is not None:
                x = x + y
            return x
    """

    code = "TS212"
    needs = Needs(nodes={"Annotation"})
    name = "optional-unrefined"
    message = "`{name}` is `{type}` and is used without an `is not None` check; TorchScript requires the refinement"
    level = "type"

    invalid = [
        Example(
            """
from typing import Optional

import torch
from torch import nn


class Pick(nn.Module):
    def forward(self, x: torch.Tensor, n: Optional[int] = None) -> torch.Tensor:
        if n == 2:
            return x * 2
        return x
"""
        ),
        Example(
            """
from typing import Optional

import torch
from torch import nn


class Add(nn.Module):
    def forward(self, x: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        if y is None:
            print("no bias")
        return x + y
"""
        ),
        Example(
            """
import torch
from typing import Optional


@torch.jit.script
def add_bias(x: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
    return x + bias
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import Optional


@torch.jit.script
def add_bias(x: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
    if bias is None:
        return x
    return x + bias
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        types = self.ctx.types
        optional = {n: t for n, t in types.declared.items() if is_optional(t)}
        if not optional:
            return
        refined = refined_names(node, strict=True)
        candidates = {n: t for n, t in optional.items() if n not in refined}
        if not candidates:
            return
        for n in value_uses(node, self.ctx, equality=True).values():
            if isinstance(n, cst.Name) and n.value in candidates:
                if not in_quiet_arm(self.ctx, n):
                    self.report(n, self.message.format(name=n.value, type=candidates[n.value]))
