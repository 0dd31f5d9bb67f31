import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.types import assignable, split_type_args, unifiable
from tsscan.walk import children

_SIMPLE = ("int", "float", "bool", "str", "Tensor")
# (annotation, returned) pairs the compiler converts at a return (measured on torch 2.13)
_IMPLICIT = {("int", "Tensor"), ("float", "Tensor"), ("int", "bool"), ("float", "bool")}


def _shape(t: str | None) -> tuple[str, int] | None:
    """What a return annotation or a returned type is, as far as the compiler never converts
    between them: ("simple", 1) for Tensor/int/float/bool/str, ("tuple", n) for a tuple of n
    elements (-1: of unknown length), ("list", 0); None for anything else (Optional, Union, Any)."""
    if t is None:
        return None
    if t in _SIMPLE:
        return ("simple", 1)
    if t.startswith("Tuple["):
        parts = split_type_args(t)
        return ("tuple", -1 if parts is None or "..." in parts else len(parts))
    if t.startswith("List["):
        return ("list", 0)
    return None


def _shape_mismatch(ann: str | None, ret: cst.Return, t: str | None) -> bool:
    """The annotation and the returned value differ in kind (a Tensor where a tuple or list is
    annotated, a tuple where a Tensor is) or in tuple length. A tuple returned where a list is
    annotated is converted (measured on torch 2.13), so that pair is never reported."""
    if ann is not None and ann.startswith("Optional[") and ann.endswith("]"):
        inner = ann[len("Optional[") : -1]
        if not inner.startswith("Tuple["):
            return False
        ann = inner  # Optional[Tuple[...]]: the tuple's length still counts
        if t in _SIMPLE:
            return False
    want = _shape(ann)
    value = ret.value
    if isinstance(value, cst.Tuple) and not any(isinstance(e, cst.StarredElement) for e in value.elements):
        got: tuple[str, int] | None = ("tuple", len(value.elements))
    elif isinstance(value, (cst.List, cst.Dict, cst.ListComp, cst.DictComp)):
        return False
    else:
        got = _shape(t)
    if want is None or got is None:
        return False
    if {want[0], got[0]} == {"tuple", "list"}:
        return False
    if want[0] != got[0]:
        return True
    return want[0] == "tuple" and -1 not in (want[1], got[1]) and want[1] != got[1]


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
        `return 1`), or whose kind or length differs from the return annotation (a Tensor
        returned where `-> List[Tensor]` or a tuple is annotated, a tuple of 3 where
        `-> Tuple[Tensor, Tensor]` is, a tuple where `-> Tensor` is). Returns of `None` are
        left alone (they make the type Optional), and so is a tuple returned where a list
        is annotated (the compiler converts it).

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

    Fix:
        A parameter without annotation (a Tensor to the compiler) returned where the return
        annotation is a list or a tuple, directly or after `x = module(x)` steps in a loop (timm's
        `SequentialList`: `for module in self: x = module(x)`, then `return x` with
        `-> List[torch.Tensor]`), is annotated with the return annotation. SAFE: a parameter
        annotation does not change what eager code does.
    """

    code = "TS221"
    needs = Needs(nodes={"Annotation", "MultipleReturns"})
    name = "return-type"
    message = "this return gives `{new}` where {where} `{old}`; TorchScript does not convert between them"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import List

import torch
from torch import nn


class Stem(nn.Module):
    def forward(self, x) -> List[torch.Tensor]:
        # an unannotated parameter is a Tensor, not the list the annotation promises
        return x
""",
            fixed="""
from typing import List

import torch
from torch import nn


class Stem(nn.Module):
    def forward(self, x: List[torch.Tensor]) -> List[torch.Tensor]:
        # an unannotated parameter is a Tensor, not the list the annotation promises
        return x
""",
            inputs="[([torch.randn(2, 3), torch.tensor([1.0, float('nan')])],)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch
from torch import nn


class SequentialList(nn.Sequential):
    def forward(self, x) -> List[torch.Tensor]:
        for module in self:
            x = module(x)
        return x
""",
            fixed="""
from typing import List

import torch
from torch import nn


class SequentialList(nn.Sequential):
    def forward(self, x: List[torch.Tensor]) -> List[torch.Tensor]:
        for module in self:
            x = module(x)
        return x
""",
            inputs="[([torch.randn(2, 3), torch.tensor([1.0, float('nan')])],)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import Tuple

import torch


@torch.jit.script
def gates(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    return x, x * 2, x * 3
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def embed(x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2], x.shape[-1]
    return x.flatten(2), (h, w)
"""
        ),
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
from typing import Optional

import torch
from torch import nn


