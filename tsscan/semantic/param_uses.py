"""How a function uses one of its parameters where only a non-Tensor fits: the question TS605
asks before it offers ``Optional[torch.Tensor]`` for a parameter ``x=None`` without annotation.
"""

from __future__ import annotations

import libcst as cst

from tsscan.semantic.flow import analyse
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.function_types import FunctionTypes
from tsscan.walk import walk

# builtins whose argument is a sequence, a set or a number, never an Optional[Tensor]
_NON_TENSOR_CALLS = frozenset(
    "len max min frozenset set list tuple range sorted enumerate zip sum int float bool str reversed any all dict".split()
)


class _NonTensorUse(cst.CSTVisitor):
    def __init__(self, name: str, ctx: FunctionContext, fn: cst.FunctionDef) -> None:
        super().__init__()
        self.name = name
        self.ctx = ctx
        self.fn = fn
        self.found = False
        self.other = False  # a non-Tensor use other than ``c in name``
        self.members: set[str | None] = set()  # the types of ``c`` in each ``c in name``

    @property
    def _types(self) -> FunctionTypes:
        return analyse(self.fn, self.ctx)

    def _is(self, node: cst.CSTNode | None) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value in _NON_TENSOR_CALLS:
            if any(self._is(a.value) for a in node.args):
                self.found = self.other = True
        for a in node.args:
            if a.keyword is not None and self._is(a.value) and self._keyword_is_not_tensor(node, a.keyword.value):
                self.found = self.other = True

    def _keyword_is_not_tensor(self, node: cst.Call, keyword: str) -> bool:
        """``torch.sum(x, dim=name)``, ``x.mean(dim=name)``: every overload of the torch function
        or Tensor method types that keyword as something a Tensor is not (``int[]``, ``int``)."""
        qual = self.ctx.qualname(node.func)
        if qual is not None and qual.startswith("torch."):
            sigs = self.ctx.knowledge.function_overloads(qual)
        elif isinstance(node.func, cst.Attribute):
            sigs = self.ctx.knowledge.method_overloads(node.func.attr.value)
        else:
            return False
        types = {p.type for sig in sigs for p in sig.params if p.name == keyword}
        return bool(types) and not any("Tensor" in t for t in types)

    def visit_For(self, node: cst.For) -> None:
        if self._is(node.iter):
            self.found = self.other = True

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if self._is(node.iter):
            self.found = self.other = True

    def visit_Comparison(self, node: cst.Comparison) -> None:
        # ``c in name``: TorchScript's ``in`` takes a list, a dict or a str on the right, never a
        # Tensor ("aten::__contains__ ... found type 'Tensor'", measured)
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, (cst.In, cst.NotIn)) and self._is(target.comparator):
                self.found = True
                self.members.add(self._types.type_at(left) if len(node.comparisons) == 1 else None)
            left = target.comparator

    def visit_Slice(self, node: cst.Slice) -> None:
        if any(self._is(b) for b in (node.lower, node.upper, node.step)):
            self.found = self.other = True


def used_as_non_tensor(fn: cst.FunctionDef, name: str, ctx: FunctionContext) -> bool:
    """``name`` is used where only a sequence, set or number fits (see :class:`_NonTensorUse`)."""
    visitor = _NonTensorUse(name, ctx, fn)
    walk(fn.body, visitor)
    return visitor.found


def membership_list_type(fn: cst.FunctionDef, name: str, ctx: FunctionContext) -> str | None:
    """``List[T]`` when every non-Tensor use of ``name`` is ``c in name`` / ``c not in name``
    with ``c`` of one scalar type ``T`` (int, float, str, bool) where it lies; None otherwise."""
    visitor = _NonTensorUse(name, ctx, fn)
    walk(fn.body, visitor)
    if visitor.other or len(visitor.members) != 1:
        return None
    uses = _Uses(name)
    walk(fn.body, uses)
    if uses.other:
        return None  # also indexed, passed on, ...: a dict (``"k" in d`` then ``d["k"]``) or more
    (t,) = visitor.members
    return f"List[{t}]" if t in ("int", "float", "str", "bool") else None


class _Uses(cst.CSTVisitor):
    """Whether ``name`` is read other than as the right of ``in``/``not in`` or in an
    ``is None``/``is not None`` test."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.other = False

    def _is(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def _accounted(self, left: cst.BaseExpression, op: cst.BaseCompOp, right: cst.BaseExpression) -> bool:
        """``c in name`` / ``c not in name``, or ``name is (not) None`` either way round."""
        if isinstance(op, (cst.In, cst.NotIn)):
            return self._is(right) and not self._is(left)
        none = [e for e in (left, right) if isinstance(e, cst.Name) and e.value == "None"]
        return isinstance(op, (cst.Is, cst.IsNot)) and len(none) == 1 and (self._is(left) or self._is(right))

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        left = node.left
        for target in node.comparisons:
            right = target.comparator
            if (self._is(left) or self._is(right)) and not self._accounted(left, target.operator, right):
                self.other = True
            left = right
        # operands that are not bare names (``f(x) in y``) are walked as usual
        for part in [node.left] + [t.comparator for t in node.comparisons]:
            if not isinstance(part, cst.Name):
                walk(part, self)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        walk(node.value, self)
        return False  # ``x.name`` is not a read of ``name``

    def visit_Arg(self, node: cst.Arg) -> bool:
        walk(node.value, self)
        return False  # a keyword is not a read

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.other = True


def star_forwards(fn: cst.FunctionDef, name: str, star: str) -> list[tuple[cst.Call, cst.Arg]] | None:
    """Where the body of ``fn`` reads its variadic parameter ``name`` (``star``: ``"*"`` or
    ``"**"``): the calls that pass it on whole (``g(x, **name)``), with the argument. ``[]``:
    never read. None: read in any other way (indexed, iterated, rebound, passed as a plain
    argument, bound again by a nested function or lambda), or passed on both by a call and by a
    call inside it."""
    visitor = _Forwards(name, star)
    walk(fn.body, visitor)
    return None if visitor.other else visitor.found


class _Forwards(cst.CSTVisitor):
    def __init__(self, name: str, star: str) -> None:
        super().__init__()
        self.name = name
        self.star = star
        self.found: list[tuple[cst.Call, cst.Arg]] = []
        self.other = False
        self.inside = 0  # calls that pass it on, around the node being walked

    def visit_Call(self, node: cst.Call) -> bool:
        passed = [
            a for a in node.args if a.star == self.star and isinstance(a.value, cst.Name) and a.value.value == self.name
        ]
        if passed and self.inside:
            self.other = True  # one fix would rewrite both calls
        self.found += [(node, a) for a in passed]
        self.inside += bool(passed)
        walk(node.func, self)
        for a in node.args:
            if not any(a is b for b in passed):
                walk(a.value, self)  # a keyword (``g(name=...)``) is not a read
        self.inside -= bool(passed)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        walk(node.value, self)
        return False  # ``x.name`` is not a read of ``name``

    def visit_Name(self, node: cst.Name) -> None:
        # any other occurrence: a read, a store, a nested function's or lambda's parameter
        if node.value == self.name:
            self.other = True
