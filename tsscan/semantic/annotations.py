"""Annotations and types in TorchScript's own spelling (``Tensor``, ``List[int]``,
``Optional[Tensor]``, ...): reading an annotation, and the relations the compiler applies between
two types (assignable, unifiable, implicitly converted).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from typing import TypeGuard

import libcst as cst

from tsscan.semantic.crossing import ast_to_cst
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.function import cst_dotted
from tsscan.walk import children, is_expression, walk

SCALARS = ("int", "float", "bool", "str", "complex")

# the statements of a suite: an indented block's, or the small ones of ``if x: return y``
Stmts = Sequence[cst.BaseStatement | cst.BaseSmallStatement]

# --------------------------------------------------------------------------- annotations
_GENERIC = {
    "List": "List",
    "list": "List",
    "typing.List": "List",
    "Tuple": "Tuple",
    "tuple": "Tuple",
    "typing.Tuple": "Tuple",
    "Dict": "Dict",
    "dict": "Dict",
    "typing.Dict": "Dict",
    "Optional": "Optional",
    "typing.Optional": "Optional",
    "Union": "Union",
    "typing.Union": "Union",
    "Set": "Set",
    "set": "Set",
    "typing.Set": "Set",
    "FrozenSet": "Set",
    "frozenset": "Set",
    "typing.FrozenSet": "Set",
    "Callable": "Callable",
    "typing.Callable": "Callable",
    "collections.abc.Callable": "Callable",
}

_SIMPLE = {
    "torch.Tensor": "Tensor",
    "Tensor": "Tensor",
    "torch.nn.Parameter": "Tensor",
    # dtype-specific subtypes: Tensors to the compiler (torch.jit.annotations.is_tensor)
    **{
        f"torch.{d}Tensor": "Tensor"
        for d in ("Long", "Double", "Float", "Int", "Short", "Half", "Char", "Byte", "Bool")
    },
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "complex": "complex",
    "None": "None",
    "typing.Any": "Any",
    "Any": "Any",
    "torch.device": "Device",
}


def _name_of(node: cst.BaseExpression, ctx: FunctionContext | None) -> str | None:
    dotted = cst_dotted(node)
    if dotted is None:
        return None
    resolved = ctx.qualname(node) if ctx is not None else dotted
    return resolved or dotted


def annotation_head(node: cst.BaseExpression, ctx: FunctionContext | None) -> str | None:
    """``List``/``Tuple``/``Dict``/``Optional``/``Union``/``Set``/``Callable`` for a generic
    annotation (subscripted or bare), else None."""
    base = node.value if isinstance(node, cst.Subscript) else node
    name = _name_of(base, ctx)
    if name is None:
        return None
    return _GENERIC.get(name) or _GENERIC.get(name.rsplit(".", 1)[-1] if name.startswith("typing.") else name)


def subscript_items(node: cst.Subscript) -> list[cst.BaseExpression]:
    out = []
    for el in node.slice:
        if isinstance(el.slice, cst.Index):
            out.append(el.slice.value)
    return out


def annotation_type(node: cst.BaseExpression | cst.Annotation | None, ctx: FunctionContext | None) -> str | None:
    """The TorchScript type an annotation expression denotes, or None when unsure."""
    if node is None:
        return None
    if isinstance(node, cst.Annotation):
        node = node.annotation
    if isinstance(node, cst.Name) and node.value == "None":
        return "None"
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        left, right = annotation_type(node.left, ctx), annotation_type(node.right, ctx)
        if left and right == "None":
            return f"Optional[{left}]"
        if right and left == "None":
            return f"Optional[{right}]"
        return None
    if isinstance(node, cst.Subscript):
        head = annotation_head(node, ctx)
        items = subscript_items(node)
        if head is None or len(items) != len(node.slice):
            return None
        if head == "Tuple":
            if len(items) == 2 and isinstance(items[1], cst.Ellipsis):
                inner = annotation_type(items[0], ctx)
                return f"Tuple[{inner}, ...]" if inner else None
            if len(items) == 1 and isinstance(items[0], cst.Tuple) and not items[0].elements:
                return "Tuple[()]"
        maybe = [annotation_type(i, ctx) for i in items]
        parts = [p for p in maybe if p is not None]
        if len(parts) != len(maybe):
            return None
        if head == "Optional" and len(parts) == 1:
            return f"Optional[{parts[0]}]"
        if head == "Union":
            rest = [p for p in parts if p != "None"]
            if len(rest) == 1 and len(parts) == 2:
                return f"Optional[{rest[0]}]"
            return f"Union[{', '.join(parts)}]"
        return f"{head}[{', '.join(parts)}]"
    name = _name_of(node, ctx)
    if name is None:
        return None
    if name in _SIMPLE:
        return _SIMPLE[name]
    if name in _GENERIC:
        return _GENERIC[name]
    return _alias_type(node, ctx)


def _alias_type(node: cst.BaseExpression, ctx: FunctionContext | None) -> str | None:
    """A module-level type alias of the file (``_int_tuple_2_t = Union[int, Tuple[int, int]]``):
    the compiler resolves it through the file's globals, so its type is the aliased one."""
    if ctx is None or not isinstance(node, cst.Name):
        return None
    stmt = ctx.module.globals.get(node.value)
    value = getattr(stmt, "value", None)
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1 or not isinstance(value, ast.Subscript):
        return None
    if ctx.module.globals.get(node.value) is not stmt or node.value in _alias_stack:
        return None
    written = ast_to_cst(value)
    if written is None:
        return None
    _alias_stack.add(node.value)
    try:
        return annotation_type(written, ctx)
    finally:
        _alias_stack.discard(node.value)


