import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.truth import none_tested, truth_operands
from tsscan.semantic.types import in_quiet_arm


class OptionalTruthTest(Rule):
    """An `Optional` or `None` value used as a condition (`if opt:`, `n or 0`).

    What it does:
        Flags a value whose type is `Optional[T]` or `NoneType` where the compiler casts it
        to `bool`: the test of `if`, `while`, `assert` or a conditional expression, and the
        operands of `and`, `or` and `not` (`dim_size or 0`). Names compared with `None`
        anywhere in the function are left alone (the compiler may have refined them).

    Why is this bad:
        TorchScript has no truth value for an Optional: "Could not cast value of type
        Optional[bool] to bool". Attributes are never refined, so `if self.opt:` fails even
        after a `None` test.

    Example:
        def forward(self, x, flag: Optional[bool] = None):
            if flag:
                x = x * 2
            return x

    Use instead:
        Test for `None` first: `if flag is not None and flag:`, and
        `dim_size if dim_size is not None else 0`.
    """

    code = "TS233"
    needs = Needs(nodes={"If", "While", "Assert", "BoolOp", "Not", "IfExp"})
    name = "optional-truth-test"
    message = "`{expr}` has type `{type}`, which TorchScript cannot cast to bool; test it against `None` first"
    level = "type"

    invalid = [
        Example(
            """
from typing import Optional

import torch
from torch import nn


class Scale(nn.Module):
    def forward(self, x: torch.Tensor, flag: Optional[bool] = None) -> torch.Tensor:
        if flag:
            x = x * 2
        return x
"""
        ),
        Example(
            """
from typing import Optional

import torch


@torch.jit.script
def count(index: torch.Tensor, dim_size: Optional[int] = None) -> torch.Tensor:
    return torch.bincount(index, minlength=dim_size or 0)
"""
        ),
        Example(
            """
import torch
from torch import nn


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loss = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.loss:
            x = x * 2
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List, Optional

import torch
from torch import nn


class Scale(nn.Module):
    def forward(
        self, x: torch.Tensor, flag: Optional[bool] = None, n: Optional[int] = None, names: List[str] = ()
    ) -> torch.Tensor:
        if flag is not None and flag:
            x = x * 2
        if n is None:
            return x
        if n and names and not x.numel() == 0:
            x = x + n
        return x
"""
        ),
    ]

    def _check(self, stmt: cst.CSTNode, expr: cst.BaseExpression | None, as_test: bool) -> None:
        if expr is None or in_quiet_arm(self.ctx, stmt):
            return
        types = self.ctx.types
        for op in truth_operands(expr, as_test):
            if not isinstance(op, (cst.Name, cst.Attribute)):
                continue
            t = types.type_at(op)
            if t is None or not (t == "None" or t.startswith("Optional[")):
                continue
            # a name tested against None earlier may be refined (attributes never are)
            if isinstance(op, cst.Name) and op.value in none_tested(self.ctx.function_node, stmt):
                continue
            text = cst.Module(body=[]).code_for_node(op)
            self.report(op, self.message.format(expr=text, type="NoneType" if t == "None" else t))

    def visit_If(self, node: cst.If) -> None:
        self._check(node, node.test, True)

    def visit_While(self, node: cst.While) -> None:
        self._check(node, node.test, True)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._check(node, node.test, True)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node, node.value, False)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node, node.value, False)

    def visit_Return(self, node: cst.Return) -> None:
        self._check(node, node.value, False)

    def visit_Expr(self, node: cst.Expr) -> None:
        self._check(node, node.value, False)
