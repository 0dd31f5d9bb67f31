import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.annotations import annotated_param
from tsscan.semantic.types import param_list


def literal_type(node: cst.BaseExpression) -> str | None:
    """The annotation a literal default implies (None: not a plain literal)."""
    if isinstance(node, cst.Integer):
        return "int"
    if isinstance(node, cst.Float):
        return "float"
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return "bool"
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return "str"
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal_type(node.expression)
        return inner if inner in ("int", "float") else None
    if isinstance(node, cst.Tuple) and node.elements:
        parts = [literal_type(e.value) for e in node.elements]
        known = [p for p in parts if p is not None]
        if len(known) != len(parts) or any(isinstance(e, cst.StarredElement) for e in node.elements):
            return None
        return f"Tuple[{', '.join(known)}]"
    return None


class UntypedDefault(Rule):
    """Parameter without annotation whose default is not a Tensor (`nx=20`).

    What it does:
        Flags parameters of compiled functions that have no annotation and a literal default
        such as `20`, `0.5`, `False`, `"nearest"` or `(3, 3)`.

    Why is this bad:
        TorchScript types every unannotated parameter as `Tensor`; a default does not change
        that. The compiler then rejects the default ("Expected a default value of type Tensor
        (inferred) on parameter 'nx'") or the first non-Tensor use of the parameter
        (`torch.arange(ny)`: "Arguments for call are not valid").

    Example:
        @staticmethod
        def _make_grid(nx=20, ny=20):
            ...

    Use instead:
        @staticmethod
        def _make_grid(nx: int = 20, ny: int = 20):
            ...

    Fix:
        Adds the annotation the default implies (`int`, `float`, `bool`, `str`, or a
        `Tuple[...]` of those). Annotations change nothing when the code runs eagerly, and the
        unannotated version never compiled, so no working behaviour can change.
    """

    code = "TS210"
    needs = Needs(nodes={"Default"})
    name = "untyped-default"
    message = "parameter `{name}` has no annotation, so TorchScript types it as Tensor although its default is {kind}; annotate it `{name}: {kind}`"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Grid(nn.Module):
    @staticmethod
    def make_grid(nx=4, ny=3):
        yv, xv = torch.meshgrid(torch.arange(ny), torch.arange(nx), indexing="ij")
        return torch.stack((xv, yv), 2).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.make_grid(2, 2).sum()
""",
            fixed="""
import torch
from torch import nn


class Grid(nn.Module):
    @staticmethod
    def make_grid(nx: int = 4, ny: int = 3):
        yv, xv = torch.meshgrid(torch.arange(ny), torch.arange(nx), indexing="ij")
        return torch.stack((xv, yv), 2).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.make_grid(2, 2).sum()
""",
            inputs="[(torch.randn(3),), (torch.zeros(0),), (torch.tensor([float('nan'), -1.0]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def scale(x: torch.Tensor, r=0.5, flip=False, size=(2, 3)) -> torch.Tensor:
    if flip:
        x = -x
    return x * r + size[0]
""",
            fixed="""
import torch
from typing import Tuple


@torch.jit.script
def scale(x: torch.Tensor, r: float = 0.5, flip: bool = False, size: Tuple[int, int] = (2, 3)) -> torch.Tensor:
    if flip:
        x = -x
    return x * r + size[0]
""",
            inputs="[(torch.randn(3),), (torch.tensor([1, -2]), 2.0, True), (torch.zeros(0),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import Optional


@torch.jit.script
def scale(x: torch.Tensor, r: float = 0.5, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    if bias is not None:
        x = x + bias
    return x * r
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        self_name = self.ctx.self_name
        for k, p in enumerate(param_list(node)):
            if k == 0 and self_name is not None and p.name.value == self_name:
                continue
            if p.annotation is not None or p.default is None:
                continue
            kind = literal_type(p.default)
            if kind is None:
                continue
            new = annotated_param(p, kind)
            imports = ["from typing import Tuple"] if kind.startswith("Tuple[") else []
            self.report(
                p,
                self.message.format(name=p.name.value, kind=kind),
                Fix(replacements=[(p, new)], imports=imports, description=f"annotate `{p.name.value}: {kind}`"),
            )
