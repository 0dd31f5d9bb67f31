import libcst as cst

from tsscan.rule import Example, Rule


class LambdaExpression(Rule):
    """`lambda` in compiled code.

    What it does:
        Flags every `lambda` expression in code that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript has no anonymous functions: the frontend stops with
        "Lambda aren't supported". This also rules out `sorted(xs, key=lambda ...)`,
        `map(lambda ...)` and callbacks stored in local variables.

    Example:
        def forward(self, x):
            act = lambda t: t * torch.sigmoid(t)
            return act(x)

    Use instead:
        A module-level function with annotated arguments (TorchScript compiles the free
        functions that compiled code calls), or a method of the module.
    """

    code = "TS102"
    name = "lambda"
    message = "lambda is not supported by TorchScript; use a module-level function or a method"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = lambda t: t * torch.sigmoid(t)
        return act(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


def swish(t: torch.Tensor) -> torch.Tensor:
    return t * torch.sigmoid(t)


class Swish(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.post = lambda t: t  # __init__ is not compiled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return swish(x)
"""
        ),
    ]

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.report(node)