class Loss(nn.Module):
    def forward(self, x: torch.Tensor, soft: bool) -> torch.Tensor:
        loss: Optional[torch.Tensor] = None
        # the compiler types an annotated variable by the value it holds: both arms give a
        # Tensor, so after the `if` it is a Tensor
        if soft:
            loss = torch.softmax(x, -1)
        else:
            loss = torch.sigmoid(x)
        if bool(x.sum() > 0):
            loss = loss * 2
        return loss
"""
        ),
        Example(
            """
from typing import Optional

import torch
from torch import nn


class Gate(nn.Module):
    def forward(self, x: torch.Tensor, flag: bool) -> torch.Tensor:
        y: Optional[torch.Tensor] = None
        if flag:
            y = x * 2
        if y is None:
            return x
        # the `if` above always leaves when y is None: from here on y is a Tensor
        return y
"""
        ),
        Example(
            """
from typing import List, Optional, Tuple

import torch


@torch.jit.script
def pair(x: torch.Tensor) -> List[torch.Tensor]:
    # a tuple returned where a list is annotated is converted
    return x, x * 2


@torch.jit.script
def maybe(x: torch.Tensor) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
    if x.numel() == 0:
        return None
    return x, x * 2
"""
        ),
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
            for r in types.returns:
                fix = _annotate_returned_param(node, r.node, self.ctx.self_name is not None)
                if r.node.value is not None and (
                    _shape_mismatch(ann, r.node, r.type) or (fix is not None and r.type is None)
                ):
                    value = r.node.value
                    got = r.type or (
                        f"a tuple of {len(value.elements)}" if isinstance(value, cst.Tuple) else "another kind"
                    )
                    if fix is not None and r.type is None:
                        got = "Tensor"  # the parameter's type, when no `x = f(x)` step runs
                    self.report(r.node, self.message.format(new=got, where="the annotation says", old=ann), fix)
                    return
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


class _Rebinds(cst.CSTVisitor):
    """Every binding of ``name``: ``only_steps`` while each is ``name = f(name)`` inside a loop
    (where the compiler keeps the parameter's type through the iterations)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.only_steps = True
        self.loops = 0

    def visit_For(self, node: cst.For) -> None:
        self.loops += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loops -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        if not any(isinstance(t.target, cst.Name) and t.target.value == self.name for t in node.targets):
            if any(self.name in _names(t.target) for t in node.targets):
                self.only_steps = False
            return
        v = node.value
        if not (
            len(node.targets) == 1
            and isinstance(v, cst.Call)
            and len(v.args) == 1
            and v.args[0].keyword is None
            and not v.args[0].star
            and isinstance(v.args[0].value, cst.Name)
            and v.args[0].value.value == self.name
            and self.loops > 0  # a step outside a loop may give `x` the annotated type (`x = split(x)`)
        ):
            self.only_steps = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        # any other binding of the name (`x += ...`, `x: T = ...`, `for x in ...`, `(x := ...)`)
        if isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr)) and self.name in _names(
            node.target
        ):
            self.only_steps = False
        return super().on_visit(node)


def _names(node: cst.CSTNode) -> set[str]:
    if isinstance(node, cst.Name):
        return {node.value}
    out: set[str] = set()
    for child in children(node):
        out |= _names(child)
    return out


def _annotate_returned_param(fn: cst.FunctionDef, ret: cst.Return, method: bool) -> Fix | None:
    """`x` -> `x: <return annotation>` when `return x` returns a parameter without annotation
    that the body rebinds only as `x = f(x)` in loops, and the annotation is a list or a tuple."""
    value = ret.value
    if fn.returns is None or not isinstance(value, cst.Name):
        return None
    shape = _shape(_ann_text(fn.returns.annotation))
    if shape is None or shape[0] not in ("list", "tuple"):
        return None
    params = [*fn.params.posonly_params, *fn.params.params]
    param = next((p for p in params[1 if method else 0 :] if p.name.value == value.value), None)
    if param is None or param.annotation is not None or param.default is not None:
        return None
    steps = _Rebinds(value.value)
    fn.body.visit(steps)
    if not steps.only_steps:
        return None
    new = param.with_changes(annotation=cst.Annotation(annotation=fn.returns.annotation))
    return Fix(replacements=[(param, new)], safety=SAFE, description=f"annotate `{param.name.value}` like the return")


def _ann_text(node: cst.BaseExpression) -> str:
    """A return annotation in the compiler's words, enough for :func:`_shape`."""
    text = cst.Module(body=[]).code_for_node(node).replace(" ", "")
    for prefix in ("typing.", "torch."):
        text = text.replace(prefix, "")
    return text.replace("list[", "List[").replace("tuple[", "Tuple[")
