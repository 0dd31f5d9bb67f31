import libcst as cst

from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule


class UnaryPlus(Rule):
    """Unary plus `+x` in compiled code.

    What it does:
        Flags the unary `+` operator in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend has no unary plus and crashes with an `AttributeError` ("'UnaryOp'
        object has no attribute 'range'") that names no line of your code.

    Example:
        offset = +self.shift

    Use instead:
        Drop the `+`.

    Fix:
        `+x` becomes `x`. SAFE when `x` is known to be an `int` or `float` (then `+x == x`).
        UNSAFE otherwise: on a bool tensor eager `+x` raises, and on a Python bool it turns
        `True` into `1`.
    """

    code = "TS125"
    name = "unary-plus"
    message = "unary `+` is not supported by TorchScript; drop it"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def shift(x: torch.Tensor, k: int) -> torch.Tensor:
    offset = +k
    return x + offset
""",
            fixed="""
import torch


@torch.jit.script
def shift(x: torch.Tensor, k: int) -> torch.Tensor:
    offset = k
    return x + offset
""",
            inputs="[(torch.tensor([1.0, float('nan')]), -3), (torch.zeros(0), 0), (torch.tensor([2, 5]), 7)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return +x
""",
            fix=UNSAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def shift(x: torch.Tensor, k: int) -> torch.Tensor:
    return x + k - (-k) + 1e+3
"""
        ),
    ]

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if not isinstance(node.operator, cst.Plus):
            return
        t = self.ctx.eager_types.type_at(node.expression)
        safe = t in ("int", "float")
        new = node.expression
        if node.lpar and not new.lpar:
            new = new.with_changes(lpar=node.lpar, rpar=node.rpar)
        self.report(
            node,
            fix=Fix(
                replacements=[(node, new)],
                safety=SAFE if safe else UNSAFE,
                description="drop the unary +"
                + ("" if safe else " (operand may be a tensor or bool: eager `+` raises on bool tensors)"),
            ),
        )
