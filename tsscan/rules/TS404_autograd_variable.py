import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule

_VARIABLE = ("torch.autograd.Variable", "torch.autograd.variable.Variable")


class AutogradVariable(Rule):
    """`torch.autograd.Variable(x)` in compiled code.

    What it does:
        Flags calls of the deprecated `Variable` wrapper.

    Why is this bad:
        TorchScript cannot construct it: "Class Variable does not have an __init__ function
        defined". Since torch 0.4 every Tensor is a Variable; the wrapper only detaches.

    Example:
        v = Variable(x)

    Use instead:
        v = x            # or x.detach() if the gradient must not flow

    Fix:
        `Variable(x)` becomes `x.detach()` and `Variable(x, requires_grad=flag)` becomes
        `x.detach().requires_grad_(flag)`: `Variable(x)` returns a new tensor sharing `x`'s
        data with no gradient history, which is exactly `x.detach()`. Where gradients never
        flow (inference), `.detach()` can then be deleted by hand.
    """

    code = "TS404"
    needs = Needs(calls={"Variable"})
    name = "autograd-variable"
    message = "`Variable(...)` is not supported by TorchScript; every Tensor is a Variable"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch.autograd import Variable


@torch.jit.script
def double(x: torch.Tensor) -> torch.Tensor:
    v = Variable(x)
    return v * 2
""",
            fixed="""
import torch
from torch.autograd import Variable


@torch.jit.script
def double(x: torch.Tensor) -> torch.Tensor:
    v = x.detach()
    return v * 2
""",
            inputs="[(torch.tensor([-1.5, float('nan'), 0.0]),), (torch.zeros(0),), (torch.tensor([1, -2]),), (torch.ones(2, requires_grad=True) * 3,)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Weights(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.autograd.Variable(x * 2, requires_grad=True)
""",
            fixed="""
import torch
from torch import nn


class Weights(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 2).detach().requires_grad_(True)
""",
            inputs="[(torch.tensor([-1.5, float('nan'), 0.0]),), (torch.zeros(0),), (torch.tensor([1, -2]),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def double(x: torch.Tensor) -> torch.Tensor:
    return x.detach() * 2
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualname(node.func) not in _VARIABLE:
            return
        fix = None
        args = node.args
        pos = [a for a in args if a.keyword is None]
        kws = {a.keyword.value: a for a in args if a.keyword is not None}
        if len(pos) == 1 and pos[0].star == "" and args[0] is pos[0] and set(kws) <= {"requires_grad"}:
            value = pos[0].value
            if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
                value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            new: cst.BaseExpression = cst.Call(func=cst.Attribute(value=value, attr=cst.Name("detach")))
            if "requires_grad" in kws:
                new = cst.Call(
                    func=cst.Attribute(value=new, attr=cst.Name("requires_grad_")),
                    args=[cst.Arg(kws["requires_grad"].value)],
                )
            fix = Fix(replacements=[(node, new)], description="use x.detach()")
        self.report(node, fix=fix)
