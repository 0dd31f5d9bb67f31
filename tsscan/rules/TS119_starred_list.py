import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule

_SIZE_METHODS = {"view", "reshape", "permute", "new_zeros", "new_ones", "new_empty", "repeat", "expand"}
_SIZE_FACTORIES = {"zeros", "ones", "empty", "rand", "randn"}


class StarredList(Rule):
    """Unpacking a list with `*` (`x.view(*shape)`, `torch.zeros(*sizes)`, `[*a, *b]`).

    What it does:
        Flags `*` unpacking, in calls and in list/tuple displays, of values known to be
        lists in code that `torch.jit.script` compiles: `List[...]` parameters and locals,
        list displays, `x.shape`, `x.size()`, their slices, `list(...)` of them, repeated lists
        (`[1] * x.dim()`) and sums with a list (`[B] + self.size + [C]`). Unpacking a *tuple*
        (`f(*pair)` with `pair = (1, 2)`) compiles and is not flagged.

    Why is this bad:
        TorchScript must know the number of arguments at compile time, and a list's length
        is a run-time value: "cannot statically infer the expected size of a list in this
        context".

    Example:
        y = x.view(*shape)
        z = torch.zeros(*x.shape[:2])

    Use instead:
        Pass the list itself where the operator takes a size list (`x.view(shape)`,
        `torch.zeros(x.shape[:2])`, `x.permute(dims)`, `x.repeat(sizes)`), build the full
        list with `+` (`x.view([-1] + x.shape[1:])`), or index the elements you need.

    Fix:
        When the starred list is the only positional argument of a Tensor `view`,
        `reshape`, `permute`, `repeat`, `expand`, `new_zeros`/`new_ones`/`new_empty` or of
        `torch.zeros`/`ones`/`empty`/`rand`/`randn`, the `*` is dropped. UNSAFE: the same
        result for every non-empty list, but with an empty list eager raises (`x.view()`)
        while `x.view([])` returns a 0-dim view; SAFE when the list is a display with an
        element or a sum with one (`*([B] + size + [C])`), which is never empty. When the call also has plain sizes
        (`x.view(*x.shape[:-1], 2, -1)`), all of them become one list,
        `x.view(list(x.shape[:-1]) + [2, -1])` (`list(...)` because eager `torch.Size + list`
        raises): SAFE, that list is never empty.
    """

    code = "TS119"
    needs = Needs(nodes={"Starred"})
    name = "starred-list"
    message = "`*` on a list is not supported by TorchScript (its length is not static); pass the list itself"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class SplitHeads(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(*x.shape[:-1], 2, x.shape[-1] // 2)
""",
            fixed="""
import torch
from torch import nn


class SplitHeads(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(list(x.shape[:-1]) + [2, x.shape[-1] // 2])
""",
            inputs="[(torch.randn(2, 3, 8),), (torch.tensor([[1.0, float('nan')]]),)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch
from torch import nn


class Reshape(nn.Module):
    def forward(self, x: torch.Tensor, shape: List[int]) -> torch.Tensor:
        return x.view(*shape) + torch.zeros(*shape, dtype=x.dtype)
""",
            fixed="""
from typing import List

import torch
from torch import nn


class Reshape(nn.Module):
    def forward(self, x: torch.Tensor, shape: List[int]) -> torch.Tensor:
        return x.view(shape) + torch.zeros(shape, dtype=x.dtype)
""",
            inputs="[(torch.arange(6.0), [2, 3]), (torch.tensor([1, -2, 3, 4]), [-1, 2]), (torch.zeros(0), [0, 5])]",
            fix=UNSAFE,
        ),
        Example(
            """
from typing import List

import torch
from torch import nn


class Unroll(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.size = [2, 2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, C = x.shape
        cur_size = self.size
        return x.view(*([B] + cur_size + [C]))
""",
            fixed="""
from typing import List

import torch
from torch import nn


class Unroll(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.size = [2, 2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, C = x.shape
        cur_size = self.size
        return x.view([B] + cur_size + [C])
""",
            inputs="[(torch.randn(2, 4, 3),), (torch.zeros(1, 4, 5),), (torch.ones(2, 3, 3),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Broadcast(nn.Module):
    def forward(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[1] = b.shape[0]
        size = list(x.shape)
        return x.new_zeros(*size) + b.reshape(*shape)
""",
            fixed="""
import torch
from torch import nn


class Broadcast(nn.Module):
    def forward(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[1] = b.shape[0]
        size = list(x.shape)
        return x.new_zeros(size) + b.reshape(shape)
""",
            inputs="[(torch.randn(2, 3, 4), torch.randn(3)), (torch.zeros(1, 2), torch.ones(2))]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def flat_rows(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, *x.shape[2:])
""",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch


@torch.jit.script
def joined(a: List[int], b: List[int]) -> List[int]:
    return [*a, *b]
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List, Tuple

import torch
from torch import nn


def area(h: int, w: int) -> int:
    return h * w


class Reshape(nn.Module):
    def forward(self, x: torch.Tensor, shape: List[int], hw: Tuple[int, int]) -> torch.Tensor:
        y = x.view(shape).reshape([-1] + x.shape[2:])
        return y * area(*hw)
"""
        ),
    ]

    def on_function(self) -> None:
        self._in_target = 0

    def _type(self, e: cst.BaseExpression) -> str | None:
        """The type of ``e`` as the compiler sees the function (unannotated parameters are Tensors)."""
        return self.ctx.types.type_at(e)

    def _is_list(self, e: cst.BaseExpression) -> bool:
        if isinstance(e, (cst.List, cst.ListComp)):
            return True
        t = self._type(e)
        if t is not None:
            return t.startswith("List[")
        if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, cst.Add):
            # `[B] + size + [C]`: in TorchScript `+` with a list operand concatenates lists
            # (an operand of another type does not compile), so the sum is a list whenever
            # one side is one and the other side's type is unknown
            sides = (e.left, e.right)
            for side in sides:
                st = self._type(side)
                if st is not None and not st.startswith("List["):
                    return False
            return any(self._is_list(side) for side in sides)
        return False

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            if arg.star == "*" and self._is_list(arg.value):
                self.report(arg, fix=self._fix(node, arg))

    def _fix(self, call: cst.Call, arg: cst.Arg):
        positional = [a for a in call.args if a.keyword is None]
        if positional != [arg]:
            return self._joined(call, positional)
        func = call.func
        ok = False
        if isinstance(func, cst.Attribute) and func.attr.value in _SIZE_METHODS:
            ok = self._type(func.value) == "Tensor"
        else:
            qual = self.ctx.qualname(func)
            ok = (
                qual is not None
                and qual.startswith("torch.")
                and qual.rsplit(".", 1)[-1] in _SIZE_FACTORIES
                and qual.count(".") == 1
            )
        if not ok:
            return None
        value = arg.value
        if isinstance(value, (cst.BinaryOperation, cst.List, cst.Name, cst.Attribute)) and value.lpar:
            value = value.with_changes(lpar=[], rpar=[])  # `*([B] + size)` -> `[B] + size`
        new_arg = arg.with_changes(star="", whitespace_after_star=cst.SimpleWhitespace(""), value=value)
        if _nonempty(arg.value):
            return Fix(replacements=[(arg, new_arg)], safety=SAFE, description="pass the list itself (never empty)")
        return Fix(
            replacements=[(arg, new_arg)],
            safety=UNSAFE,
            description="pass the list itself (UNSAFE: for an empty list eager raises, the new call does not)",
        )

    def _joined(self, call: cst.Call, positional: list[cst.Arg]):
        """``x.view(*x.shape, 2, 2)`` -> ``x.view(list(x.shape) + [2, 2])``: the positional
        arguments become one list (a starred list through ``list(...)``, since eager
        ``torch.Size + list`` raises; the others as list displays). SAFE: the list holds at
        least one plain argument, so it is never empty, and each element is the same."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _SIZE_METHODS):
            return None
        if self._type(func.value) != "Tensor" or positional != list(call.args[: len(positional)]):
            return None
        if any(a.star == "**" or (a.star == "*" and not self._is_list(a.value)) for a in positional):
            return None
        parts: list[cst.BaseExpression] = []
        run: list[cst.BaseExpression] = []
        for a in positional:
            if a.star == "*":
                if run:
                    parts.append(cst.List([cst.Element(e) for e in run]))
                    run = []
                v = a.value
                parts.append(v if isinstance(v, cst.List) else cst.Call(cst.Name("list"), [cst.Arg(v)]))
            else:
                run.append(a.value)
        if run:
            parts.append(cst.List([cst.Element(e) for e in run]))
        joined = parts[0]
        for part in parts[1:]:
            joined = cst.BinaryOperation(joined, cst.Add(), part)
        new_args = [cst.Arg(joined), *call.args[len(positional) :]]
        return Fix(
            replacements=[(call, call.with_changes(args=new_args))],
            safety=SAFE,
            description="pass one list: the starred list joined with the other sizes",
        )

    def visit_StarredElement(self, node: cst.StarredElement) -> None:
        # in list/tuple displays only (assignment targets are TS128's)
        if self._in_target:
            return
        if self._is_list(node.value):
            self.report(node)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._in_target += 1

    def leave_AssignTarget(self, original_node: cst.AssignTarget) -> None:
        self._in_target -= 1


def _nonempty(e: cst.BaseExpression) -> bool:
    """A list display with a plain element, or a sum with one: the list is never empty."""
    if isinstance(e, cst.List):
        return any(isinstance(el, cst.Element) for el in e.elements)
    if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, cst.Add):
        return _nonempty(e.left) or _nonempty(e.right)
    return False
