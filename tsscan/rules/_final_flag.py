"""TS320's fix: declare a bool flag `Final` so that the compiler drops `if self.flag:` arms.

`if self.use_rel_pos:` on a plain attribute is compiled in both arms, so a read of an attribute
that `__init__` sets only when the flag is on fails ("Module 'Attention' has no attribute
'rel_pos_h'"). With `use_rel_pos: Final[bool]` in the class body the flag is a constant and the
compiler drops the arm (measured with torch 2.13 and 2.14 on timm's SAM `Attention`,
`Gemma4ClippableLinear` and repvit's `RepVitClassifier`).
"""

from __future__ import annotations

import ast

import libcst as cst

from tsscan.context import FunctionContext
from tsscan.rule import SAFE, Fix
from tsscan.semantic import astwalk
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo


class _Arms(cst.CSTVisitor):
    """id(node) -> flag, for every node in the body of an `if self.<flag>:`."""

    def __init__(self, me: str) -> None:
        super().__init__()
        self.me = me
        self.found: dict[int, str] = {}

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if isinstance(test, cst.Attribute) and isinstance(test.value, cst.Name) and test.value.value == self.me:
            collect = _All()
            node.body.visit(collect)
            for i in collect.ids:
                self.found.setdefault(i, test.attr.value)


class _All(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[int] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.ids.append(id(node))
        return True


_FLAG_ARMS: Memo[dict[int, str]] = Memo("nodes under if self.flag")


def flag_arms(ctx: FunctionContext) -> dict[int, str]:
    """id(node) -> `flag` for the nodes of the function under `if self.flag:` (innermost
    test last: the outermost flag wins, any one of them drops the node)."""
    return ctx.memo(_FLAG_ARMS, ctx.function_node, lambda: _flag_arms(ctx))


def _flag_arms(ctx: FunctionContext) -> dict[int, str]:
    me = ctx.self_name
    if me is None:
        return {}
    arms = _Arms(me)
    ctx.function_node.visit(arms)
    return arms.found


def _is_bool(expr: ast.expr, init: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when `expr`, evaluated in `__init__`, is surely a bool: a bool literal, a
    parameter annotated `bool` (or without annotation and with a bool default), `not x`,
    `x is (not) y`, `bool(x)`."""
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, bool)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return True
    if isinstance(expr, ast.Compare):
        return all(isinstance(op, (ast.Is, ast.IsNot)) for op in expr.ops)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "bool":
        return True
    if not isinstance(expr, ast.Name):
        return False
    args = init.args
    positional = args.posonlyargs + args.args
    defaults: dict[str, ast.expr | None] = dict.fromkeys(a.arg for a in positional + args.kwonlyargs)
    for a, d in zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True):
        defaults[a.arg] = d
    for a, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        defaults[a.arg] = kw_default
    for a in positional + args.kwonlyargs:
        if a.arg != expr.id:
            continue
        if a.annotation is not None:
            return isinstance(a.annotation, ast.Name) and a.annotation.id == "bool"
        default = defaults.get(a.arg)
        return isinstance(default, ast.Constant) and isinstance(default.value, bool)
    return False


def _assigned_self(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> int:
    """How many statements of `func` assign `self.<name>` (plain, annotated or augmented)."""
    self_name = func.args.args[0].arg if func.args.args else "self"
    count = 0
    for node in astwalk.walk(func):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for t in targets:
            for sub in astwalk.walk(t):
                if (
                    isinstance(sub, ast.Attribute)
                    and sub.attr == name
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == self_name
                ):
                    count += 1
    return count


def final_flag_fix(cls: ClassInfo, flag: str) -> Fix | None:
    """`flag: Final[bool]` in the body of `cls`, when its own `__init__` sets `self.flag` once
    to a bool and no other method of the class assigns it; None otherwise."""
    if any(flag in c.constants for c in cls.mro()) or any(flag in c.class_attrs for c in cls.mro()):
        return None
    init = cls.methods.get("__init__")
    attr = cls.init_attrs.get(flag)
    if init is None or attr is None or attr.value is None or not _is_bool(attr.value, init):
        return None
    if _assigned_self(init, flag) != 1:
        return None
    if any(_assigned_self(m, flag) for name, m in cls.methods.items() if name != "__init__"):
        return None
    if any(_assigned_self(m, flag) for m in cls.setters.values()):
        return None
    where = class_body_start(cls)
    if where is None:
        return None
    after, ind, before_def = where
    text = f"{ind}{flag}: Final[bool]\n" + ("\n" if before_def else "")
    return Fix(
        inserts=[(after, text)],
        imports=["from typing import Final"],
        safety=SAFE,
        description=f"declare `{flag}: Final[bool]` in the class body (the compiler drops the arm when it is off)",
    )


def class_body_start(cls: ClassInfo) -> tuple[int, str, bool] | None:
    """Where a declaration goes in the body of ``cls``: (the line to insert after, the body's
    indentation, whether a method follows directly): after the docstring, else at the top of
    the body (before the first method's decorators). None for a one-line class."""
    first = cls.node.body[0]
    if first.lineno == cls.node.lineno:
        return None  # `class A(nn.Module): ...` on one line
    ind = " " * first.col_offset
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno or first.lineno, ind, False
    if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return min([first.lineno, *(d.lineno for d in first.decorator_list)]) - 1, ind, True
    return first.lineno - 1, ind, False
