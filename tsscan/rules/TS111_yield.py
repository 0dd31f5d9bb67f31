import libcst as cst

from tsscan.rule import Example, Rule


class YieldInCompiled(Rule):
    """`yield` / `yield from` in compiled code (generator functions).

    What it does:
        Flags `yield` expressions in code that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript has no generators: the frontend stops with "Yield aren't supported".

    Example:
        @torch.jit.script
        def shifted(x: torch.Tensor):
            for i in range(3):
                yield x + i

    Use instead:
        Build a list with `append` and return it (annotate it when its elements are not
        tensors).
    """

    code = "TS111"
    name = "yield"
    message = "generators (`yield`) are not supported by TorchScript; build and return a list"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def shifted(x: torch.Tensor):
    for i in range(3):
        yield x + i
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def shifted(x: torch.Tensor) -> List[torch.Tensor]:
    out: List[torch.Tensor] = []
    for i in range(3):
        out.append(x + i)
    return out
"""
        ),
    ]

    def visit_Yield(self, node: cst.Yield) -> None:
        self.report(node)
