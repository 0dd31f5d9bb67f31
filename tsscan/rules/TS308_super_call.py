import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class SuperCall(Rule):
    """`super().forward(...)` (or any `super()` call) in compiled code.

    What it does:
        Flags `super().method(...)` in code that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript has no `super()`: the call fails with "'Tensor' object has no attribute
        or method 'forward'". Inheriting `forward` unchanged, or overriding helper methods
        that the base `forward` calls, does script.

    Example:
        class Child(Base):
            def forward(self, x):
                return super().forward(x) * 2

    Use instead:
        Move the shared code of `Base.forward` into a helper method with another name
        (`self._base_forward(x)`) and call that from both classes.
    """

    code = "TS308"
    needs = Needs(calls={"super"})
    name = "super-call"
    message = "`super().{method}(...)` is not supported by TorchScript; call a differently named helper method of the base class"
    level = "type"  # the check runs when the call is compiled: dead is_scripting() branches pass

    invalid = [
        Example(
            """
import torch
from torch import nn


class Base(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.relu()


class Child(Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + 1
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Base(nn.Module):
    def _base(self, x: torch.Tensor) -> torch.Tensor:
        return x.relu()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._base(x)


class Child(Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._base(x) + 1
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if not isinstance(f, cst.Attribute):
            return
        recv = f.value
        if (
            isinstance(recv, cst.Call)
            and isinstance(recv.func, cst.Name)
            and recv.func.value == "super"
            and self.ctx.qualname(recv.func) == "super"
            and self.ctx.cls is not None
        ):
            self.report(f, self.message.format(method=f.attr.value))
