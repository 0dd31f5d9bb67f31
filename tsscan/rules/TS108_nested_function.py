import libcst as cst

from tsscan.rule import Example, Rule


class NestedFunction(Rule):
    """A `def` inside a compiled function.

    What it does:
        Flags function definitions nested in code that `torch.jit.script` compiles
        (closures, local helpers).

    Why is this bad:
        TorchScript has no closures: the frontend stops with "function definitions aren't
        supported". `nonlocal` can only appear in such a nested function, so it goes with it.

    Example:
        def forward(self, x):
            def scale(t):
                return t * self.alpha
            return scale(x)

    Use instead:
        Move the helper to module level (or make it a method) and pass what it captured as
        arguments.
    """

    code = "TS108"
    name = "nested-function"
    message = "nested function definitions are not supported by TorchScript; move it to module level"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Scaler(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.alpha = 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def scale(t: torch.Tensor) -> torch.Tensor:
            return t * self.alpha

        return scale(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


def scale(t: torch.Tensor, alpha: float) -> torch.Tensor:
    return t * alpha


class Scaler(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.alpha = 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scale(x, self.alpha)
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self._depth > 1:
            self.report(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
