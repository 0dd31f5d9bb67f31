import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.typemodel import RootOnly, in_quiet_arm, is_optional, module_attribute_type, value_uses


def optional_attribute(ctx, name: str):
    """The Optional type of ``self.<name>`` (from :mod:`tsscan.attributes`), else None."""
    cls = ctx.cls
    if cls is None or any(name in c.constants for c in cls.mro()):
        return None
    t = module_attribute_type(ctx, name)
    return t if is_optional(t) else None


class OptionalAttribute(Rule):
    """An `Optional` module attribute used directly (`self.bias + x`).

    What it does:
        Flags `self.X` used as a value (arithmetic, method call, indexing) when the class
        declares `X: Optional[...]`, even inside
        `if self.X is not None:`.

    Why is this bad:
        TorchScript refines local variables only: `if self.bias is not None:` does not make
        `self.bias` a Tensor, so `x + self.bias` fails with "Arguments for call are not
        valid ... found type 'Optional[Tensor]'".

    Example:
        if self.bias is not None:
            x = x + self.bias

    Use instead:
        bias = self.bias
        if bias is not None:
            x = x + bias
    """

    code = "TS213"
    name = "optional-attribute"
    message = "`self.{name}` is `{type}`; TorchScript does not refine attributes, copy it to a local and check that with `is not None`"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn
from typing import Optional


class Shift(nn.Module):
    bias: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.bias = torch.ones(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is not None:
            return x + self.bias
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Optional


class Shift(nn.Module):
    bias: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.bias = torch.ones(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias
        if bias is not None:
            return x + bias
        return x
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not RootOnly.is_root(self, node) or self.ctx.cls is None:
            return
        for n in value_uses(node, self.ctx).values():
            name = self.ctx.self_attr(n)
            if name is None:
                continue
            t = optional_attribute(self.ctx, name)
            if t is not None:
                if not in_quiet_arm(self.ctx, n):
                    self.report(n, self.message.format(name=name, type=t))
