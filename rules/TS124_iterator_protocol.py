from tsscan.rule import Example, Rule

import libcst as cst


class IteratorProtocol(Rule):
    """`iter()`, `next()`, `.__iter__()` and `.__next__()` in compiled code.

    What it does:
        Flags explicit use of the iterator protocol in code that `torch.jit.script`
        compiles.

    Why is this bad:
        TorchScript iterates only in `for` loops and comprehensions: "Python builtin
        <built-in function iter> is currently not supported", and `enumerate(xs).__next__()`
        fails with "attribute lookup is not defined on iterabletree". (`for ... in
        enumerate(xs)` itself is fine.)

    Example:
        it = enumerate(scores)
        _, first = it.__next__()
        for i, s in it:
            ...

    Use instead:
        Index directly (`first = scores[0]`) and start the loop at 1
        (`for i in range(1, len(scores))`).
    """

    code = "TS124"
    name = "iterator-protocol"
    message = "`{what}` is not supported by TorchScript; index the sequence or use a for loop"
    fails_in = ">=1.0"
    level = "type"

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first_and_rest(xs: List[int]) -> int:
    it = iter(xs)
    total = next(it)
    for v in it:
        total -= v
    return total
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def best(scores: torch.Tensor) -> torch.Tensor:
    seq = enumerate(scores)
    _, top = seq.__next__()
    for _, s in seq:
        top = torch.maximum(top, s)
    return top
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first_and_rest(xs: List[int]) -> int:
    total = xs[0]
    for i in range(1, len(xs)):
        total -= xs[i]
    return total


@torch.jit.script
def best(scores: torch.Tensor) -> torch.Tensor:
    top = scores[0]
    for i, s in enumerate(scores):
        if i > 0:
            top = torch.maximum(top, s)
    return top
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in ("iter", "next"):
            mod = self.ctx.module
            if func.value in mod.functions or func.value in mod.aliases:
                return
            self.report(node, self.message.format(what=f"{func.value}()"))
        elif isinstance(func, cst.Attribute) and func.attr.value in ("__next__", "__iter__") and not node.args:
            self.report(node, self.message.format(what=f".{func.attr.value}()"))