_alias_stack: set[str] = set()  # aliases being resolved (a self-referencing alias is unknown)


def is_optional(t: str | None) -> TypeGuard[str]:
    return t is not None and t.startswith("Optional[")


def assignable(target: str | None, value: str | None) -> bool:
    """Can a value of type ``value`` be stored where ``target`` is expected (unknown: yes)."""
    if target is None or value is None or target == value or "Any" in (target, value):
        return True
    if is_optional(target):
        inner = target[len("Optional[") : -1]
        return value == "None" or assignable(inner, value)
    if target.startswith("Union["):
        return True
    return False


def implicitly_converted(target: str | None, value: str | None) -> bool:
    """A Tensor stored into an existing ``int``/``float`` variable (or returned where the
    annotation says ``int``/``float``) compiles: the compiler inserts ``aten::IntImplicit`` /
    ``FloatImplicit``, a run-time conversion. Arms that merge do not convert."""
    if target is None or value != "Tensor":
        return False
    if is_optional(target):
        target = target[len("Optional[") : -1]
    return target in ("int", "float")


def unifiable(a: str | None, b: str | None) -> bool:
    """Can the compiler merge ``a`` and ``b`` into one type (returns, if-expression arms,
    branch merges)? ``None`` with ``T`` gives ``Optional[T]``; tuples merge element-wise.
    Unknown types: yes."""
    if a is None or b is None or a == b or "Any" in (a, b):
        return True
    if "None" in (a, b) or assignable(a, b) or assignable(b, a):
        return True
    if a.startswith("Tuple[") and b.startswith("Tuple["):
        pa, pb = split_type_args(a), split_type_args(b)
        if pa is None or pb is None or "..." in pa + pb:
            return True
        return len(pa) == len(pb) and all(unifiable(x, y) for x, y in zip(pa, pb, strict=False))
    return False


def split_type_args(t: str) -> list[str] | None:
    """``Tuple[int, List[int]]`` -> ``["int", "List[int]"]``; ``Tuple[()]`` -> ``[]``."""
    if "[" not in t or not t.endswith("]"):
        return None
    inner = t[t.index("[") + 1 : -1]
    if inner == "()":
        return []
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def union_members(t: str | None) -> list[str] | None:
    """The members of a ``Union`` (``Optional[T]``: ``[T, "None"]``); None for any other type."""
    if is_optional(t):
        return [t[len("Optional[") : -1], "None"]
    if t is not None and t.startswith("Union["):
        return split_type_args(t)
    return None


