import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.walk import statements


def _exits(fn: cst.FunctionDef) -> bool:
    """The body has a ``return`` or ``raise`` of its own (nested functions and lambdas aside)."""
    # return and raise are statements: never inside an expression
    nested = {
        id(n) for d in statements(fn.body) if isinstance(d, (cst.FunctionDef, cst.ClassDef)) for n in statements(d)
    }
    return any(isinstance(n, (cst.Return, cst.Raise)) and id(n) not in nested for n in statements(fn.body))


class MissingReturn(Rule):
    """A function annotated to return a value whose body never returns (only a docstring or `pass`).

    What it does:
        Flags a compiled function with a return annotation other than `None` whose body
        has no `return` and no `raise`: an abstract-looking `forward` with only a docstring,
        `pass` or `...`, or a body that only loops.

    Why is this bad:
        Python returns `None`; TorchScript checks the annotation: "Function was not
        annotated as having type None, but does not return along all paths" (with `...`:
        "Cannot emit expr for: (dots)"). A base class's `forward` is compiled when a
        subclass does not override it, or when the base class itself is scripted.

    Example:
        class Aggregation(nn.Module):
            def forward(self, x: Tensor) -> Tensor:
                \"\"\"Aggregate x.\"\"\"

    Use instead:
        Raise in the body (`raise NotImplementedError`), which TorchScript accepts, or
        return a value.
    """

    code = "TS232"
    needs = Needs(nodes={"Annotation"})
    name = "missing-return"
    message = "`{name}` is annotated `-> {ann}` but its body never returns; TorchScript wants a return (or a `raise`) on every path"
    level = "type"

    invalid = [
        Example(
            '''
import torch
from torch import nn


class Aggregation(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Aggregate x."""
'''
        ),
        Example(
            """
from typing import List, Tuple

import torch


@torch.jit.script
def extra_blocks(results: List[torch.Tensor], names: List[str]) -> Tuple[List[torch.Tensor], List[str]]:
    pass
"""
        ),
    ]
    valid = [
        Example(
            '''
import torch
from torch import nn


class Aggregation(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Aggregate x."""
        raise NotImplementedError("subclasses aggregate")


class Sum(nn.Module):
    def reset(self) -> None:
        """Nothing to reset."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.reset()
        return x.sum(0)
'''
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node or node.returns is None or not self.ctx.function.body_compiled:
            return
        ann = node.returns.annotation
        if isinstance(ann, cst.Name) and ann.value == "None" or self.ctx.types.return_annotation == "None":
            return
        if isinstance(ann, (cst.SimpleString, cst.ConcatenatedString)):
            return  # a string annotation: another finding if it is not a type
        if not _exits(node):
            text = cst.Module(body=[]).code_for_node(ann)
            self.report(node, self.message.format(name=node.name.value, ann=text))
