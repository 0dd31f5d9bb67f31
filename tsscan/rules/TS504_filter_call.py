import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class FilterCall(Rule):
    """`filter(f, xs)` in compiled code.

    What it does:
        Flags calls of the builtin `filter`.

    Why is this bad:
        TorchScript does not implement `filter` ("function cannot be used as a value"), and
        the comprehension with `if` that would replace it is not supported either.

    Example:
        pos = list(filter(is_positive, xs))

    Use instead:
        pos: List[int] = []
        for v in xs:
            if is_positive(v):
                pos.append(v)
    """

    code = "TS504"
    needs = Needs(calls={"filter"})
    name = "filter-call"
    message = "`filter()` is not supported by TorchScript; use a loop with `if` and `append`"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import List


def _positive(v: int) -> bool:
    return v > 0


@torch.jit.script
def positives(xs: List[int]) -> List[int]:
    return list(filter(_positive, xs))
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


def _positive(v: int) -> bool:
    return v > 0


@torch.jit.script
def positives(xs: List[int]) -> List[int]:
    out: List[int] = []
    for v in xs:
        if _positive(v):
            out.append(v)
    return out
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "filter" and not self.ctx.is_shadowed("filter"):
            self.report(node)
