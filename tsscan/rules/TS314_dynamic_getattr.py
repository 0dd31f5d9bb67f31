import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class DynamicGetattr(Rule):
    """`getattr(obj, name)` / `hasattr(obj, name)` with a name that is not a string literal.

    What it does:
        Flags `getattr` and `hasattr` calls in compiled code whose second argument is not a
        string literal.

    Why is this bad:
        TorchScript resolves attributes when it compiles, so it needs the name then:
        "getattr's second argument must be a string literal" (and the same for `hasattr`).

    Example:
        return x * getattr(self, name)

    Use instead:
        if name == "a":
            return x * self.a
        return x * self.b
    """

    code = "TS314"
    needs = Needs(calls={"getattr", "hasattr"})
    name = "dynamic-getattr"
    message = "{fn}() needs a string literal name in TorchScript; branch on the name and read each attribute directly"
    level = "type"  # the check runs when the call is compiled: dead is_scripting() branches pass

    invalid = [
        Example(
            """
import torch
from torch import nn


class Pick(nn.Module):
    def __init__(self):
        super().__init__()
        self.low = 0.5
        self.high = 2.0

    def forward(self, x: torch.Tensor, which: str) -> torch.Tensor:
        return x * getattr(self, which)
"""
        ),
        Example(
            """
import torch
from torch import nn


class Maybe(nn.Module):
    def __init__(self):
        super().__init__()
        self.low = 0.5

    def forward(self, x: torch.Tensor, which: str) -> torch.Tensor:
        if hasattr(self, which):
            return x * 2
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Pick(nn.Module):
    def __init__(self):
        super().__init__()
        self.low = 0.5
        self.high = 2.0

    def forward(self, x: torch.Tensor, which: str) -> torch.Tensor:
        if which == "low" and hasattr(self, "low"):
            return x * getattr(self, "low")
        return x * self.high
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value in ("getattr", "hasattr")):
            return
        fn = node.func.value
        if self.ctx.qualname(node.func) != fn or len(node.args) < 2:
            return
        name = node.args[1].value
        if isinstance(name, cst.SimpleString) or (
            isinstance(name, cst.ConcatenatedString) and "{" not in cst.Module([]).code_for_node(name)
        ):
            return
        self.report(node, self.message.format(fn=fn))
