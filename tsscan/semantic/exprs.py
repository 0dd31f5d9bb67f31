"""The one expression type model: :class:`ExprTyper` answers "what TorchScript type will the
compiler give this expression?" given the types of the names in scope. Every rule that needs a
type asks it, through the function's environments (:mod:`tsscan.semantic.flow`, the names whose
bindings agree, the declared names).
"""

from __future__ import annotations

import re

import libcst as cst

from tsscan.semantic import attributes, config, submodules
from tsscan.semantic.annotations import SCALARS, annotation_type, dict_value, split_type_args
from tsscan.semantic.crossing import text_to_cst
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.function import cst_dotted
from tsscan.semantic.knowledge import Knowledge
from tsscan.semantic.knowledge import load as load_knowledge

# --------------------------------------------------------------------------- expressions


def _num_join(a: str, b: str) -> str | None:
    if a == b and a in ("int", "float", "complex"):
        return a
    nums = ("bool", "int", "float", "complex")
    if a in nums and b in nums:
        return nums[max(nums.index(a), nums.index(b), 1)]
    return None


def is_chained_tensor_comparison(node: cst.Comparison, env_type) -> bool:
    if len(node.comparisons) < 2:
        return False
    operands = [node.left] + [c.comparator for c in node.comparisons]
    return any(env_type(o) == "Tensor" for o in operands)


