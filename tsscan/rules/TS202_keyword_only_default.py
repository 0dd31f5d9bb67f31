import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule


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

    Fix:
        The keyword-only parameters with defaults move, in their order, after the ordinary
        parameters; the bare `*` stays only for keyword-only parameters without a default.
        SAFE: every call that was valid before binds the same values (only calls that passed
        too many positional arguments, errors before, now bind them). Not offered after
        `*args`, where moving a parameter would change what positional arguments bind to.
    """

    code = "TS202"
    needs = Needs(nodes={"KwOnly"})
    name = "keyword-only-default"
    message = "keyword-only parameter `{name}` with a default is not supported by TorchScript; drop the `*`"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Temperature(nn.Module):
    def forward(self, logits: torch.Tensor, *, t: float = 2.0) -> torch.Tensor:
        return logits / t
""",
            fixed="""
import torch
from torch import nn


class Temperature(nn.Module):
    def forward(self, logits: torch.Tensor, t: float = 2.0) -> torch.Tensor:
        return logits / t
""",
            inputs="[(torch.randn(2, 3),), (torch.tensor([1.0, float('nan')]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def blend(x: torch.Tensor, y: torch.Tensor, *, w: float = 0.5, clamp: bool = False) -> torch.Tensor:
    z = x * w + y * (1.0 - w)
    return z.clamp(-1.0, 1.0) if clamp else z
""",
            fixed="""
import torch


@torch.jit.script
def blend(x: torch.Tensor, y: torch.Tensor, w: float = 0.5, clamp: bool = False) -> torch.Tensor:
    z = x * w + y * (1.0 - w)
    return z.clamp(-1.0, 1.0) if clamp else z
""",
            inputs="[(torch.randn(3), torch.randn(3)), (torch.tensor([2.0, -3.0]), torch.zeros(2))]",
            fix=SAFE,
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
        params = node.params
        moved = [p for p in params.kwonly_params if p.default is not None]
        fix = None
        if moved and isinstance(params.star_arg, cst.ParamStar):
            kept = [p for p in params.kwonly_params if p.default is None]
            new = params.with_changes(
                params=[*params.params, *moved],
                kwonly_params=kept,
                star_arg=params.star_arg if kept else cst.MaybeSentinel.DEFAULT,
            )
            fix = Fix(replacements=[(params, new)], safety=SAFE, description="make it an ordinary parameter")
        for i, p in enumerate(moved):
            self.report(p, self.message.format(name=p.name.value), fix=fix if i == 0 else None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
