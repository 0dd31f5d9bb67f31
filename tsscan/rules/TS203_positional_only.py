import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class PositionalOnlyParameters(Rule):
    """Positional-only parameters (`def f(x, /, y)`) in a compiled signature.

    What it does:
        Flags signatures with a `/` marker in functions that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript drops the parameters before `/` when it builds the function, so the
        body fails on them: "undefined value x".

    Example:
        @torch.jit.script
        def add(x: int, /, y: int) -> int:
            return x + y

    Use instead:
        Remove the `/`: ordinary parameters accept positional calls too.
    """

    code = "TS203"
    needs = Needs(nodes={"PosOnly"})
    name = "positional-only-parameters"
    message = "positional-only parameters (`/`) are not supported by TorchScript; remove the `/`"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def add(x: torch.Tensor, /, y: torch.Tensor) -> torch.Tensor:
    return x + y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x + y
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self._depth == 1 and node.params.posonly_params:
            self.report(node.params.posonly_params[0])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
