from typing import TypeGuard

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.function_types import ANNOTATED
from tsscan.semantic.receivers import SEQUENCE
from tsscan.walk import walk


def _pure(node: cst.BaseExpression) -> bool:
    """Side-effect free and cheap: names, attributes, int literals, arithmetic, len()."""
    if isinstance(node, (cst.Name, cst.Integer)):
        return True
    if isinstance(node, cst.Attribute):
        return _pure(node.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _pure(node.expression)
    if isinstance(node, cst.BinaryOperation) and isinstance(
        node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide)
    ):
        return _pure(node.left) and _pure(node.right)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len":
        return len(node.args) == 1 and _pure(node.args[0].value)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("size", "dim", "numel")
    ):
        return _pure(node.func.value) and all(a.keyword is None and _pure(a.value) for a in node.args)
    return False


def _minus_one(node: cst.BaseExpression) -> str:
    code = cst.Module(body=[]).code_for_node(node)
    if isinstance(node, cst.Integer):
        return str(int(node.value, 0) - 1)
    if isinstance(node, cst.BinaryOperation) and not isinstance(node.operator, (cst.Add, cst.Subtract)):
        return f"{code} - 1"
    if isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.BinaryOperation)):
        return f"{code} - 1"
    return f"({code}) - 1"


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def _names_in(node: cst.CSTNode) -> set[str]:
    v = _Names()
    walk(node, v)
    return v.names


class ReversedSequence(Rule):
    """`reversed(...)` over a list, tuple, string, range or module container.

    What it does:
        Flags `reversed(xs)` where `xs` is known not to be a Tensor: a parameter or local
        annotated `List`/`Tuple`/`str`, a list display, `range(...)`, an `nn.ModuleList`.
        `reversed(tensor)` scripts and is left alone.

    Why is this bad:
        TorchScript does not implement `reversed`; it treats it as an unknown class whose
        constructor takes a Tensor: "reversed(Tensor 0) -> Tensor 0 ... Expected a value of
        type 'Tensor' for argument '0' but instead found type 'List[int]'" (for `range`:
        "range cannot be used as a value").

    Example:
        for v in reversed(xs):
            out.append(v)

    Use instead:
        for i in range(len(xs) - 1, -1, -1):
            v = xs[i]
            out.append(v)

    Fix:
        In a `for` loop: `reversed(range(a))` becomes `range(a - 1, -1, -1)` and
        `reversed(range(a, b))` becomes `range(b - 1, a - 1, -1)` (the same integers);
        `for v in reversed(xs)` over a `List`/`str` name that the loop body does not mention
        becomes an index loop that assigns `v = xs[i]` first. Tuples and module containers
        cannot be indexed with a variable in TorchScript and get no fix.
    """

    code = "TS501"
    needs = Needs(calls={"reversed"})
    name = "reversed-sequence"
    message = "`reversed()` of a list/tuple/str/range is not supported by TorchScript; loop over indices backwards"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def backwards(xs: List[int]) -> List[int]:
    out: List[int] = []
    for v in reversed(xs):
        out.append(v * 2)
    return out
""",
            fixed="""
import torch
from typing import List


@torch.jit.script
def backwards(xs: List[int]) -> List[int]:
    out: List[int] = []
    for i in range(len(xs) - 1, -1, -1):
        v = xs[i]
        out.append(v * 2)
    return out
""",
            inputs="[([1, -2, 3],), ([],), ([0],)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn
from typing import List


class Countdown(nn.Module):
    def forward(self, x: torch.Tensor, start: int, stop: int) -> List[int]:
        out: List[int] = []
        for i in reversed(range(start, stop)):
            out.append(i)
        for j in reversed(range(x.size(0))):
            out.append(j)
        return out
""",
            fixed="""
import torch
from torch import nn
from typing import List


class Countdown(nn.Module):
    def forward(self, x: torch.Tensor, start: int, stop: int) -> List[int]:
        out: List[int] = []
        for i in range(stop - 1, start - 1, -1):
            out.append(i)
        for j in range(x.size(0) - 1, -1, -1):
            out.append(j)
        return out
""",
            inputs="[(torch.zeros(3), 0, 4), (torch.zeros(0), 5, 2), (torch.zeros(1), -3, 1), (torch.zeros(2), 2, 2)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            x = layer(x)
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def backwards(x: torch.Tensor, xs: List[int]) -> List[torch.Tensor]:
    out: List[torch.Tensor] = []
    for row in reversed(x):
        out.append(row)
    for i in range(len(xs) - 1, -1, -1):
        out.append(x[xs[i]])
    return out
