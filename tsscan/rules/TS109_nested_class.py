import libcst as cst

from tsscan.rule import Example, Rule


class NestedClass(Rule):
    """A `class` statement inside a compiled function.

    What it does:
        Flags class definitions inside code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "class definitions aren't supported": TorchScript classes
        must be defined at module level.

    Example:
        def forward(self, x):
            class Box:
                def __init__(self, t: torch.Tensor):
                    self.t = t
            return Box(x).t

    Use instead:
        Define the class at module level (TorchScript compiles classes used from compiled
        code), or use a `NamedTuple` / a tuple.
    """

    code = "TS109"
    name = "nested-class"
    message = "class definitions inside compiled functions are not supported; define it at module level"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Boxer(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        class Box:
            def __init__(self, t: torch.Tensor) -> None:
                self.t = t

        return Box(x).t
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Box:
    def __init__(self, t: torch.Tensor) -> None:
        self.t = t


class Boxer(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Box(x).t
"""
        ),
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.report(node)
