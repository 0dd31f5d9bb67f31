import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import annotation_head, walk_expr


class CallableType(Rule):
    """`Callable` in an annotation (a function passed as a value).

    What it does:
        Flags `Callable[...]` in the annotations of compiled code.

    Why is this bad:
        TorchScript cannot pass functions around as values: "Unknown type constructor
        typing.Callable".

    Example:
        def apply(x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
            return fn(x)

    Use instead:
        Pass an `nn.Module` (a submodule) and call it, or select the function with a string
        or int flag.
    """

    code = "TS219"
    needs = Needs(nodes={"Annotation"})
    name = "callable-type"
    message = "TorchScript cannot take a function as a value (`Callable`); pass a submodule or select the function with a flag"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import Callable


@torch.jit.script
def apply(x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    return fn(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def apply(x: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "relu":
        return torch.relu(x)
    return torch.sigmoid(x)
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for ann, _, _ in self.ctx.annotations:
            for sub in walk_expr(ann):
                if (
                    isinstance(sub, (cst.Subscript, cst.Name, cst.Attribute))
                    and annotation_head(sub, self.ctx) == "Callable"
                ):
                    self.report(sub)
                    break
