import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class RoundNdigits(Rule):
    """`round(v, ndigits)` in compiled code.

    What it does:
        Flags calls of the builtin `round` with a second argument.

    Why is this bad:
        TorchScript's `round` takes one argument: "Arguments for call are not valid", for
        floats, ints and tensors alike.

    Example:
        r = round(v, 2)

    Use instead:
        For tensors, `torch.round(x, decimals=2)`. For floats there is no exact equivalent:
        Python rounds the exact decimal value (`round(2.675, 2) == 2.67`), while
        `math.floor(v * 100 + 0.5) / 100` and similar formulas round the binary product;
        check that the difference does not matter, or round outside the model.
    """

    code = "TS505"
    needs = Needs(calls={"round"})
    name = "round-ndigits"
    message = "`round()` with `ndigits` is not supported by TorchScript"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def cents(v: float) -> float:
    return round(v, 2)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def cents(x: torch.Tensor, v: float) -> torch.Tensor:
    return torch.round(x, decimals=2) * v
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "round" and not self.ctx.is_shadowed("round")):
            return
        if len(node.args) >= 2 or any(a.keyword is not None and a.keyword.value == "ndigits" for a in node.args):
            self.report(node)
