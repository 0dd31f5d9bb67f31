import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import walk_expr


class DeleteAttribute(Rule):
    """`del self.attr` (or `del x.attr`) in compiled code.

    What it does:
        Flags a `del` statement that deletes an attribute.

    Why is this bad:
        TorchScript deletes only variables and list or dict items: "del statements are only
        supported for deleting list and dict items and variables". A module's attributes are
        fixed when it is scripted.

    Example:
        def forward(self, x):
            y = x + self.prev_features
            del self.prev_features
            return y

    Use instead:
        Declare the attribute `Optional` in the class and set it to `None`.
    """

    code = "TS316"
    name = "delete-attribute"
    message = (
        "`del` of an attribute; TorchScript deletes only variables and list or dict items (set it to `None` instead)"
    )
    level = "type"

    invalid = [
        Example(
            """
from typing import Optional

import torch
from torch import nn


class Cached(nn.Module):
    prev: Optional[torch.Tensor]

    def __init__(self) -> None:
        super().__init__()
        self.prev = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prev = self.prev
        if prev is not None:
            x = x + prev
        del self.prev
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Dict, List, Optional

import torch
from torch import nn


class Cached(nn.Module):
    prev: Optional[torch.Tensor]

    def __init__(self) -> None:
        super().__init__()
        self.prev = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prev = self.prev
        if prev is not None:
            x = x + prev
        self.prev = None
        items: List[int] = [1, 2]
        table: Dict[str, int] = {"a": 1}
        del items[0], table["a"]
        del prev
        return x
"""
        ),
    ]

    def visit_Del(self, node: cst.Del) -> None:
        for n in walk_expr(node.target):
            if isinstance(n, cst.Attribute) and not any(n is m for m in _inner_attributes(node.target)):
                self.report(n)


def _inner_attributes(target: cst.BaseExpression) -> list[cst.CSTNode]:
    """Attributes inside a deleted item's subscript or inside another attribute (``del a.b.c``
    is one finding, ``del d[x.y]`` deletes an item)."""
    out: list[cst.CSTNode] = []
    for n in walk_expr(target):
        if isinstance(n, cst.Attribute):
            out.extend(m for m in walk_expr(n.value) if isinstance(m, cst.Attribute))
        elif isinstance(n, cst.Subscript):
            out.extend(m for m in walk_expr(n) if isinstance(m, cst.Attribute))
    return out