def dict_value(t: str | None) -> str | None:
    """``V`` of ``Dict[K, V]``; None for any other type."""
    if t is None or not t.startswith("Dict["):
        return None
    kv = split_type_args(t)
    return kv[1] if kv is not None and len(kv) == 2 else None


def param_list(fn: cst.FunctionDef) -> list[cst.Param]:
    p = fn.params
    out = list(p.posonly_params) + list(p.params) + list(p.kwonly_params)
    return out


# --------------------------------------------------------------------------- helpers for rules
def iter_annotations(fn: cst.FunctionDef) -> Iterator[tuple[cst.BaseExpression, str, cst.Param | None]]:
    """(annotation expression, kind, param or None) for the parameters, the return and the
    annotated locals of ``fn``; kind is "param", "return" or "local"."""
    for p in param_list(fn) + [a for a in (fn.params.star_arg, fn.params.star_kwarg) if isinstance(a, cst.Param)]:
        if p.annotation is not None:
            yield p.annotation.annotation, "param", p
    if fn.returns is not None:
        yield fn.returns.annotation, "return", None
    for a in _annotated_locals(fn):
        yield a.annotation.annotation, "local", None


def _annotated_locals(fn: cst.FunctionDef) -> list[cst.AnnAssign]:
    """The ``x: T = v`` statements of ``fn``, in source order, those of nested classes included
    and of nested functions not. Only statements are descended into: an expression holds no
    statement (a lambda's body is an expression), and expressions are most of the nodes."""
    found: list[cst.AnnAssign] = []

    def statements(node: cst.CSTNode) -> None:
        for child in children(node):
            if isinstance(child, cst.AnnAssign):
                found.append(child)
            elif not is_expression(child) and not isinstance(child, cst.FunctionDef):
                statements(child)

    statements(fn)
    return found


def walk_expr(node: cst.CSTNode):
    """Every node of an expression tree (pre-order)."""
    collect = _Collect()
    walk(node, collect)
    return collect.out


class _Collect(cst.CSTVisitor):
    """Every node visited, in order (one class: walk() looks up a visitor class's hooks once)."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.out.append(node)
        return True


# the words of a TorchScript type that a fix can write in an annotation: typing generics (to
# import), builtins, and torch's names (written after the file's torch prefix)
TYPING_GENERICS = frozenset({"List", "Tuple", "Dict", "Optional"})
_BUILTIN_WORDS = frozenset({"int", "float", "bool", "str", "None"})
_TORCH_SPELLING = {"Tensor": "Tensor", "Device": "device", "dtype": "dtype"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def spelled(
    t: str, torch_head: str | None = "torch.", torch_words: frozenset[str] = frozenset({"Tensor"})
) -> tuple[str, list[str]] | None:
    """TorchScript type ``t`` written as an annotation (``Optional[Tensor]`` ->
    ``Optional[torch.Tensor]``, ``Device`` -> ``torch.device`` when ``torch_words`` has it) and the
    typing imports it needs, sorted. None when ``t`` has another word, or a torch word and no
    ``torch_head`` (the file does not bind torch)."""
    words = set(_WORD.findall(t))
    if not words <= _BUILTIN_WORDS | TYPING_GENERICS | torch_words or (words & torch_words and torch_head is None):
        return None
    text = _WORD.sub(lambda m: f"{torch_head}{_TORCH_SPELLING[m[0]]}" if m[0] in torch_words else m[0], t)
    return text, [f"from typing import {w}" for w in sorted(words & TYPING_GENERICS)]


def annotated_param(param: cst.Param, annotation: str) -> cst.Param:
    """``param`` annotated with the text ``annotation``, spaced ``x: T = d`` when it has a default."""
    new = param.with_changes(annotation=cst.Annotation(cst.parse_expression(annotation)))
    if param.default is None:
        return new
    space = cst.SimpleWhitespace(" ")
    return new.with_changes(equal=cst.AssignEqual(whitespace_before=space, whitespace_after=space))
