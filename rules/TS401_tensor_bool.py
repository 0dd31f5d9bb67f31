from tsscan.rule import SAFE, Example, Fix, Rule

import libcst as cst

_FIXES = {
    # unsupported Tensor method -> (replacement method, the argument it needs)
    "bool": ("to", "torch.bool"),
    "bfloat16": ("to", "torch.bfloat16"),
}


class TensorDtypeShortcut(Rule):
    """`.bool()` / `.bfloat16()` on a tensor.

    What it does:
        Flags calls of the dtype shortcuts `x.bool()` and `x.bfloat16()` in compiled code.

    Why is this bad:
        TorchScript's Tensor type has no `bool` or `bfloat16` method ("'Tensor' object has no
        attribute or method 'bool'"), although `.float()`, `.long()`, `.half()` and the other
        shortcuts work.

    Example:
        mask = x.bool()

    Use instead:
        mask = x.to(torch.bool)

    Fix:
        `x.bool()` becomes `x.to(torch.bool)` and `x.bfloat16()` becomes `x.to(torch.bfloat16)`:
        the same values for every input, NaN and negatives included. The often-quoted
        `x > 0` is *not* equivalent: it maps negatives and NaN to False.
    """

    code = "TS401"
    name = "tensor-dtype-shortcut"
    message = "`.{method}()` is not a TorchScript Tensor method; use `.to({dtype})`"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Masker(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
""",
            fixed="""
import torch
from torch import nn


class Masker(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bool)
""",
            inputs="[(torch.tensor([-1.0, 0.0, 2.0, float('nan')]),), (torch.zeros(0),), (torch.tensor([0, 3]),)]",
        ),
        Example(
            """
import torch


@torch.jit.script
def half_precision(x: torch.Tensor) -> torch.Tensor:
    return x.bfloat16() * 2
""",
            fixed="""
import torch


@torch.jit.script
def half_precision(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.bfloat16) * 2
""",
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Masker(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float().to(torch.bool) | (x != 0)
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and not node.args):
            return
        method = func.attr.value
        if method not in _FIXES:
            return
        # a module's own method named bool() is not a Tensor method
        if self.ctx.self_attr(func.value) is None and isinstance(func.value, cst.Name) and func.value.value == self.ctx.self_name:
            return
        new_method, dtype = _FIXES[method]
        new = node.with_changes(
            func=func.with_changes(attr=cst.Name(new_method)),
            args=[cst.Arg(cst.parse_expression(dtype))],
        )
        self.report(
            node,
            self.message.format(method=method, dtype=dtype),
            Fix(replacements=[(node, new)], imports=["import torch"], description=f"use .to({dtype})"),
        )
