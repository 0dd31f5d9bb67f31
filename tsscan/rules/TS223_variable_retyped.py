import ast
import re

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.function_types import FunctionTypes, Retype
from tsscan.semantic.none_locals import none_retypes
from tsscan.semantic.static import VARIES, Evaluator


class VariableRetyped(Rule):
    """A variable given another type inside a branch or loop (`v = 0` ... `if c: v = "big"`).

    What it does:
        Flags an assignment inside an `if` arm or a loop body that gives a variable of an
        enclosing block a different type (a tuple grown in a loop, `t = t + (i,)`, is one
        case), and uses of a variable that the two arms of an `if` define with different
        types.

    Why is this bad:
        Straight-line rebinding may change a type, but where control flow merges a
        TorchScript variable has one type: "Variable 'v' previously had type int but is now
        being assigned to a value of type str", "Type mismatch: y is set to type int in the
        true branch and type float in the false branch".

    Example:
        v = x.numel()
        if v > 2:
            v = "big"

    Use instead:
        Use a new name for the new type, or give the variable one type on every path
        (`List[int]` plus `append` instead of a growing tuple).

    Fix:
        A variable first bound to `None` (`mask = None`) and given one type `T` in a branch is
        annotated `mask: Optional[T] = None`. SAFE: an annotation on a local is not evaluated
        at run time, so the eager code does not change. When the branches that give it the
        type are arms the compiler may drop depending on how the module was built (an
        `is not None` test of an attribute), it is reported only when every arm of an
        enclosing `if` binds the variable: the finding is that `if`. When the whole pattern
        lies in an arm the compiler keeps or drops depending on how the module was built
        (`if self.fused_attn:`, a `Final` bool set from a call), where type findings are not
        shown, the finding is that `if`, with the same fix: harmless when the arm is dropped.
    """

    code = "TS223"
    needs = Needs(
        nodes={
            "Assign",
            "AnnAssign",
            "AugAssign",
            "For",
            "AsyncFor",
            "With",
            "AsyncWith",
            "NamedExpr",
            "Try",
            "TryStar",
            "Import",
            "ImportFrom",
            "Match",
            "NestedFunction",
            "ClassDef",
            "comprehension",
            "If",
        }
    )
    name = "variable-retyped"
    message = "`{var}` had type `{old}` and is given type `{new}` here; inside a branch or loop TorchScript keeps one type per variable"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Scale(nn.Module):
    def forward(self, x: torch.Tensor, per_channel: bool) -> torch.Tensor:
        if per_channel:
            scale = x.shape[-1]
        else:
            scale = 0.5
        return x * scale
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def label(x: torch.Tensor) -> str:
    v = x.numel()
    if v > 2:
        v = "big"
    return str(v)
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def indices(n: int) -> int:
    t = ()
    for i in range(n):
        t = t + (i,)
    return len(t)
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def pick(x: torch.Tensor) -> float:
    if x.numel() > 3:
        y = 1
    else:
        y = 2.0
    return y
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def masked(x: torch.Tensor, k: int) -> torch.Tensor:
    mask = None
    if k > 0:
        mask = x > k
    if mask is not None:
        x = x.masked_fill(mask, 0.0)
    return x
""",
            fixed="""
import torch
from typing import Optional


@torch.jit.script
def masked(x: torch.Tensor, k: int) -> torch.Tensor:
    mask: Optional[torch.Tensor] = None
    if k > 0:
        mask = x > k
    if mask is not None:
        x = x.masked_fill(mask, 0.0)
    return x
""",
            inputs="[(torch.tensor([1.0, 5.0, float('nan')]), 2), (torch.arange(4.0), 0), (torch.zeros(0), 3)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import Optional

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, table: bool = False) -> None:
        super().__init__()
        if table:
            self.table = nn.Parameter(torch.zeros(4))
        else:
            self.table = None

    def forward(self, x: torch.Tensor, shared: Optional[torch.Tensor] = None) -> torch.Tensor:
        bias = None
        if self.table is not None:
            bias = self.table * 2
        elif shared is not None:
            bias = shared
        if bias is not None:
            x = x + bias
        return x
""",
            fixed="""
from typing import Optional

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, table: bool = False) -> None:
        super().__init__()
        if table:
            self.table = nn.Parameter(torch.zeros(4))
        else:
            self.table = None

    def forward(self, x: torch.Tensor, shared: Optional[torch.Tensor] = None) -> torch.Tensor:
        bias: Optional[torch.Tensor] = None
        if self.table is not None:
            bias = self.table * 2
        elif shared is not None:
            bias = shared
        if bias is not None:
            x = x + bias
        return x
""",
            inputs="[(torch.randn(2, 4), torch.randn(4)), (torch.randn(3, 4), None)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import Final, Optional

import torch
from torch import nn


def fused_default() -> bool:
    return True


