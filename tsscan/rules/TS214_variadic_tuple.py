import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule
from tsscan.semantic.types import annotation_head, subscript_items, walk_expr


def _only_read(fn: cst.FunctionDef, name: str) -> bool:
    """True when every use of ``name`` in ``fn`` is ``len(name)``, ``name[i]``, ``for _ in name``
    or ``_ in name``: uses a List behaves the same for."""
    ok: list[bool] = [True]
    allowed: set = set()
    size_args: set = set()

    class V(cst.CSTVisitor):
        def visit_Subscript(self, n: cst.Subscript) -> None:
            allowed.add(id(n.value))

        def visit_For(self, n: cst.For) -> None:
            allowed.add(id(n.iter))

        def visit_Comparison(self, n: cst.Comparison) -> None:
            for c in n.comparisons:
                if isinstance(c.operator, (cst.In, cst.NotIn)):
                    allowed.add(id(c.comparator))
                if isinstance(c.operator, (cst.Is, cst.IsNot)) and _is_none(c.comparator):
                    allowed.add(id(n.left))  # `size is None`: the Optional's own check

        def visit_Arg(self, n: cst.Arg) -> None:
            # a size passed to a Tensor method or a torch function: a list binds the same
            if not n.star and id(n) in size_args:
                allowed.add(id(n.value))

        def visit_Call(self, n: cst.Call) -> None:
            if isinstance(n.func, cst.Name) and n.func.value == "len" and len(n.args) == 1:
                allowed.add(id(n.args[0].value))
            if _size_call(n.func):
                size_args.update(id(a) for a in n.args)

        def visit_CompFor(self, n: cst.CompFor) -> None:
            allowed.add(id(n.iter))

        def visit_Param(self, n: cst.Param) -> bool:
            return False

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

        def visit_Name(self, n: cst.Name) -> None:
            if n.value == name and id(n) not in allowed:
                ok[0] = False

    class Targets(cst.CSTVisitor):
        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            for sub in walk_expr(n.target):
                if isinstance(sub, cst.Name) and sub.value == name:
                    ok[0] = False

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            for sub in walk_expr(n.target):
                if isinstance(sub, cst.Name) and sub.value == name:
                    ok[0] = False

    fn.body.visit(V())
    fn.body.visit(Targets())
    return ok[0]


_SIZE_METHODS = frozenset("view reshape expand repeat permute new_zeros new_ones new_empty new_full".split())


def _is_none(e: cst.BaseExpression) -> bool:
    return isinstance(e, cst.Name) and e.value == "None"


def _size_call(func: cst.BaseExpression) -> bool:
    """``x.view(...)``-like Tensor methods and ``torch.*``/``F.*`` functions, which take a size
    as a list or a tuple alike."""
    if not isinstance(func, cst.Attribute):
        return False
    if func.attr.value in _SIZE_METHODS:
        return True
    root = func.value
    while isinstance(root, cst.Attribute):
        root = root.value
    return isinstance(root, cst.Name) and root.value in ("torch", "F")


def _optional_of(ann: cst.BaseExpression, sub: cst.BaseExpression) -> bool:
    """``ann`` is ``Optional[sub]``."""
    if not (isinstance(ann, cst.Subscript) and len(ann.slice) == 1):
        return False
    head = ann.value
    name = head.attr.value if isinstance(head, cst.Attribute) else head.value if isinstance(head, cst.Name) else ""
    inner = ann.slice[0].slice
    return name == "Optional" and isinstance(inner, cst.Index) and inner.value is sub


class VariadicTuple(Rule):
    """Variable-length tuple annotation `Tuple[int, ...]`.

    What it does:
        Flags `Tuple[T, ...]` (and `tuple[T, ...]`) in the annotations of compiled code.

    Why is this bad:
        TorchScript tuples have a fixed length known to the compiler; the ellipsis form is
        rejected: "Expression of type dots cannot be used in a type expression".

    Example:
        def forward(self, x: torch.Tensor, sizes: Tuple[int, ...]) -> torch.Tensor:
            ...

    Use instead:
        def forward(self, x: torch.Tensor, sizes: List[int]) -> torch.Tensor:
            ...

    Fix:
        Replaces `Tuple[T, ...]` by `List[T]`. Safe for a parameter that is only read
        (`len`, indexing, iteration, `in`): a scripted function accepts a tuple for a
        `List[T]` parameter and those reads behave the same. Unsafe elsewhere (a returned
        or stored value becomes a list instead of a tuple).
    """

    code = "TS214"
    needs = Needs(nodes={"Annotation"})
    name = "variadic-tuple"
    message = "`Tuple[T, ...]` is not a TorchScript type (tuples have a fixed length); use `List[T]`"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import Optional, Tuple

import torch
from torch import nn


class Pool(nn.Module):
    def forward(self, x: torch.Tensor, size: Optional[Tuple[int, ...]] = None) -> torch.Tensor:
        if size is not None:
            x = x.reshape(size)
        return x * 2
""",
            fixed="""
from typing import Optional, Tuple, List

import torch
from torch import nn


class Pool(nn.Module):
    def forward(self, x: torch.Tensor, size: Optional[List[int]] = None) -> torch.Tensor:
        if size is not None:
            x = x.reshape(size)
        return x * 2
""",
            inputs="[(torch.randn(2, 6),), (torch.tensor([1.0, float('nan')]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from typing import Tuple


@torch.jit.script
def pick(x: torch.Tensor, dims: Tuple[int, ...]) -> torch.Tensor:
    out = x
    for d in dims:
        out = out.sum(d, keepdim=True)
    return out * len(dims)
""",
            fixed="""
import torch
from typing import Tuple, List


@torch.jit.script
def pick(x: torch.Tensor, dims: List[int]) -> torch.Tensor:
    out = x
    for d in dims:
        out = out.sum(d, keepdim=True)
    return out * len(dims)
""",
            inputs="[(torch.randn(2, 3), (0, 1)), (torch.zeros(0, 2), (1,)), (torch.tensor([[1, -2]]), ())]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List, Tuple


@torch.jit.script
def pick(x: torch.Tensor, dims: List[int], pair: Tuple[int, int]) -> torch.Tensor:
    return x.sum(dims) * pair[0]
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for ann, kind, param in self.ctx.annotations:
            for sub in walk_expr(ann):
                if not isinstance(sub, cst.Subscript) or annotation_head(sub, self.ctx) != "Tuple":
                    continue
                items = subscript_items(sub)
                if len(items) != 2 or not isinstance(items[1], cst.Ellipsis):
                    continue
                base = sub.value
                pep585 = isinstance(base, cst.Name) and base.value == "tuple"
                head = "list" if pep585 else "List"
                new = cst.Subscript(
                    value=cst.Name(head),
                    slice=[cst.SubscriptElement(cst.Index(items[0]))],
                )
                safe = (
                    kind == "param"
                    and param is not None
                    and (sub is ann or _optional_of(ann, sub))
                    and _only_read(node, param.name.value)
                )
                self.report(
                    sub,
                    fix=Fix(
                        replacements=[(sub, new)],
                        imports=[] if pep585 else ["from typing import List"],
                        safety=SAFE if safe else UNSAFE,
                        description=f"use `{head}[...]`",
                    ),
                )