class ExprTyper:
    """Types of expressions given a variable environment (a mapping name -> type or None)."""

    def __init__(self, ctx: FunctionContext | None, lookup) -> None:
        self.ctx = ctx
        self.lookup = lookup

    def __call__(self, node: cst.BaseExpression | None) -> str | None:
        try:
            return self._type(node)
        except RecursionError:  # pragma: no cover - absurdly deep expressions
            return None

    def _subscript(self, node: cst.Subscript) -> str | None:
        base = self._type(node.value)
        if base == "Tensor":
            return "Tensor"
        if base == "str":
            return "str"
        if base and base.startswith("List[") and len(node.slice) == 1:
            sl = node.slice[0].slice
            inner = base[len("List[") : -1]
            if type(sl) is cst.Slice:
                return base
            assert type(sl) is cst.Index
            return inner if self._type(sl.value) == "int" else None
        if len(node.slice) == 1 and type(node.slice[0].slice) is cst.Index and (value := dict_value(base)):
            return value
        if base and base.startswith("Tuple[") and len(node.slice) == 1:
            sl = node.slice[0].slice
            if type(sl) is cst.Index and type(sl.value) is cst.Integer:
                elements = split_type_args(base)
                idx = int(sl.value.value, 0)
                if elements is not None and "..." not in elements and -len(elements) <= idx < len(elements):
                    return elements[idx]
        return None

    def _type(self, node) -> str | None:  # a flat dispatch
        if node is None:
            return None
        if type(node) is cst.Integer:
            return "int"
        if type(node) is cst.Float:
            return "float"
        if type(node) is cst.Imaginary:
            return "complex"
        if type(node) is cst.SimpleString:
            return None if node.prefix.lower().startswith("b") else "str"  # bytes are not str
        if type(node) in (cst.ConcatenatedString, cst.FormattedString):
            return "str"
        if type(node) is cst.Name:
            if node.value in ("True", "False"):
                return "bool"
            if node.value == "None":
                return "None"
            return self.lookup(node.value)
        if type(node) is cst.List:
            if not node.elements:
                return "List[Tensor]"
            if any(type(e) is cst.StarredElement for e in node.elements):
                return None
            types = {self._type(e.value) for e in node.elements}
            if len(types) == 1 and None not in types:
                return f"List[{types.pop()}]"
            return None
        if type(node) is cst.Tuple:
            if not node.elements:
                return "Tuple[()]"
            if any(type(e) is cst.StarredElement for e in node.elements):
                return None
            maybe = [self._type(e.value) for e in node.elements]
            parts = [p for p in maybe if p is not None]
            if len(parts) != len(maybe):
                return None
            return f"Tuple[{', '.join(parts)}]"
        if type(node) is cst.UnaryOperation:
            inner = self._type(node.expression)
            if type(node.operator) is cst.Not:
                return "bool"
            if type(node.operator) is cst.Minus and inner in ("int", "float", "Tensor", "complex"):
                return inner
            return None
        if type(node) is cst.BinaryOperation:
            return self._binop(node)
        if type(node) is cst.Comparison:
            if is_chained_tensor_comparison(node, self._type):
                return None
            if len(node.comparisons) == 1:
                op = node.comparisons[0].operator
                if type(op) in (cst.Is, cst.IsNot, cst.In, cst.NotIn):
                    return "bool"
                left, right = self._type(node.left), self._type(node.comparisons[0].comparator)
                if "Tensor" in (left, right):
                    return "Tensor"
                if left in SCALARS and right in SCALARS:
                    return "bool"
            return None
        if type(node) is cst.BooleanOperation:
            # `a or b` casts both operands: a bool whatever they are (measured on torch 2.13 for
            # int, float, Tensor, str and List[int]); an Optional operand does not compile
            left, right = self._type(node.left), self._type(node.right)
            castable = all(t is not None and t != "None" and not t.startswith("Optional[") for t in (left, right))
            return "bool" if castable else None
        if type(node) is cst.IfExp:
            a, b = self._type(node.body), self._type(node.orelse)
            return a if a == b else None
        if type(node) is cst.Call:
            return self._call(node)
        if type(node) is cst.ListComp:
            return self._list_comp(node)
        if type(node) is cst.Subscript:
            return self._subscript(node)
        if type(node) is cst.Attribute:
            owner = self._type(node.value)
            if owner == "Tensor":
                return _spoken(self._knowledge().property_type(node.attr.value))
            if self.ctx is not None:
                name = self.ctx.self_attr(node)
                if name == "training":
                    return "bool"
                if name is not None:
                    return module_attribute_type(self.ctx, name)
            return None
        return None

    def _binop(self, node: cst.BinaryOperation) -> str | None:
        left, right = self._type(node.left), self._type(node.right)
        op = node.operator
        if type(op) is cst.Modulo and left == "str":
            return "str"
        if "Tensor" in (left, right):
            if (
                type(op) is cst.MatrixMultiply
                or left in ("int", "float", "bool", "Tensor")
                or right in ("int", "float", "bool", "Tensor")
            ):
                return "Tensor"
            return None
        if left is None or right is None:
            return None
        if type(op) is cst.Add:
            if left == right == "str":
                return "str"
            if left.startswith("Tuple[") and right.startswith("Tuple["):
                lp, rp = split_type_args(left), split_type_args(right)
                if lp is None or rp is None or "..." in lp + rp:
                    return None
                joined = lp + rp
                return f"Tuple[{', '.join(joined)}]" if joined else "Tuple[()]"
            if left == right and left.startswith("List["):
                return left
        if type(op) is cst.Multiply and "int" in (left, right):
            seq = right if left == "int" else left  # [0] * n, n * [0]: the list repeated
            if seq.startswith("List["):
                return seq
        if type(op) is cst.Divide:
            return "float" if left in ("int", "float", "bool") and right in ("int", "float", "bool") else None
        if type(op) is cst.Power:  # aten::pow.int(int a, int b) -> float: `2 ** 3` is 8.0
            return "float" if left in ("int", "float") and right in ("int", "float") else None
        if type(op) in (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo):
            if left in ("int", "float") and right in ("int", "float"):
                return _num_join(left, right)
        return None

    def _list_comp(self, node: cst.ListComp) -> str | None:
        """``[elt for t in it ...]``: its targets are the comprehension's own names."""
        scope: dict[str, str | None] = {}
        outer = self.lookup
        self.lookup = lambda name: scope[name] if name in scope else outer(name)
        try:
            fc: cst.CompFor | None = node.for_in
            while fc is not None:
                bind_target(fc.target, self.iter_element(fc.iter), scope)
                fc = fc.inner_for_in
            elt = self._type(node.elt)
        finally:
            self.lookup = outer
        return f"List[{elt}]" if elt else None

    def iter_element(self, it: cst.BaseExpression) -> str | None:
        """The type a ``for`` over ``it`` binds to its target."""
        if type(it) is cst.Call and type(it.func) is cst.Name and it.func.value in ("range", "enumerate", "zip"):
            name = it.func.value
            if self.lookup(name) is not None or (self.ctx is not None and name in self.ctx.module.functions):
                return None
            args = list(it.args)
            if any(a.keyword is not None or a.star for a in args):
                if not (name == "enumerate" and all(a.keyword is None or a.keyword.value == "start" for a in args)):
                    return None
            if name == "range":
                return "int"
            if name == "enumerate" and args:
                inner = self.iter_element(args[0].value)
                return f"Tuple[int, {inner}]" if inner else None
            if name == "zip" and args:
                maybe = [self.iter_element(a.value) for a in args]
                items = [t for t in maybe if t is not None]
                return f"Tuple[{', '.join(items)}]" if len(items) == len(maybe) else None
            return None
        return element_type(self._type(it))

    def _call(self, node: cst.Call) -> str | None:
        """What a call returns, from the knowledge tables' signatures (torch functions, Tensor
        methods, builtins, ``math``) for the argument types the model knows."""
        func = node.func
        if any(a.star for a in node.args):
            return None
        args = [self._type(a.value) for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: self._type(a.value) for a in node.args if a.keyword is not None}
        knowledge = self._knowledge()
        if self.ctx is not None and self.ctx.module is not None:
            if type(func) is cst.Name and self.lookup(func.value) is None and func.value in self.ctx.module.functions:
                return _spoken(submodules.function_return(self.ctx, func.value))
            attr = self.ctx.self_attr(func)
            if attr is not None:
                return _spoken(submodules.self_call_return(self.ctx, attr))
            foreign = self._foreign_return(func)
            if foreign is not None:
                return foreign
        if type(func) is cst.Name and self.lookup(func.value) is None and not self._defined_in_file(func.value):
            if func.value in ("int", "float") and args[:1] == ["Tensor"]:
                return func.value  # int(t) / float(t): the builtin converts, whatever the table lists
            if func.value == "list" and len(args) == 1 and not keywords:
                return _as_list(args[0])  # no operator: the table has no signature for it
            return _spoken(knowledge.builtin_return(func.value, args, keywords))
        qual = self.ctx.qualname(func) if self.ctx is not None else cst_dotted(func)
        if qual and qual.startswith("torch."):
            flags = {k: v.value == "True" for k, v in _keyword_values(node).items()}
            return _spoken(knowledge.function_return(qual, args, keywords, flags))
        if qual and qual.startswith("math."):
            return _spoken(knowledge.math_return(qual[len("math.") :], args, keywords))
        if type(func) is cst.Attribute:
            recv = self._type(func.value)
            name = func.attr.value
            if recv == "Tensor":
                return _spoken(knowledge.method_return(name, args, keywords))
            if recv == "str" and name in ("upper", "lower", "strip", "lstrip", "rstrip", "replace", "join", "format"):
                return "str"
        return None

    def _foreign_return(self, func: cst.BaseExpression) -> str | None:
        """The annotated return type of a function of another file of the package (its
        signature fact), called by the name the file imports it by."""
        written = cst_dotted(func)
        if self.ctx is None or written is None or self.lookup(written.split(".", 1)[0]) is not None:
            return None
        there = self.ctx.scope.foreign_signatures.get(written)
        if there is None or written.split(".", 1)[0] not in self.ctx.module.aliases:
            return None
        if there.bound or len(there.signatures) != 1:
            return None
        return _spoken(there.signatures[0].returns[0] or None)

    def _knowledge(self) -> Knowledge:
        return self.ctx.knowledge if self.ctx is not None else load_knowledge(None)

    def _defined_in_file(self, name: str) -> bool:
        mod = self.ctx.module if self.ctx is not None else None
        return mod is not None and (name in mod.functions or name in mod.classes or name in mod.aliases)


