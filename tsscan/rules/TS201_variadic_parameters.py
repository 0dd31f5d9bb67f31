import libcst as cst

from tsscan.rule import Example, Rule


class VariadicParameters(Rule):
    """`*args` / `**kwargs` in the signature of a compiled function.

    What it does:
        Flags `*args` and `**kwargs` parameters of functions that `torch.jit.script`
        compiles: `forward`, exported methods, scripted functions, the functions they call,
        and the signatures of called `@torch.jit.unused` methods. `__init__` is not
        compiled and may take `**kwargs`.

    Why is this bad:
        "Compiled functions can't take variable number of arguments or use keyword-only
        arguments with defaults": every argument of a compiled function needs a name and a
        static type.

    Example:
        def forward(self, x, *extra, **options):
            ...

    Use instead:
        Explicit, typed parameters with defaults (`scale: float = 1.0`); a `List[Tensor]`
        parameter for a variable number of tensors.
    """

    code = "TS201"
    name = "variadic-parameters"
    message = "`{star}{name}` parameters are not supported by TorchScript; use explicit typed parameters"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Blend(nn.Module):
    def forward(self, x: torch.Tensor, *others: torch.Tensor) -> torch.Tensor:
        for o in others:
            x = x + o
        return x
"""
        ),
        Example(
            """
import torch
from torch import nn


class Blend(nn.Module):
    def forward(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return x * options["scale"]
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch
from torch import nn


class Blend(nn.Module):
    def __init__(self, **kwargs: float) -> None:
        super().__init__()
        self.scale = kwargs.get("scale", 1.0)

    def forward(self, x: torch.Tensor, others: List[torch.Tensor], scale: float = 1.0) -> torch.Tensor:
        for o in others:
            x = x + o
        return x * scale * self.scale
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self._depth > 1:
            return  # nested defs are reported by TS108
        params = node.params
        if isinstance(params.star_arg, cst.Param):
            self.report(params.star_arg, self.message.format(star="*", name=params.star_arg.name.value))
        if params.star_kwarg is not None:
            self.report(params.star_kwarg, self.message.format(star="**", name=params.star_kwarg.name.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
