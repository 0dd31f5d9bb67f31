import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm, unrolled_loop
from tsscan.walk import walk


def _jumps(body: cst.CSTNode) -> list[cst.CSTNode]:
    """``break``/``continue`` statements of a loop body (not of loops or functions nested in it)."""
    out: list[cst.CSTNode] = []

    class V(cst.CSTVisitor):
        def visit_For(self, n: cst.For) -> bool:
            return False

        def visit_While(self, n: cst.While) -> bool:
            return False

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False

        def visit_Break(self, n: cst.Break) -> None:
            out.append(n)

        def visit_Continue(self, n: cst.Continue) -> None:
            out.append(n)

    walk(body, V())
    return out


class BreakInUnrolledLoop(Rule):
    """`break`/`continue` in a loop over a ModuleList, a Sequential or a tuple.

    What it does:
        Flags `break` and `continue` directly inside a `for` loop over a module container
        (`self.blocks`, `enumerate(self.blocks)`, `self.heads.values()`) or over a tuple.

    Why is this bad:
        TorchScript unrolls such loops, one copy of the body per element, and cannot jump
        out of them: "Because we emit iteration over modulelists or tuples as unrolled
        loops, we do not support break or continue inside the body of these loops".

    Example:
        for i, block in enumerate(self.blocks):
            if i == self.depth:
                break
            x = block(x)

    Use instead:
        Guard the body instead of leaving it: `if i < self.depth: x = block(x)`.
    """

    code = "TS318"
    name = "break-in-unrolled-loop"
    message = "`{word}` in a loop over a {what}, which TorchScript unrolls; guard the body with an `if` instead"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        self.depth = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.blocks):
            if i == self.depth:
                break
            x = block(x)
        return x
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def scale(x: torch.Tensor) -> torch.Tensor:
    for k in (1, 2, 3):
        if k == 2:
            continue
        x = x * k
    return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        self.depth = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.blocks):
            if i < self.depth:
                x = block(x)
            for j in range(3):
                if j == i:
                    break
                x = x + j
        return x
"""
        ),
    ]

    def visit_For(self, node: cst.For) -> None:
        it = node.iter
        if in_quiet_arm(self.ctx, node):
            return
        if unrolled_loop(it, self.ctx):
            what = "module container"
        elif isinstance(it, cst.Tuple) or (self.ctx.types.type_at(it) or "").startswith("Tuple["):
            what = "tuple"
        else:
            return
        for jump in _jumps(node.body):
            word = "break" if isinstance(jump, cst.Break) else "continue"
            self.report(jump, self.message.format(word=word, what=what))