def _keyword_values(node: cst.Call) -> dict[str, cst.Name]:
    """Keyword arguments given as ``True``/``False`` (the flags a boolean_dispatch reads)."""
    return {
        a.keyword.value: a.value
        for a in node.args
        if a.keyword is not None and type(a.value) is cst.Name and a.value.value in ("True", "False")
    }


_SPOKEN = re.compile(
    r"(Tensor|int|float|bool|str|complex|None|(List|Tuple|Optional|Dict)\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\])"
)


def _spoken(t: str | None) -> str | None:
    """``t`` when the model's vocabulary has it; the tables also speak of ``number`` (int or
    float, decided at run time), ``Device``, type variables ...: unknown here."""
    if t is None or not _SPOKEN.fullmatch(t):
        return None
    inner = split_type_args(t) if "[" in t else None
    if inner is not None and any(_spoken(i) is None for i in inner if i not in ("...", "()")):
        return None
    return t


def _as_list(t: str | None) -> str | None:
    """``list(v)`` for a ``v`` of type ``t`` (measured: ``list(x.shape)`` is ``List[int]``,
    ``list(tensor)`` ``List[Tensor]``, ``list(Tuple[int, int])`` ``List[int]``)."""
    if t is not None and t.startswith("List["):
        return t
    item = element_type(t)
    return f"List[{item}]" if item is not None else None


