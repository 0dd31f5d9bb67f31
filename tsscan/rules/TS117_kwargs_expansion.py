import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class KwargsExpansion(Rule):
    """Keyword-argument expansion `f(**kw)` in compiled code.

    What it does:
        Flags `**` arguments in calls in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "keyword-arg expansion is not supported": TorchScript binds
        arguments at compile time and cannot unpack a dict at run time.

    Example:
        opts = {"dim": 1, "keepdim": True}
        return x.sum(**opts)

    Use instead:
        Pass the keywords explicitly: `x.sum(dim=1, keepdim=True)`.
    """

    code = "TS117"
    needs = Needs(nodes={"keyword"})
    name = "kwargs-expansion"
    message = "`**` argument expansion is not supported by TorchScript; pass the keywords explicitly"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


def scaled(x: torch.Tensor, factor: float, bias: float) -> torch.Tensor:
    return x * factor + bias


@torch.jit.script
def apply(x: torch.Tensor) -> torch.Tensor:
    opts = {"factor": 2.0, "bias": 1.0}
    return scaled(x, **opts)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


def scaled(x: torch.Tensor, factor: float, bias: float) -> torch.Tensor:
    return x * factor + bias


@torch.jit.script
def apply(x: torch.Tensor) -> torch.Tensor:
    return scaled(x, factor=2.0, bias=1.0)
"""
        ),
    ]

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.star == "**":
            self.report(node)
