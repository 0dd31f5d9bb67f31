import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import unifiable


class IfExpTypes(Rule):
    """`a if c else b` whose arms have different types.

    What it does:
        Flags conditional expressions whose two arms have different known types
        (`None` in one arm excepted: that makes an Optional).

    Why is this bad:
        "if-expression's true branch has type List[Tensor] but false branch has type
        Tensor". The YOLO head's `return x if self.training else torch.cat(z, 1)` is the
        classic case.

    Example:
        return x if self.training else torch.cat(z, 1)

    Use instead:
        Give both arms one type, or split into an `if` with returns of one type.
    """

    code = "TS222"
    needs = Needs(nodes={"IfExp"})
    name = "ifexp-types"
    message = "the arms of this if-expression have different types (`{a}` and `{b}`); TorchScript needs one type"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def merge(xs: List[torch.Tensor], flat: bool):
    return torch.cat(xs, 0) if flat else xs
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def merge(xs: List[torch.Tensor], flat: bool) -> List[torch.Tensor]:
    return [torch.cat(xs, 0)] if flat else xs
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for n, a, b in self.ctx.types.ifexps:
            if unifiable(a, b):
                continue
            self.report(n, self.message.format(a=a, b=b))
