import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class AnyArithmetic(Rule):
    """A value of type `Any` used in arithmetic.

    What it does:
        Flags arithmetic on a parameter or local annotated `typing.Any`.

    Why is this bad:
        TorchScript lets `Any` values be passed around, but no operator accepts one:
        `x * v` with `v: Any` is "Arguments for call are not valid".

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
    ]
    valid = [
        Example(
            """
import torch
from typing import Any


@torch.jit.script
def scale(x: torch.Tensor, v: float, tag: Any) -> torch.Tensor:
    return x * v
"""
        ),
    ]

    def on_function(self) -> None:
        self._any: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is self.ctx.node:
            types = self.ctx.types
            self._any = {n for n, t in types.declared.items() if t == "Any"}

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        for side in (node.left, node.right):
            if isinstance(side, cst.Name) and side.value in self._any:
                if not in_quiet_arm(self.ctx, node):
                    self.report(node, self.message.format(name=side.value))
                return

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        for side in (node.target, node.value):
            if isinstance(side, cst.Name) and side.value in self._any:
                if not in_quiet_arm(self.ctx, node):
                    self.report(node, self.message.format(name=side.value))
                return
