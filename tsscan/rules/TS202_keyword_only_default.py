import libcst as cst

from tsscan.rule import Example, Rule


class KeywordOnlyDefault(Rule):
    """A keyword-only parameter with a default in a compiled signature (`def f(x, *, k=2)`).

    What it does:
        Flags parameters after a bare `*` that have a default value, in functions that
        `torch.jit.script` compiles. Keyword-only parameters *without* defaults compile.

    Why is this bad:
        "Compiled functions can't take variable number of arguments or use keyword-only
        arguments with defaults".

    Example:
        def forward(self, x: torch.Tensor, *, scale: float = 1.0):
            ...

    Use instead:
        Make it an ordinary parameter with the same default: `def forward(self, x, scale:
        float = 1.0)`. Callers that pass it by keyword keep working.
    """

    code = "TS202"
    name = "keyword-only-default"
    message = "keyword-only parameter `{name}` with a default is not supported by TorchScript; drop the `*`"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Temperature(nn.Module):
    def forward(self, logits: torch.Tensor, *, t: float = 2.0) -> torch.Tensor:
        return logits / t
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Temperature(nn.Module):
    def forward(self, logits: torch.Tensor, t: float = 2.0) -> torch.Tensor:
        return logits / t


@torch.jit.script
def scale(x: torch.Tensor, *, k: int) -> torch.Tensor:
    return x * k
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self._depth > 1:
            return
        for p in node.params.kwonly_params:
            if p.default is not None:
                self.report(p, self.message.format(name=p.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
