import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.callees import operator_overloads
from tsscan.semantic.types import in_quiet_arm


class AnyArithmetic(Rule):
    """A value of type `Any` used in arithmetic or passed to a torch operator.

    What it does:
        Flags arithmetic on a parameter or local annotated `typing.Any`, and such a value
        passed to a torch operator or Tensor method (`torch.zeros(n, device=device)`,
        `x.to(v)`) where no overload, from the generated table, takes `Any` there.

    Why is this bad:
        TorchScript lets `Any` values be passed around, but no operator accepts one:
        `x * v` with `v: Any` is "Arguments for call are not valid", and so is
        `torch.zeros(3, device=device)` with `device: Any`.

    Example:
        def scale(x: torch.Tensor, v: Any) -> torch.Tensor:
            return x * v

    Use instead:
        Annotate the real type (`v: float`), or a `Union[...]` refined with `isinstance`.
    """

    code = "TS218"
    name = "any-arithmetic"
    message = "`{name}` is `Any`; TorchScript operators do not accept `Any` values, annotate the real type"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import Any


@torch.jit.script
def scale(x: torch.Tensor, v: Any) -> torch.Tensor:
    return x * v
"""
        ),
        Example(
            """
import torch
from typing import Any


class Grid(torch.nn.Module):
    def forward(self, x: torch.Tensor, device: Any) -> torch.Tensor:
        return x + torch.zeros(3, device=device)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import Any


@torch.jit.script
def scale(x: torch.Tensor, v: float, tag: Any, device: torch.device) -> torch.Tensor:
    return x * v + torch.zeros(3, device=device)
"""
        ),
    ]

    def _is_any(self, node: cst.BaseExpression) -> bool:
        """A name the function declares ``Any``."""
        return isinstance(node, cst.Name) and self.ctx.types.declared.get(node.value) == "Any"

    def visit_Call(self, node: cst.Call) -> None:
        types = self.ctx.types
        passed = [a for a in node.args if self._is_any(a.value)]
        if not passed or any(a.star for a in node.args):
            return
        overloads = operator_overloads(self.ctx, node.func, types.type_of)
        if not overloads:
            return
        args = [types.type_of(a.value) for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: types.type_of(a.value) for a in node.args if a.keyword is not None}
        if any(sig.binds(args, keywords) for sig in overloads) or in_quiet_arm(self.ctx, node):
            return
        for a in passed:
            assert isinstance(a.value, cst.Name)
            self.report(a, self.message.format(name=a.value.value))

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        for side in (node.left, node.right):
            if isinstance(side, cst.Name) and self._is_any(side):
                if not in_quiet_arm(self.ctx, node):
                    self.report(node, self.message.format(name=side.value))
                return

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        for side in (node.target, node.value):
            if isinstance(side, cst.Name) and self._is_any(side):
                if not in_quiet_arm(self.ctx, node):
                    self.report(node, self.message.format(name=side.value))
                return