"""
        ),
    ]

    def on_function(self) -> None:
        self._fixed: set[int] = set()

    def visit_For(self, node: cst.For) -> None:
        it = node.iter
        if not self._is_reversed(it) or node.orelse is not None:
            return
        arg = it.args[0].value
        fix = self._range_fix(node, it, arg) or self._index_fix(node, arg)
        if fix is not None:
            self._fixed.add(id(it))
            self.report(it, fix=fix)

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self._fixed or not self._is_reversed(node):
            return
        if self.ctx.kinds.kind(node.args[0].value) == SEQUENCE:
            self.report(node)

    def _is_reversed(self, node: cst.BaseExpression) -> TypeGuard[cst.Call]:
        return (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "reversed"
            and not self.ctx.is_shadowed("reversed")
            and len(node.args) == 1
            and node.args[0].keyword is None
            and node.args[0].star == ""
        )

    def _range_fix(self, loop: cst.For, it: cst.Call, arg: cst.BaseExpression) -> Fix | None:
        if not (
            isinstance(arg, cst.Call)
            and isinstance(arg.func, cst.Name)
            and arg.func.value == "range"
            and not self.ctx.is_shadowed("range")
            and 1 <= len(arg.args) <= 2
            and all(a.keyword is None and a.star == "" and _pure(a.value) for a in arg.args)
        ):
            return None
        if len(arg.args) == 1:
            text = f"range({_minus_one(arg.args[0].value)}, -1, -1)"
        else:
            start, stop = arg.args[0].value, arg.args[1].value
            text = f"range({_minus_one(stop)}, {_minus_one(start)}, -1)"
        return Fix(replacements=[(it, cst.parse_expression(text))], description="count down with range(..., -1)")

    def _index_fix(self, loop: cst.For, arg: cst.BaseExpression) -> Fix | None:
        if not isinstance(arg, cst.Name) or not self._indexable(arg.value):
            return None
        if any(self.ctx.is_shadowed(b) for b in ("len", "range")):
            return None
        if not isinstance(loop.body, cst.IndentedBlock):
            return None
        if arg.value in _names_in(loop.body) or arg.value in _names_in(loop.target):
            return None
        used = _names_in(self.ctx.function_node) | set(self.ctx.module.globals) | set(self.ctx.module.aliases)
        index = next(n for n in ("i", "idx", "_i", "i_", "_idx", "i0", "i1", "i2") if n not in used)
        target = cst.Module(body=[]).code_for_node(loop.target)
        assign = cst.parse_statement(f"{target} = {arg.value}[{index}]\n")
        new = loop.with_changes(
            target=cst.Name(index),
            iter=cst.parse_expression(f"range(len({arg.value}) - 1, -1, -1)"),
            body=loop.body.with_changes(body=[assign, *loop.body.body]),
        )
        return Fix(replacements=[(loop, new)], description="loop over indices backwards")

    def _indexable(self, name: str) -> bool:
        """A List or str name: indexable with a variable in TorchScript."""
        b = self.ctx.bindings
        ann = None
        if name in b.annotated:
            ann = self._annotation_of_local(name)
        elif name in b.params and name not in b.assigned:
            ann = self._annotation_of_param(name)
        if ann is None:
            return False
        base = ann.value if isinstance(ann, cst.Subscript) else ann
        resolved = self.ctx.qualname(base) or ""
        return resolved.rsplit(".", 1)[-1] in ("List", "list", "str")

    def _annotation_of_param(self, name: str) -> cst.BaseExpression | None:
        ps = self.ctx.function_node.params
        for p in [*ps.posonly_params, *ps.params, *ps.kwonly_params]:
            if p.name.value == name and p.annotation is not None:
                return p.annotation.annotation
        return None

    def _annotation_of_local(self, name: str) -> cst.BaseExpression | None:
        """The annotation of a local annotated once and never assigned otherwise."""
        b = self.ctx.bindings
        found = [site.annotation for site in b.sites if site.form == ANNOTATED and site.name == name]
        return found[0] if len(found) == 1 and name not in b.assigned else None
