import libcst as cst

from tsscan.rule import Example, Rule


class AutogradFunctionApply(Rule):
    """`MyFn.apply(x)` on a `torch.autograd.Function` subclass in compiled code.

    What it does:
        Flags a call of `.apply` on a class of the file that derives (directly or through
        other classes of the file) from `torch.autograd.Function`.

    Why is this bad:
        From torch 2.14 on, TorchScript rejects it: "Python builtin <built-in method apply
        of FunctionMeta object> is currently not supported in Torchscript". (torch 2.13
        compiled it as a call back into Python, which cannot be saved or run without
        Python.)

    Example:
        class SwishFn(torch.autograd.Function):
            ...

        class Swish(nn.Module):
            def forward(self, x):
                return SwishFn.apply(x)

    Use instead:
        Keep the custom autograd function out of the compiled path
        (`if torch.jit.is_scripting(): return x * torch.sigmoid(x)`), or write the
        operation with differentiable torch functions.

    Versions:
        Measured with torch 2.14.1 (the call scripts with torch 2.13).
    """

    code = "TS231"
    name = "autograd-function-apply"
    message = "`{name}.apply(...)` calls a torch.autograd.Function, which TorchScript does not support"
    fails_in = ">=2.14"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class SwishFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return SwishFn.apply(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class SwishFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_scripting():
            return x * torch.sigmoid(x)
        return SwishFn.apply(x)
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "apply" and isinstance(func.value, cst.Name)):
            return
        name = func.value.value
        info = self.ctx.module.classes.get(name)
        if info is None or self.ctx.qualname(func.value) != name:
            return
        if any(_is_autograd_function(base) for c in info.mro() for base in c.bases):
            self.report(node, self.message.format(name=name))


def _is_autograd_function(base: str) -> bool:
    return base.startswith("torch.autograd.") and base.rsplit(".", 1)[-1] in ("Function", "InplaceFunction")
