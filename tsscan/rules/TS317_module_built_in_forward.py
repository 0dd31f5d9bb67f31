import libcst as cst

from tsscan.rule import Example, Rule


class ModuleBuiltInForward(Rule):
    """A `torch.nn` module (or a module class of the file) built inside compiled code.

    What it does:
        Flags a call in compiled code that builds an `nn.Module`: a class of `torch.nn`
        (`nn.ReLU(inplace=True)(x)`, `nn.ZeroPad2d(p)`, `nn.Parameter(t)`) or an `nn.Module`
        subclass defined in the same file.

    Why is this bad:
        Compiled code cannot create modules: "Cannot instantiate class 'ZeroPad2d' in a
        script function" ("Class ReLU does not have an __init__ function defined").

    Example:
        def forward(self, x):
            return nn.ReLU(inplace=True)(x)

    Use instead:
        Build the module in `__init__` (`self.act = nn.ReLU(inplace=True)`) and call it,
        or call the function: `F.relu(x)`, `F.pad(x, p)`.
    """

    code = "TS317"
    name = "module-built-in-forward"
    message = "`{name}(...)` builds a module inside compiled code, which TorchScript cannot do; build it in `__init__`"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Act(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.ReLU(inplace=True)(x)
"""
        ),
        Example(
            """
import torch
from torch import nn


class Block(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


class Net(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = Block()
        return block(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
import torch.nn.functional as F
from torch import nn


class Act(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x) + F.pad(x, [1, 1]).sum() + nn.functional.relu(x)
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        qual = self.ctx.qualname(func)
        if qual is None:
            return
        parts = qual.split(".")
        last = parts[-1]
        builds = False
        if parts[:2] == ["torch", "nn"] and last[:1].isupper() and (len(parts) == 3 or parts[2] == "modules"):
            builds = not last.endswith("Options")  # torch.nn.LinearCrossEntropyOptions is no module
        elif isinstance(func, cst.Name) and qual == func.value:
            info = self.ctx.module.classes.get(func.value)
            builds = info is not None and info.is_module
        if builds:
            self.report(node, self.message.format(name=cst.Module(body=[]).code_for_node(func)))
