import libcst as cst

from tsscan.rule import Example, Rule


class VariableRetyped(Rule):
    """A variable given another type inside a branch or loop (`v = 0` ... `if c: v = "big"`).

    What it does:
        Flags an assignment inside an `if` arm or a loop body that gives a variable of an
        enclosing block a different type (a tuple grown in a loop, `t = t + (i,)`, is one
        case), and uses of a variable that the two arms of an `if` define with different
        types.

    Why is this bad:
        Straight-line rebinding may change a type, but where control flow merges a
        TorchScript variable has one type: "Variable 'v' previously had type int but is now
        being assigned to a value of type str", "Type mismatch: y is set to type int in the
        true branch and type float in the false branch".

    Example:
        v = x.numel()
        if v > 2:
            v = "big"

    Use instead:
        Use a new name for the new type, or give the variable one type on every path
        (`List[int]` plus `append` instead of a growing tuple).
    """

    code = "TS223"
    name = "variable-retyped"
    message = "`{var}` had type `{old}` and is given type `{new}` here; inside a branch or loop TorchScript keeps one type per variable"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Scale(nn.Module):
    def forward(self, x: torch.Tensor, per_channel: bool) -> torch.Tensor:
        if per_channel:
            scale = x.shape[-1]
        else:
            scale = 0.5
        return x * scale
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def label(x: torch.Tensor) -> str:
    v = x.numel()
    if v > 2:
        v = "big"
    return str(v)
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def indices(n: int) -> int:
    t = ()
    for i in range(n):
        t = t + (i,)
    return len(t)
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def pick(x: torch.Tensor) -> float:
    if x.numel() > 3:
        y = 1
    else:
        y = 2.0
    return y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def label(x: torch.Tensor) -> str:
    v = x.numel()
    v = str(v)
    t: List[int] = []
    for i in range(x.dim()):
        t.append(i)
    if len(t) > 2:
        v = "big"
    return v
"""
        ),
        Example(
            """
import torch
from torch import nn


class Focal(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # a loop over a ModuleList is unrolled: straight-line code, not a loop merge
        acc = 0
        for i, layer in enumerate(self.layers):
            acc = acc + layer(x) * i
        return acc + x
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        types = self.ctx.types
        for r in types.retypes:
            msg = self.message.format(var=r.var, old=r.old, new=r.new)
            if r.in_loop and r.old.startswith("Tuple[") and r.new.startswith("Tuple["):
                msg = (
                    f"tuple `{r.var}` grows in a loop (`{r.old}` becomes `{r.new}`); TorchScript tuples have a "
                    "fixed length, use a `List` and `append`"
                )
            self.report(r.node, msg)
        reported = set()
        for u in types.bad_uses:
            if u.kind == "conflict" and u.var not in reported:
                reported.add(u.var)
                self.report(
                    types.conflict_sites.get(u.var, u.node),
                    f"`{u.var}` is given different types in the arms of an `if` and used after it; "
                    "TorchScript needs one type where the arms merge",
                )
