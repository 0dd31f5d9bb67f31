import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm

# the methods a TorchScript list has (measured with torch 2.13 on List[int], List[float],
# List[str] and List[Tensor]); `sum` compiles on lists of numbers only
LIST_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "index", "count", "reverse", "sort", "copy"}
)
NUMBER_LIST_METHODS = LIST_METHODS | {"sum"}


def _element(t: str) -> str:
    return t[len("List[") : -1]


class ListMethod(Rule):
    """A Tensor method or attribute used on a list (`x.shape.numel()`, `sizes.max()`).

    What it does:
        Flags `v.name` in compiled code where the model types `v` a `List[...]` there (a
        `.shape`, a `List[int]` parameter, a list display, `x.tolist()`...) and `name` is not
        one of the methods a TorchScript list has: `append`, `extend`, `insert`, `pop`,
        `remove`, `clear`, `index`, `count`, `reverse`, `sort`, `copy`, and `sum` on a list
        of numbers. The table was measured with the compiler on lists of int, float, str and
        Tensor.

    Why is this bad:
        In Python `x.shape` is a `torch.Size`, a tuple with tensor-like methods (`numel()`),
        and a list of tensors can be summed. TorchScript types `x.shape` `List[int]`, and a
        list has only the list methods: "'List[int]' object has no attribute or method
        'numel'".

    Example:
        shape = x.shape
        return x.reshape(shape.numel(), -1)

    Use instead:
        Compute it from the tensor (`x.numel()`), or with a loop or a builtin over the list
        (`max(sizes)`, `len(shape)`).
    """

    code = "TS261"
    name = "list-method"
    message = "`{t}` has no attribute or method `{attr}` in TorchScript (\"'{t}' object has no attribute or method '{attr}'\")"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        return x.reshape(shape.numel(), -1)
"""
        ),
        Example(
            """
import torch
from typing import List


@torch.jit.script
def largest(sizes: List[int]) -> int:
    return sizes.max()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def grow(x: torch.Tensor, given: List[int]) -> int:
    shape = x.shape
    sizes = given.copy()
    sizes.append(shape[0])
    sizes.sort()
    return sizes.sum() + len(shape) + sizes.index(shape[0]) + x.numel()
"""
        ),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        t = self.ctx.types.type_at(node.value)
        if t is None or not t.startswith("List[") or not t.endswith("]"):
            return
        allowed = LIST_METHODS if _element(t) in ("Tensor", "str") else NUMBER_LIST_METHODS
        if node.attr.value in allowed or in_quiet_arm(self.ctx, node):
            return
        self.report(node, self.message.format(t=t, attr=node.attr.value))
