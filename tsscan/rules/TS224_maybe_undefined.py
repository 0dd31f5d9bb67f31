import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class MaybeUndefined(Rule):
    """A variable used where it is defined on some paths only.

    What it does:
        Flags a variable that is assigned in only one arm of an `if` (the other arm not
        ending in `return` or `raise`; an arm ending in `break`/`continue` still counts) and
        used after it (the finding is on the `if`, where the compiler points), or first
        assigned inside a loop (the loop variable too) and used after it (the finding is on
        the use).

    Why is this bad:
        TorchScript needs every variable defined on every path: "y is not defined in the
        false branch", "undefined value y". Python only fails when the path is taken.

    Example:
        if x.numel() > 3:
            y = x * 2
        return y

    Use instead:
        y = x
        if x.numel() > 3:
            y = x * 2
        return y
    """

    code = "TS224"
    needs = Needs(nodes={"If", "For", "AsyncFor", "While", "Try", "TryStar", "Match", "NamedExpr", "With", "AsyncWith"})
    name = "maybe-undefined"
    message = "`{var}` is not defined on every path to this use (assigned in one branch only, or first in a loop); define it before"
    if_message = "`{var}` is assigned in one arm of this `if` only and used after it; define it before the `if`"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def double_big(x: torch.Tensor) -> torch.Tensor:
    if x.numel() > 3:
        y = x * 2
    return y
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def last(x: torch.Tensor) -> torch.Tensor:
    for i in range(3):
        y = x * i
    return y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def kernel(mode: str, x: torch.Tensor) -> torch.Tensor:
    # annotated in the first arm, given a value in every arm that goes on
    if mode == "sobel":
        k: torch.Tensor = x * 2
    elif mode == "diff":
        k = x * 3
    else:
        raise NotImplementedError(mode)
    return k
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def double_big(x: torch.Tensor) -> torch.Tensor:
    if x.numel() > 3:
        y = x * 2
    else:
        return x
    for i in range(3):
        z = y * i
        y = z
    return y
"""
        ),
        Example(
            """
from typing import List

import torch
from torch import nn


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        self.norm = nn.ModuleList([nn.Identity(), nn.Identity()])

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        xs = [x, x * 2]
        for i, blk in enumerate(self.blocks):
            xs = [blk(t) for t in xs]
        # the comprehension's own `i`, not the loop's
        xs = [norm(xs[i]) for i, norm in enumerate(self.norm)]
        return xs
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        reported = set()
        for u in self.ctx.types.bad_uses:
            if u.kind == "maybe" and u.var not in reported:
                reported.add(u.var)  # the first use is enough
                if u.origin is not None:
                    # where the compiler points: the `if` that defines it in one arm only
                    self.report(u.origin, self.if_message.format(var=u.var))
                else:
                    self.report(u.node, self.message.format(var=u.var))