def element_type(t: str | None) -> str | None:
    """The type a ``for`` loop over a value of type ``t`` binds."""
    if t is None:
        return None
    if t in ("Tensor", "str"):
        return t
    if t.startswith("List["):
        return t[len("List[") : -1]
    if t.startswith("Tuple["):
        items = split_type_args(t) or []
        return items[0] if items and all(i == items[0] for i in items) else None
    return None


def bind_target(target: cst.BaseExpression, t: str | None, scope: dict[str, str | None]) -> None:
    """Give the names of an assignment or loop target their part of ``t``."""
    if type(target) is cst.Name:
        scope[target.value] = t
    elif isinstance(target, (cst.Tuple, cst.List)):
        items = split_type_args(t) if t and t.startswith("Tuple[") else None
        for i, el in enumerate(target.elements):
            sub = None
            if items is not None and i < len(items) and type(el) is not cst.StarredElement:
                sub = items[i]
            elif t and t.startswith("List["):
                sub = element_type(t)
            elif t == "Tensor":
                sub = "Tensor"
            bind_target(el.value, sub, scope)


def module_attribute_type(ctx: FunctionContext, name: str) -> str | None:
    """The type of ``self.<name>`` as :mod:`tsscan.semantic.attributes` (the module-structure helper)
    infers it from ``__init__`` and the class annotations; None when it is not certain."""
    if ctx.cls is None:
        return None
    cache = ctx.attribute_types
    if name in cache:
        return cache[name]
    out: str | None = None
    at = attributes.attribute_type(ctx.cls, name, ctx.module)
    ok_origin = at.origin in ("init", "buffer", "parameter", "builtin") or (
        at.annotated and at.origin in ("annotation", "init")
    )
    if not at.known and at.origin in ("init", ""):
        # `self.p = p` with `p=0`: the value the instance holds when built with its defaults
        at = config.type_at_defaults(ctx.cls, ctx.module, name) or at
        ok_origin = at.kind in (attributes.INT, attributes.FLOAT, attributes.BOOL, attributes.STR)
    if at.known and at.ts and ok_origin and at.kind not in attributes.UNCONVERTIBLE:
        written = text_to_cst(at.ts)
        out = annotation_type(written, ctx) if written is not None else None
    cache[name] = out
    return out
