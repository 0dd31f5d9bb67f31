from tsscan.rule import Example, Rule

import libcst as cst


class LoopElse(Rule):
    """`for ... else` and `while ... else` in compiled code.

    What it does:
        Flags loops with an `else` clause in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "else branches of for loops aren't supported" (for `for`)
        or with an internal `TypeError` that names no line at all (for `while`).

    Example:
        for i in range(x.numel()):
            if bool(x[i] < 0):
                first = i
                break
        else:
            first = -1

    Use instead:
        Set the "not found" value before the loop and let `break` skip it, or keep a flag
        variable that `break` sets.
    """

    code = "TS115"
    name = "loop-else"
    message = "`else` on a {kind} loop is not supported by TorchScript; use a flag variable set before `break`"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def first_negative(x: torch.Tensor) -> int:
    for i in range(x.numel()):
        if bool(x[i] < 0):
            first = i
            break
    else:
        first = -1
    return first
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def halvings(n: int) -> int:
    steps = 0
    while n > 1:
        n = n // 2
        steps += 1
    else:
        steps += 100
    return steps
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def first_negative(x: torch.Tensor) -> int:
    first = -1
    for i in range(x.numel()):
        if bool(x[i] < 0):
            first = i
            break
    return first
"""
        ),
    ]

    def visit_For(self, node: cst.For) -> None:
        if node.orelse is not None:
            # the compiler points at the `for`
            self.report(node, self.message.format(kind="for"))

    def visit_While(self, node: cst.While) -> None:
        if node.orelse is not None:
            # the compiler names no line; the `else` is what has to go
            self.report(node.orelse, self.message.format(kind="while"))