class Attention(nn.Module):
    fused: Final[bool]

    def __init__(self, table: bool = False) -> None:
        super().__init__()
        self.fused = fused_default()
        self.proj = nn.Linear(4, 4)
        self.table = nn.Parameter(torch.ones(4)) if table else None

    def forward(self, x: torch.Tensor, shared: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.fused:
            bias = None
            if self.table is not None:
                bias = self.table * 2
            elif shared is not None:
                bias = shared
            if bias is not None:
                x = x + bias
        return self.proj(x)
""",
            fixed="""
from typing import Final, Optional

import torch
from torch import nn


def fused_default() -> bool:
    return True


class Attention(nn.Module):
    fused: Final[bool]

    def __init__(self, table: bool = False) -> None:
        super().__init__()
        self.fused = fused_default()
        self.proj = nn.Linear(4, 4)
        self.table = nn.Parameter(torch.ones(4)) if table else None

    def forward(self, x: torch.Tensor, shared: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.fused:
            bias: Optional[torch.Tensor] = None
            if self.table is not None:
                bias = self.table * 2
            elif shared is not None:
                bias = shared
            if bias is not None:
                x = x + bias
        return self.proj(x)
""",
            inputs="[(torch.randn(2, 4), torch.randn(4)), (torch.tensor([[1.0, float('nan'), -2.0, 0.0]]), None)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def label(x: torch.Tensor) -> str:
    v = x.numel()
    v = str(v)
    t: List[int] = []
    for i in range(x.dim()):
        t.append(i)
    if len(t) > 2:
        v = "big"
    return v
"""
        ),
        Example(
            """
import torch
from torch import nn


class Focal(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # a loop over a ModuleList is unrolled: straight-line code, not a loop merge
        acc = 0
        for i, layer in enumerate(self.layers):
            acc = acc + layer(x) * i
        return acc + x
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        types = self.ctx.types
        from_none = none_retypes(types)
        for r in types.retypes:
            msg = self.message.format(var=r.var, old=r.old, new=r.new)
            if r.in_loop and r.old.startswith("Tuple[") and r.new.startswith("Tuple["):
                msg = (
                    f"tuple `{r.var}` grows in a loop (`{r.old}` becomes `{r.new}`); TorchScript tuples have a "
                    "fixed length, use a `List` and `append`"
                )
            self.report(r.node, msg, optional_fix(types, from_none, r) if r.old == "None" else None)
        # a None local retyped inside an arm of `if self.flag:` (a Final bool the constructor
        # computes): the engine hides findings there, so the finding is that `if`
        for r, flag_if in _in_flag_arms(self.ctx, node, [(r, st or r.node) for r, st in from_none]):
            test = cst.Module(body=[]).code_for_node(flag_if.test)
            msg = (
                f"`{r.var}` had type `None` and is given type `{r.new}` in the arm kept when `{test}` is true; "
                "TorchScript keeps one type per variable"
            )
            self.report(flag_if, msg, optional_fix(types, from_none, r))
        # retypes in arms the compiler may drop depending on how the module was built (where
        # type-level findings are not shown), when every arm of an enclosing `if` binds the
        # variable: reported on that `if`
        done = {r.var for r in types.retypes}
        for r, stmt in from_none:
            if stmt is None or r.var in done:
                continue
            done.add(r.var)
            msg = (
                f"`{r.var}` had type `None` and every arm of this `if` gives it another type (`{r.new}`); "
                "TorchScript keeps one type per variable"
            )
            self.report(stmt, msg, optional_fix(types, from_none, r))
        reported = set()
        for u in types.bad_uses:
            if u.kind == "conflict" and u.var not in reported:
                reported.add(u.var)
                self.report(
                    types.conflict_sites.get(u.var, u.node),
                    f"`{u.var}` is given different types in the arms of an `if` and used after it; "
                    "TorchScript needs one type where the arms merge",
                )


def optional_fix(types: FunctionTypes, from_none: list[tuple[Retype, cst.If | None]], r: Retype) -> Fix | None:
    """`v = None` (the first binding of `v`) becomes `v: Optional[T] = None`, when every
    retype of `v` gives the same spellable type T. Local annotations are not evaluated at run
    time, so the eager code is unchanged."""
    assign = types.none_assigns.get(r.var)
    if assign is None or r.var in types.declared or {x.new for x, _ in from_none if x.var == r.var} != {r.new}:
        return None
    if r.new in ("None", "Any") or "..." in r.new or r.new.startswith(("Optional[", "Union[")):
        return None
    inner = re.sub(r"\bTensor\b", "torch.Tensor", r.new)
    imports = ["from typing import Optional"]
    imports += [f"from typing import {g}" for g in ("List", "Tuple", "Dict") if g + "[" in inner]
    if "torch.Tensor" in inner:
        imports.append("import torch")
    text = f"Optional[{inner}]"
    new = cst.AnnAssign(
        target=assign.targets[0].target, annotation=cst.Annotation(cst.parse_expression(text)), value=assign.value
    )
    return Fix(replacements=[(assign, new)], imports=imports, safety=SAFE, description=f"annotate `{r.var}: {text}`")


class _Enclosing(cst.CSTVisitor):
    """The `if` statements around each wanted node, outermost first."""

    def __init__(self, wanted: set[int]) -> None:
        super().__init__()
        self.wanted = wanted
        self.stack: list[cst.If] = []
        self.found: dict[int, list[cst.If]] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.wanted:
            self.found[id(node)] = list(self.stack)
        if isinstance(node, cst.If):
            self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.If):
            self.stack.pop()


def _in_flag_arms(ctx, fn: cst.FunctionDef, found: list[tuple[Retype, cst.CSTNode]]) -> list[tuple[Retype, cst.If]]:
    """(retype, the outermost `if self.flag:` around where it is reported, when the compiler
    decides `self.flag` per instance: a `Final` bool the constructor computes). The engine
    hides type findings in that arm (its *maybe dead* lines)."""
    if not found or ctx.self_name is None:
        return []
    finder = _Enclosing({id(n) for _, n in found})
    fn.visit(finder)
    ev = Evaluator(ctx.module, ctx.cls, ctx.self_name)
    out: list[tuple[Retype, cst.If]] = []
    seen: set[str] = set()
    for r, where in found:
        for stmt in finder.found.get(id(where), []):
            if r.var in seen or ctx.self_attr(stmt.test) is None:
                continue
            test = ast.Attribute(value=ast.Name(id=ctx.self_name), attr=ctx.self_attr(stmt.test))
            if ev(test) == VARIES:
                seen.add(r.var)
                out.append((r, stmt))
                break
    return out
