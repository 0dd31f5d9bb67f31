import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import SAFE, Example, Fix, Rule
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

    Fix:
        `v.numel()` on a `List[int]` (timm's `FourierEmbed`: `feat_shape = x.shape[2:]`,
        `feat_shape.numel()`) becomes `int(torch.tensor(v, dtype=torch.int64).prod())`. SAFE:
        in eager code `v` is a `torch.Size` (a list has no `numel`), and the product of its
        items as an int64 tensor is the int `numel()` gives (1 for an empty size). It builds
        a small tensor where `numel()` did not.
    """

    code = "TS261"
    needs = HOOKS
    name = "list-method"
    message = "`{t}` has no attribute or method `{attr}` in TorchScript (\"'{t}' object has no attribute or method '{attr}'\")"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape[1:]
        return x.reshape(x.shape[0], shape.numel(), -1)
""",
            fixed="""
import torch
from torch import nn


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape[1:]
        return x.reshape(x.shape[0], int(torch.tensor(shape, dtype=torch.int64).prod()), -1)
""",
            inputs="[(torch.randn(2, 3, 4),), (torch.tensor([[1.0, float('nan')], [-2.0, 0.0]]),), (torch.randn(3),)]",
            fix=SAFE,
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

    def on_function(self) -> None:
        self._calls: dict[int, cst.Call] = {}  # id(attribute) -> the call of it, without arguments

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and not node.args:
            self._calls[id(node.func)] = node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        t = self.ctx.types.type_at(node.value)
        if t is None or not t.startswith("List[") or not t.endswith("]"):
            return
        allowed = LIST_METHODS if _element(t) in ("Tensor", "str") else NUMBER_LIST_METHODS
        if node.attr.value in allowed or in_quiet_arm(self.ctx, node):
            return
        fix = None
        call = self._calls.get(id(node))
        if call is not None and t == "List[int]" and node.attr.value == "numel":
            v = cst.Module(body=[]).code_for_node(node.value)
            product = cst.parse_expression(f"int(torch.tensor({v}, dtype=torch.int64).prod())")
            fix = Fix(
                replacements=[(call, product)],
                imports=["import torch"],
                safety=SAFE,
                description="the product of the sizes, as `numel()` gives it",
            )
        self.report(node, self.message.format(t=t, attr=node.attr.value), fix)
