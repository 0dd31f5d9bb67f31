import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class RoundReturnsFloat(Rule):
    """`round(v)` on a Python number returns a float once scripted.

    What it does:
        Flags one-argument `round(v)` where `v` is an `int` or `float`.

    Why is this bad:
        In Python `round(2.6)` is the int `3`; in TorchScript it is the float `3.0`. The
        difference shows when the value is used as an index, a size, printed or compared
        by type.

    Example:
        n = round(v)

    Use instead:
        n = int(round(v))
    """

    code = "TS603"
    needs = Needs(calls={"round"})
    name = "round-returns-float"
    message = "`round()` returns a float in TorchScript (an int in Python); write `int(round(...))` if an int is meant"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def steps(v: float):
    return round(v)
""",
            inputs="[(2.6,), (-1.2,)]",
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def steps(v: float, x: torch.Tensor) -> int:
    return int(round(v)) + int(round(x).sum()) + int(round(v * 10) / 10)
"""
        ),
    ]

    def on_function(self) -> None:
        self._wrapped: set[int] = set()

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.Divide):  # a float either way
            self._wrapped.update((id(node.left), id(node.right)))

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value in ("int", "float") and len(node.args) == 1:
            self._wrapped.add(id(node.args[0].value))
        if id(node) in self._wrapped:
            return
        if not (isinstance(node.func, cst.Name) and node.func.value == "round" and len(node.args) == 1):
            return
        if "round" in self.ctx.types.params:
            return
        if self.ctx.types.type_of(node.args[0].value) in ("int", "float"):
            if not in_quiet_arm(self.ctx, node):
                self.report(node)
