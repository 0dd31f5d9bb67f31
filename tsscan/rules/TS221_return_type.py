import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import assignable, split_type_args, unifiable

_SIMPLE = ("int", "float", "bool", "str", "Tensor")
# (annotation, returned) pairs the compiler converts at a return (measured on torch 2.13)
_IMPLICIT = {("int", "Tensor"), ("float", "Tensor"), ("int", "bool"), ("float", "bool")}


def _arity(t: str) -> int:
    if t.startswith("Tuple["):
        parts = split_type_args(t)
        return len(parts) if parts is not None else -1
    return 1


class ReturnType(Rule):
    """Returns of different types (`return 1` here, `return 0.5` there).

    What it does:
        Flags a `return` whose type differs from an earlier return's (in a function without
        return annotation), or from a simple return annotation (`-> float` with
        `return 1`). Returns of `None` are left alone (they make the type Optional).

    Why is this bad:
        TorchScript does not widen types: "Previous return statement returned a value of
        type int but this return statement returns a value of type float", and "Return
        value was annotated as having type float but is actually of type int".

    Example:
        if x.numel() > 2:
            return 1
        return 0.5

    Use instead:
        Return one type on every path (`return 1.0`), with a matching annotation.
    """

    code = "TS221"
    name = "return-type"
    message = "this return gives `{new}` where {where} `{old}`; TorchScript does not convert between them"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def pad_amount(size: int, ratio: float) -> int:
    return round(size * ratio)
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def ratio(x: torch.Tensor):
    if x.numel() > 2:
        return 1
    return 0.5
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def count(x: torch.Tensor) -> float:
    return x.numel()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def ratio(x: torch.Tensor) -> float:
    if x.numel() > 2:
        return 1.0
    return float(x.numel()) / 2
"""
        ),
        Example(
            """
from typing import List

import torch
from torch import nn


class Merge(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.ReLU(), nn.Tanh())

    def forward(self, x: List[torch.Tensor]) -> torch.Tensor:
        # a straight-line rebinding gives the parameter a new type
        x = torch.cat(x, 1)
        x = self.layers(x)
        return x
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        types = self.ctx.types
        ann = types.return_annotation
        if types.has_return_annotation:
            if ann not in _SIMPLE:
                return
            for r in types.returns:
                t = r.type
                if r.node.value is None or t is None or t == "None":
                    continue
                if isinstance(r.node.value, (cst.List, cst.Dict)):
                    continue
                if t != ann and not assignable(ann, t) and (ann, t) not in _IMPLICIT:
                    self.report(r.node, self.message.format(new=t, where="the annotation says", old=ann))
                    return
            return
        first = None
        for r in types.returns:
            t = r.type
            if t is None or t == "None" or "Any" in t:
                continue
            if first is None:
                first = t
            elif _arity(t) == _arity(first) and not unifiable(first, t):
                self.report(r.node, self.message.format(new=t, where="an earlier return gives", old=first))
                return
