"""A small model of what TorchScript infers for one compiled function: what type rules need.

This is not a type checker. It knows the handful of facts the compiler applies and that
flow-dependent rules need, and it answers "unknown" (``None``) whenever it is not sure, so
that rules built on it stay silent rather than guess:

* a parameter without annotation is a ``Tensor``, whatever its default;
* a local takes the type of its first assignment; ``[]`` is ``List[Tensor]``, ``None`` is
  ``NoneType`` unless the local is annotated ``Optional[...]``;
* a straight-line rebinding in the same block may change the type; an assignment inside a
  nested block (``if`` arm, loop body) to a variable of an enclosing block may not;
* where the arms of an ``if`` merge, a variable defined in one arm only (the other arm not
  ending in ``return``/``raise``/``break``/``continue``) is undefined afterwards, and one
  defined with different types in the two arms has no type; a variable first defined in a
  loop body is undefined after the loop;
* all ``return`` statements of a function without return annotation share one type
  (``None`` and ``T`` merge to ``Optional[T]``);
* a loop over a module container (``for blk in self.blocks``, ``enumerate``/``zip`` of one)
  is unrolled: its body is straight-line code in the enclosing block, and what it binds has
  an unknown type afterwards (the number of copies is not known here);
* a comprehension's targets are its own, not the function's variables;
* an annotated variable rebound on a straight line takes the new type; a Tensor stored
  into an existing ``int``/``float`` variable is converted (``aten::IntImplicit``), not a
  type change;
* ``if`` tests the compiler decides while compiling (:mod:`tsscan.semantic.static`: ``torch.jit.is_scripting()``
  and ``and``/``or``/``not`` of it, attributes always or never None, ``Final`` bools) keep
  only the live arm; after a taken arm that returns or raises the block ends.

Types are plain strings in TorchScript's spelling: ``Tensor``, ``int``, ``float``, ``bool``,
``str``, ``None``, ``List[int]``, ``Tuple[Tensor, int]``, ``Optional[Tensor]``, ``Any``.
The analysis runs on the libcst ``FunctionDef`` a rule visits and is cached on the rule's
``FunctionContext``, so the rules that use it share one pass per function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.function import cst_dotted
from tsscan.walk import walk

SCALARS = ("int", "float", "bool", "str", "complex")

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


def annotation_type(node: cst.BaseExpression | None, ctx: FunctionContext | None) -> str | None:
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
        parts = [annotation_type(i, ctx) for i in items]
        if any(p is None for p in parts):
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
    return None


def is_optional(t: str | None) -> bool:
    return bool(t) and t.startswith("Optional[")  # type: ignore[union-attr]


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


# --------------------------------------------------------------------------- expressions
TORCH_TENSOR_FUNCS = frozenset(
    """cat stack zeros ones full empty arange linspace logspace tensor as_tensor from_numpy
    zeros_like ones_like full_like empty_like rand randn randint rand_like randn_like randint_like
    where sigmoid tanh relu exp log log2 log10 sqrt rsqrt abs clamp clip matmul mm bmm einsum
    softmax log_softmax flatten reshape transpose permute squeeze unsqueeze sum mean prod cumsum
    maximum minimum floor ceil sin cos atan2 pow mul add sub div neg masked_fill gather index_select
    stack hstack vstack cdist norm outer tril triu eye diag argmax argmin sort_values logical_and
    logical_or logical_not isnan isinf isfinite nonzero_static bucketize flip roll repeat_interleave
    tile narrow clone detach""".split()
)
TORCH_TENSOR_LISTS = frozenset("split chunk unbind meshgrid broadcast_tensors tensor_split".split())
TENSOR_METHODS = frozenset(
    """view reshape permute contiguous float long int half double to sigmoid tanh relu sum mean
    clone detach unsqueeze squeeze transpose flatten expand expand_as repeat exp log abs clamp
    softmax log_softmax masked_fill type_as cpu cuda sqrt pow mul add sub div neg t matmul
    view_as reshape_as argmax argmin floor ceil round sign norm cumsum prod gather index_select
    narrow flip roll new_zeros new_ones new_full new_empty mul_ add_ sub_ div_ clamp_ fill_
    zero_ copy_ masked_fill_ sigmoid_ relu_ logical_not logical_and logical_or eq ne lt le gt ge
    isnan all any nonzero""".split()
)
TENSOR_LIST_METHODS = frozenset("split chunk unbind tensor_split".split())
INT_FUNCS = {"len": "int", "int": "int", "float": "float", "str": "str", "bool": "bool", "ord": "int", "chr": "str"}


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

    def _type(self, node) -> str | None:  # noqa: C901 - a flat dispatch
        if node is None:
            return None
        if isinstance(node, cst.Integer):
            return "int"
        if isinstance(node, cst.Float):
            return "float"
        if isinstance(node, cst.Imaginary):
            return "complex"
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return "str"
        if isinstance(node, cst.Name):
            if node.value in ("True", "False"):
                return "bool"
            if node.value == "None":
                return "None"
            return self.lookup(node.value)
        if isinstance(node, cst.List):
            if not node.elements:
                return "List[Tensor]"
            if any(isinstance(e, cst.StarredElement) for e in node.elements):
                return None
            types = {self._type(e.value) for e in node.elements}
            if len(types) == 1 and None not in types:
                return f"List[{types.pop()}]"
            return None
        if isinstance(node, cst.Tuple):
            if not node.elements:
                return "Tuple[()]"
            if any(isinstance(e, cst.StarredElement) for e in node.elements):
                return None
            parts = [self._type(e.value) for e in node.elements]
            if any(p is None for p in parts):
                return None
            return f"Tuple[{', '.join(parts)}]"  # type: ignore[arg-type]
        if isinstance(node, cst.UnaryOperation):
            inner = self._type(node.expression)
            if isinstance(node.operator, cst.Not):
                return "bool"
            if isinstance(node.operator, cst.Minus) and inner in ("int", "float", "Tensor", "complex"):
                return inner
            return None
        if isinstance(node, cst.BinaryOperation):
            return self._binop(node)
        if isinstance(node, cst.Comparison):
            if is_chained_tensor_comparison(node, self._type):
                return None
            if len(node.comparisons) == 1:
                op = node.comparisons[0].operator
                if isinstance(op, (cst.Is, cst.IsNot, cst.In, cst.NotIn)):
                    return "bool"
                left, right = self._type(node.left), self._type(node.comparisons[0].comparator)
                if "Tensor" in (left, right):
                    return "Tensor"
                if left in SCALARS and right in SCALARS:
                    return "bool"
            return None
        if isinstance(node, cst.BooleanOperation):
            left, right = self._type(node.left), self._type(node.right)
            return "bool" if left == right == "bool" else None
        if isinstance(node, cst.IfExp):
            a, b = self._type(node.body), self._type(node.orelse)
            return a if a == b else None
        if isinstance(node, cst.Call):
            return self._call(node)
        if isinstance(node, cst.Subscript):
            base = self._type(node.value)
            if base == "Tensor":
                return "Tensor"
            if base == "str":
                return "str"
            if base and base.startswith("List[") and len(node.slice) == 1:
                sl = node.slice[0].slice
                inner = base[len("List[") : -1]
                if isinstance(sl, cst.Slice):
                    return base
                return inner if self._type(sl.value) == "int" else None
            if base and base.startswith("Tuple[") and len(node.slice) == 1:
                sl = node.slice[0].slice
                if isinstance(sl, cst.Index) and isinstance(sl.value, cst.Integer):
                    parts = split_type_args(base)
                    idx = int(sl.value.value, 0)
                    if parts is not None and "..." not in parts and -len(parts) <= idx < len(parts):
                        return parts[idx]
            return None
        if isinstance(node, cst.Attribute):
            owner = self._type(node.value)
            if owner == "Tensor":
                if node.attr.value == "shape":
                    return "List[int]"
                if node.attr.value in ("T", "mT", "data", "real", "imag"):
                    return "Tensor"
                if node.attr.value == "ndim":
                    return "int"
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
        if isinstance(op, cst.Modulo) and left == "str":
            return "str"
        if "Tensor" in (left, right):
            if (
                isinstance(op, cst.MatrixMultiply)
                or left in ("int", "float", "bool", "Tensor")
                or right in ("int", "float", "bool", "Tensor")
            ):
                return "Tensor"
            return None
        if left is None or right is None:
            return None
        if isinstance(op, cst.Add):
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
        if isinstance(op, cst.Divide):
            return "float" if left in ("int", "float", "bool") and right in ("int", "float", "bool") else None
        if isinstance(op, (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo)):
            if left in ("int", "float") and right in ("int", "float"):
                return _num_join(left, right)
        return None

    def _call(self, node: cst.Call) -> str | None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in INT_FUNCS and self.lookup(func.value) is None:
            if func.value in ("int", "float") and node.args and self._type(node.args[0].value) == "Tensor":
                return func.value
            return INT_FUNCS[func.value]
        if (
            isinstance(func, cst.Name)
            and func.value == "round"
            and len(node.args) == 1
            and self.lookup("round") is None
        ):
            inner = self._type(node.args[0].value)
            return "float" if inner in ("int", "float") else ("Tensor" if inner == "Tensor" else None)
        qual = self.ctx.qualname(func) if self.ctx is not None else cst_dotted(func)
        if qual and qual.startswith("torch."):
            last = qual.rsplit(".", 1)[-1]
            mod = qual[: -len(last) - 1]
            if mod in ("torch", "torch.nn.functional", "torch.special", "torch.linalg"):
                if last in TORCH_TENSOR_LISTS:
                    return "List[Tensor]"
                if any(a.keyword is not None and a.keyword.value.startswith("return_") for a in node.args):
                    return None  # return_indices=True and friends give tuples
                if last in TORCH_TENSOR_FUNCS or (
                    mod == "torch.nn.functional"
                    and not last.startswith("_")
                    and not last.endswith("_with_indices")
                    and last not in ("multi_head_attention_forward", "has_torch_function", "pad_sequence")
                ):
                    return "Tensor"
            return None
        if isinstance(func, cst.Attribute):
            recv = self._type(func.value)
            name = func.attr.value
            if recv == "Tensor":
                if name in ("size",):
                    return "int" if node.args else "List[int]"
                if name in ("dim", "numel", "ndimension", "nelement", "element_size", "get_device"):
                    return "int"
                if name in TENSOR_LIST_METHODS:
                    return "List[Tensor]"
                if name in ("max", "min", "sort", "topk", "item", "tolist", "unique"):
                    return "Tensor" if name in ("max", "min") and not node.args else None
                if name in TENSOR_METHODS:
                    return "Tensor"
                return None
            if recv == "str" and name in ("upper", "lower", "strip", "lstrip", "rstrip", "replace", "join", "format"):
                return "str"
        return None


def module_attribute_type(ctx: FunctionContext, name: str) -> str | None:
    """The type of ``self.<name>`` as :mod:`tsscan.semantic.attributes` (the module-structure helper)
    infers it from ``__init__`` and the class annotations; None when it is not certain."""
    if ctx.cls is None:
        return None
    cache = ctx.attribute_types
    if name in cache:
        return cache[name]
    out: str | None = None
    try:
        from tsscan.semantic import attributes as attributes

        at = attributes.attribute_type(ctx.cls, name, ctx.module)
        ok_origin = at.origin in ("init", "buffer", "parameter", "builtin") or (
            at.annotated and at.origin in ("annotation", "init")
        )
        if at.known and at.ts and ok_origin and at.kind not in attributes.UNCONVERTIBLE:
            out = annotation_type(cst.parse_expression(at.ts), ctx)
    except Exception:  # the helper is optional; an attribute we cannot type is unknown
        out = None
    cache[name] = out
    return out


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


# --------------------------------------------------------------------------- flow analysis
MAYBE = "<maybe-undefined>"
CONFLICT = "<conflict>"


@dataclass
class Retype:
    node: cst.CSTNode  # the assignment target
    var: str
    old: str
    new: str
    in_loop: bool


@dataclass
class BadUse:
    node: cst.Name
    var: str
    kind: str  # "maybe" (defined on some paths only) or "conflict" (different types per arm)
    detail: str = ""


@dataclass
class ReturnInfo:
    node: cst.Return
    type: str | None  # "None" for a bare return


@dataclass
class FunctionTypes:
    """What :func:`analyse` learned about one compiled function."""

    node: cst.FunctionDef
    params: dict[str, str] = field(default_factory=dict)  # as the compiler types them
    declared: dict[str, str] = field(default_factory=dict)  # annotated params/locals
    return_annotation: str | None = None
    has_return_annotation: bool = False
    retypes: list[Retype] = field(default_factory=list)
    bad_uses: list[BadUse] = field(default_factory=list)
    returns: list[ReturnInfo] = field(default_factory=list)
    # (call, var, element type, the list's type there)
    appends: list[tuple[cst.Call, str, str | None, str | None]] = field(default_factory=list)
    empty_list_vars: dict[str, cst.CSTNode] = field(default_factory=dict)
    empty_list_assigns: dict[str, cst.Assign] = field(default_factory=dict)  # first `v = []`
    ifexps: list[tuple[cst.IfExp, str | None, str | None]] = field(default_factory=list)
    env_at: dict[int, dict[str, str | None]] = field(default_factory=dict)  # id(small stmt) -> env
    # ids of the nodes in ``if`` arms the compiler may drop (``isinstance`` / ``is None`` tests
    # it can fold on types we do not know): rules should not report there
    quiet_nodes: set[int] = field(default_factory=set)
    ctx: FunctionContext | None = None
    typer: ExprTyper | None = None

    def type_in(self, stmt: cst.CSTNode, node: cst.BaseExpression) -> str | None:
        """The type of ``node`` with the variable types in force at small statement ``stmt``
        (falls back to :meth:`type_of` for statements the flow walk did not see)."""
        env = self.env_at.get(id(stmt))
        if env is None:
            return self.type_of(node)
        return ExprTyper(self.ctx, env.get)(node)

    def type_of(self, node: cst.BaseExpression) -> str | None:
        """The type of an expression using the *parameter and declared* types only (no flow)."""
        assert self.typer is not None
        return self.typer(node)


class _Frame:
    def __init__(self, loop: bool) -> None:
        self.vars: dict[str, str | None] = {}
        self.loop = loop


def _terminates(block: Sequence[cst.BaseStatement]) -> bool:
    if not block:
        return False
    last = block[-1]
    if isinstance(last, cst.SimpleStatementLine):
        # only return/raise: TorchScript still wants variables defined in an arm that ends
        # in break/continue ("y is not defined in the true branch")
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    if isinstance(last, cst.If):
        if last.orelse is None:
            return False
        other = last.orelse.body if isinstance(last.orelse, cst.Else) else None
        if other is None:
            return _terminates(last.body.body) and _terminates([last.orelse])
        return _terminates(last.body.body) and _terminates(other.body)
    return False


class _Analyser:
    def __init__(self, fn: cst.FunctionDef, ctx: FunctionContext | None) -> None:
        self.fn = fn
        self.ctx = ctx
        self.out = FunctionTypes(fn, ctx=ctx)
        self.frames: list[_Frame] = [_Frame(False)]
        self.declared_level: dict[str, int] = {}  # frame depth of each annotation
        # annotated names a straight-line assignment gave another type: ordinary variables now
        self.rebound: set[str] = set()
        # ids of ``if`` statements whose statically taken arm returns or raises
        self.leaves: set[int] = set()
        # Optional locals refined by the ``is not None`` / ``is None`` test of the arm being walked
        self.refined: list[dict[str, str]] = []
        # > 0 inside arms the compiler may drop (an ``is None`` test it may fold on a type we
        # do not know): walked for the variables they bind, but nothing in them is reported
        self.quiet = 0
        self.type_comment = False
        self.current_assign: cst.Assign | None = None
        self.typer = ExprTyper(ctx, self.lookup)
        self.out.typer = ExprTyper(ctx, self._declared_lookup)

    # ---- environment
    def lookup(self, name: str) -> str | None:
        for ref in reversed(self.refined):
            if name in ref:
                return ref[name]
        for fr in reversed(self.frames):
            if name in fr.vars:
                t = fr.vars[name]
                return None if t in (MAYBE, CONFLICT) else t
        return None

    def _declared_lookup(self, name: str) -> str | None:
        return self.out.declared.get(name) or self.out.params.get(name)

    def _find(self, name: str) -> tuple[int, str | None]:
        for i in range(len(self.frames) - 1, -1, -1):
            if name in self.frames[i].vars:
                return i, self.frames[i].vars[name]
        return -1, None

    def assign(self, target: cst.Name, t: str | None, value: cst.CSTNode | None = None) -> None:
        name = target.value
        for ref in self.refined:
            ref.pop(name, None)  # a new value: the test no longer says anything about it
        if name in self.out.declared and name not in self.rebound:
            # annotated: the annotation is its type; an empty literal takes it as a hint
            level = self.declared_level.get(name, 0)
            empty = isinstance(value, (cst.List, cst.Dict)) and not value.elements
            declared = self.out.declared[name]
            if t is None or empty or assignable(declared, t) or implicitly_converted(declared, t):
                return
            if len(self.frames) - 1 == level:
                # a straight-line rebinding in the annotation's own block gives the variable
                # the new type (`x: List[Tensor]` then `x = torch.cat(x, 1)` compiles); from
                # here on it is an ordinary variable
                self.rebound.add(name)
                self.frames[level].vars[name] = t
                return
            in_loop = any(fr.loop for fr in self.frames[level + 1 :])
            if not self.quiet:
                self.out.retypes.append(Retype(target, name, declared, t, in_loop))
            return
        i, old = self._find(name)
        top = len(self.frames) - 1
        if i == -1 or old in (MAYBE, CONFLICT):
            self.frames[top].vars[name] = t
            return
        if i == top:
            self.frames[top].vars[name] = t  # straight-line rebinding may change the type
            return
        if old is not None and t is not None and not assignable(old, t) and not implicitly_converted(old, t):
            in_loop = any(fr.loop for fr in self.frames[i + 1 :])
            if not self.quiet:
                self.out.retypes.append(Retype(target, name, old, t, in_loop))
            return
        self.frames[i].vars[name] = old if t is None else (old or t)

    # ---- uses
    def uses(self, node: cst.CSTNode) -> None:
        class Uses(cst.CSTVisitor):
            def __init__(inner) -> None:
                super().__init__()
                inner.bound: list[str] = []

            def visit_Attribute(inner, n: cst.Attribute) -> bool:
                walk(n.value, inner)
                return False

            def visit_Arg(inner, n: cst.Arg) -> bool:
                walk(n.value, inner)
                return False

            def visit_CompFor(inner, n: cst.CompFor) -> None:
                for nm in _target_names(n.target):
                    inner.bound.append(nm.value)

            def _comprehension(inner, n) -> None:
                # the element is visited before the ``for`` clauses: bind their targets first
                # (a comprehension's own variables are not the function's)
                fc = n.for_in
                while fc is not None:
                    for nm in _target_names(fc.target):
                        inner.bound.append(nm.value)
                    fc = fc.inner_for_in

            visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

            def visit_Lambda(inner, n: cst.Lambda) -> bool:
                return False

            def visit_IfExp(inner, n: cst.IfExp) -> None:
                if (
                    not inner.bound
                    and not self.quiet
                    and not self.uncertain_none_test(n.test)
                    and not _has_isinstance(n.test)
                ):
                    self.out.ifexps.append((n, self.typer(n.body), self.typer(n.orelse)))

            def visit_Name(inner, n: cst.Name) -> None:
                if n.value in inner.bound:
                    return
                _, t = self._find(n.value)
                if self.quiet:
                    return
                if t == MAYBE:
                    self.out.bad_uses.append(BadUse(n, n.value, "maybe"))
                elif t == CONFLICT:
                    self.out.bad_uses.append(BadUse(n, n.value, "conflict"))

        walk(node, Uses())

    # ---- statements
    def block(self, stmts: Sequence[cst.BaseStatement]) -> bool:
        """Walk a block; True when a statically taken arm in it returns or raises (the rest
        of the block is not compiled)."""
        for s in stmts:
            self.statement(s)
            if isinstance(s, cst.If) and id(s) in self.leaves:
                return True
        return False

    def statement(self, s: cst.BaseStatement) -> None:  # noqa: C901
        if isinstance(s, cst.SimpleStatementLine):
            comment = s.trailing_whitespace.comment
            # ``x = []  # type: List[int]``: another rule's finding; do not guess the type here
            self.type_comment = comment is not None and comment.value.lstrip("#").strip().startswith("type:")
            for small in s.body:
                self.small(small)
            self.type_comment = False
        elif isinstance(s, cst.If):
            self.if_(s)
        elif isinstance(s, cst.For) and unrolled_loop(s.iter, self.ctx):
            self.uses(s.iter)
            self._unrolled(s)
        elif isinstance(s, (cst.For, cst.While)):
            if isinstance(s, cst.For):
                self.uses(s.iter)
            else:
                self.uses(s.test)
            fr = _Frame(True)
            self.frames.append(fr)
            if isinstance(s, cst.For):
                for nm in _target_names(s.target):
                    fr.vars[nm.value] = self._loop_target_type(s)
            self.block(s.body.body)
            self.frames.pop()
            # names first bound in the loop (its target too) are undefined after it
            for name in fr.vars:
                if self._find(name)[0] == -1:
                    self.frames[-1].vars[name] = MAYBE
        elif isinstance(s, cst.With):
            for item in s.items:
                self.uses(item.item)
                if item.asname is not None:
                    for nm in _target_names(item.asname.name):
                        self.assign(nm, None)
            self.block(s.body.body)
        elif isinstance(s, cst.FunctionDef):
            pass
        else:  # try and other compound statements: be quiet
            pass

    def _unrolled(self, s: cst.For) -> None:
        """A loop over a module container: the compiler unrolls it, one copy of the body per
        module, so the body is straight-line code in the enclosing block. The number of copies
        is not known here (none at all for an empty container), so every variable the body
        binds or changes has an unknown type afterwards."""
        top = self.frames[-1]
        before = dict(top.vars)
        for nm in _target_names(s.target):
            top.vars[nm.value] = None
        self.block(s.body.body)
        for name, t in list(top.vars.items()):
            if name not in before or before[name] != t:
                top.vars[name] = None

    def _loop_target_type(self, s: cst.For) -> str | None:
        it = s.iter
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range":
            return "int" if isinstance(s.target, cst.Name) else None
        t = self.typer(it)
        if isinstance(s.target, cst.Name) and t and t.startswith("List["):
            return t[len("List[") : -1]
        return None

    def _none_test_live_arm(self, s: cst.If) -> int | None:
        """0/1: the arm that stays when the test is ``v is None`` / ``v is not None`` and
        ``v``'s type decides it (the compiler skips the other arm: ``None`` is always None, a
        Tensor or int never is)."""
        test = s.test
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            return None
        op = test.comparisons[0].operator
        left, right = test.left, test.comparisons[0].comparator
        if isinstance(left, cst.Name) and left.value == "None":
            left, right = right, left
        if not (
            isinstance(op, (cst.Is, cst.IsNot))
            and isinstance(left, cst.Name)
            and isinstance(right, cst.Name)
            and right.value == "None"
        ):
            return None
        t = self.lookup(left.value)
        if t is None or t.startswith(("Optional[", "Union[")) or t == "Any":
            return None
        is_none = t == "None"
        if isinstance(op, cst.IsNot):
            is_none = not is_none
        return 0 if is_none else 1

    def uncertain_none_test(self, test: cst.BaseExpression) -> bool:
        """True when ``test`` compares something with ``None`` (``is``/``is not``) whose type
        we do not know to be Optional: the compiler folds such tests when the value's type is
        NoneType or can never be None, and then drops an arm."""
        for n in walk_expr(test):
            if not isinstance(n, cst.Comparison):
                continue
            operands = [n.left] + [c.comparator for c in n.comparisons]
            for k, c in enumerate(n.comparisons):
                if not isinstance(c.operator, (cst.Is, cst.IsNot)):
                    continue
                a, b = operands[k], operands[k + 1]
                if isinstance(a, cst.Name) and a.value == "None":
                    a, b = b, a
                if not (isinstance(b, cst.Name) and b.value == "None"):
                    continue
                t = self.typer(a)
                if t is None or not (t.startswith(("Optional[", "Union[")) or t == "Any"):
                    return True
        return False

    def if_(self, s: cst.If) -> None:
        self.uses(s.test)
        live = _scripting_live_arm(s, self.ctx)
        static = None
        if live is None:
            static = _static_truth(s.test, self.ctx)
            if static == "true":
                live = 0
            elif static == "false":
                live = 1
        if live is None:
            live = self._none_test_live_arm(s)
        if live is not None:
            arm = (
                s.body.body
                if live == 0
                else (
                    s.orelse.body.body
                    if isinstance(s.orelse, cst.Else)
                    else ([s.orelse] if s.orelse is not None else None)
                )
            )
            if arm is not None and _terminates(arm):
                self.leaves.add(id(s))
        if live is None and (static == "varies" or self.uncertain_none_test(s.test) or _has_isinstance(s.test)):
            self.quiet += 1
            for arm in (s.body, s.orelse):
                if arm is not None:
                    self.out.quiet_nodes.update(id(n) for n in walk_expr(arm))
            try:
                self._if_arms(s, None)
            finally:
                self.quiet -= 1
            return
        self._if_arms(s, live)

    def _if_arms(self, s: cst.If, live: int | None) -> None:
        arms: list[Sequence[cst.BaseStatement] | None] = [s.body.body]
        if s.orelse is None:
            arms.append(None)
        elif isinstance(s.orelse, cst.Else):
            arms.append(s.orelse.body.body)
        else:
            arms.append([s.orelse])
        if live is not None:
            if arms[live] is not None and self.block(arms[live]):  # type: ignore[arg-type]
                self.leaves.add(id(s))
            return
        results: list[dict[str, str | None] | None] = []
        for k, arm in enumerate(arms):
            fr = _Frame(False)
            self.frames.append(fr)
            self.refined.append(self._refinements(s.test, k == 0))
            left = False
            try:
                if arm is not None:
                    left = self.block(arm)
            finally:
                self.refined.pop()
            self.frames.pop()
            results.append(None if arm is not None and (left or _terminates(arm)) else fr.vars)
        live_arms = [r for r in results if r is not None]
        if not live_arms:
            return
        names = set().union(*[set(r) for r in live_arms])
        for name in names:
            if self._find(name)[0] != -1 and self._find(name)[1] not in (MAYBE, CONFLICT):
                continue
            types = [r.get(name, MAYBE) for r in live_arms]
            if self.quiet and (MAYBE in types or len(set(types)) > 1):
                self.frames[-1].vars[name] = None  # which arm survives is not known
            elif MAYBE in types:
                self.frames[-1].vars[name] = MAYBE
            elif len(set(types)) == 1:
                self.frames[-1].vars[name] = types[0]
            elif None in types or any(t == CONFLICT for t in types):
                self.frames[-1].vars[name] = None
            elif all(unifiable(a, b) for a in types for b in types):
                self.frames[-1].vars[name] = None  # an Optional or a merged tuple: not modelled
            else:
                self.frames[-1].vars[name] = CONFLICT

    def _refinements(self, test: cst.BaseExpression, true_arm: bool) -> dict[str, str]:
        """``{name: T}`` for Optional[T] locals the test proves not None in this arm
        (``v is not None`` and ``and`` chains of it in the true arm, ``v is None`` in the
        false arm): the compiler refines them there."""
        out: dict[str, str] = {}
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) and true_arm:
            out.update(self._refinements(test.left, True))
            out.update(self._refinements(test.right, True))
            return out
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            return out
        op = test.comparisons[0].operator
        left, right = test.left, test.comparisons[0].comparator
        if isinstance(left, cst.Name) and left.value == "None":
            left, right = right, left
        if not (isinstance(left, cst.Name) and isinstance(right, cst.Name) and right.value == "None"):
            return out
        if isinstance(op, cst.IsNot) == true_arm and isinstance(op, (cst.Is, cst.IsNot)):
            t = self.lookup(left.value)
            if is_optional(t):
                out[left.value] = t[len("Optional[") : -1]  # type: ignore[index]
        return out

    def _flat_env(self) -> dict[str, str | None]:
        env: dict[str, str | None] = {}
        for fr in self.frames:
            for k, v in fr.vars.items():
                env[k] = None if v in (MAYBE, CONFLICT) else v
        return env

    def small(self, s: cst.BaseSmallStatement) -> None:
        self.out.env_at[id(s)] = self._flat_env()
        if isinstance(s, cst.Assign):
            self.uses(s.value)
            t = None if self.type_comment else self.typer(s.value)
            self.current_assign = s
            for tgt in s.targets:
                self._bind(tgt.target, t, s.value)
            self.current_assign = None
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.uses(s.value)
            if isinstance(s.target, cst.Name):
                at = annotation_type(s.annotation, self.ctx)
                if at is not None:
                    self.out.declared[s.target.value] = at
                    self.declared_level.setdefault(s.target.value, len(self.frames) - 1)
                    self.frames[-1].vars.setdefault(s.target.value, at)
                else:
                    self.frames[-1].vars[s.target.value] = None
        elif isinstance(s, cst.AugAssign):
            self.uses(s.value)
            self.uses(s.target)
            if isinstance(s.target, cst.Name):
                bop = (
                    cst.BinaryOperation(s.target, _AUG_TO_BIN.get(type(s.operator), cst.Add)(), s.value)
                    if type(s.operator) in _AUG_TO_BIN
                    else None
                )
                self.assign(s.target, self.typer(bop) if bop is not None else None)
        elif isinstance(s, cst.Return):
            if s.value is not None:
                self.uses(s.value)
            if not self.quiet:  # a return in an arm the compiler may drop does not count
                self.out.returns.append(ReturnInfo(s, self.typer(s.value) if s.value is not None else "None"))
        elif isinstance(s, cst.Expr):
            self.uses(s.value)
            v = s.value
            if (
                isinstance(v, cst.Call)
                and isinstance(v.func, cst.Attribute)
                and v.func.attr.value == "append"
                and isinstance(v.func.value, cst.Name)
                and len(v.args) == 1
            ):
                var = v.func.value.value
                if not self.quiet:
                    self.out.appends.append((v, var, self.typer(v.args[0].value), self.lookup(var)))
        else:
            self.uses(s)

    def _bind(self, target: cst.BaseExpression, t: str | None, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            if isinstance(value, cst.List) and not value.elements and not self.type_comment:
                self.out.empty_list_vars.setdefault(target.value, target)
                if self.current_assign is not None and len(self.current_assign.targets) == 1:
                    self.out.empty_list_assigns.setdefault(target.value, self.current_assign)
            self.assign(target, t, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            parts = split_type_args(t) if t and t.startswith("Tuple[") else None
            elts = target.elements
            for k, el in enumerate(elts):
                sub = el.value
                st = parts[k] if parts is not None and len(parts) == len(elts) and "..." not in parts else None
                if t == "List[int]" or (t and t.startswith("List[")):
                    st = t[len("List[") : -1]
                if isinstance(sub, (cst.Name, cst.Tuple, cst.List)):
                    self._bind(sub, st, value)
        else:
            self.uses(target)


_AUG_TO_BIN = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.ModuloAssign: cst.Modulo,
}


def _target_names(t: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(t, cst.Name):
        return [t]
    if isinstance(t, (cst.Tuple, cst.List)):
        out: list[cst.Name] = []
        for el in t.elements:
            out.extend(_target_names(el.value))
        return out
    return []


def unrolled_loop(it: cst.BaseExpression, ctx: FunctionContext | None) -> bool:
    """Whether ``for ... in it`` iterates a module container (``self.blocks``, the module
    itself when it is a ``Sequential``/``ModuleList`` subclass, ``enumerate``/``zip`` of one,
    ``self.heads.values()``/``.items()``/``.keys()``): the compiler unrolls such loops."""
    if ctx is None or ctx.cls is None or not ctx.cls.is_module:
        return False
    from tsscan.semantic import attributes as A

    def container(e: cst.BaseExpression) -> bool:
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute) and not e.args:
            if e.func.attr.value in ("values", "items", "keys"):
                name = ctx.self_attr(e.func.value)
                return name is not None and A.attribute_type(ctx.cls, name, ctx.module).kind == A.MODULEDICT
            return False
        if isinstance(e, cst.Name) and e.value == ctx.self_name:
            return _container_class(ctx)
        name = ctx.self_attr(e)
        return name is not None and A.attribute_type(ctx.cls, name, ctx.module).kind in A.MODULE_CONTAINERS

    if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value in ("enumerate", "zip"):
        args = [a.value for a in it.args if a.keyword is None and not a.star]
        if it.func.value == "enumerate":
            return bool(args) and container(args[0])
        return any(container(a) for a in args)
    return container(it)


def _container_class(ctx: FunctionContext) -> bool:
    """The class derives (directly or through local classes) from a torch.nn container."""
    for cls in ctx.cls.mro():
        for name in cls.bases:
            if name.startswith("torch.nn") and name.rsplit(".", 1)[-1] in ("Sequential", "ModuleList", "ModuleDict"):
                return True
    return False


def _has_isinstance(test: cst.BaseExpression) -> bool:
    for n in walk_expr(test):
        if isinstance(n, cst.Call):
            f = n.func
            name = f.value if isinstance(f, cst.Name) else (f.attr.value if isinstance(f, cst.Attribute) else "")
            if name == "isinstance":
                return True
    return False


def _static_truth(test: cst.BaseExpression, ctx: FunctionContext | None) -> str | None:
    """ "true"/"false" when the compiler decides ``test`` while compiling (``x and not
    torch.jit.is_scripting()``, ``self.down is None`` for an attribute that is always None,
    a ``Final`` bool), "varies" when that depends on how the module was built, else None
    (:mod:`tsscan.semantic.static`)."""
    if ctx is None:
        return None
    try:
        from tsscan.semantic.attributes import cst_expr_to_ast
        from tsscan.semantic.static import Evaluator

        node = cst_expr_to_ast(test)
        if node is None:
            return None
        return Evaluator(ctx.module, ctx.cls, ctx.self_name)(node)
    except Exception:  # an expression the evaluator does not know: decided at run time
        return None


def _scripting_live_arm(s: cst.If, ctx: FunctionContext | None) -> int | None:
    """0/1: the arm that stays when the test is ``torch.jit.is_scripting()`` (or its negation)."""
    test = s.test
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, True
    if isinstance(test, cst.Call) and not test.args and ctx is not None:
        if ctx.qualname(test.func) == "torch.jit.is_scripting":
            return 1 if negated else 0
    return None


def param_list(fn: cst.FunctionDef) -> list[cst.Param]:
    p = fn.params
    out = list(p.posonly_params) + list(p.params) + list(p.kwonly_params)
    return out


def analyse(fn: cst.FunctionDef, ctx: FunctionContext | None) -> FunctionTypes:
    """Analyse ``fn`` (cached on ``ctx`` per function node)."""
    if ctx is not None and (known := ctx.cached("types", fn)) is not None:
        return known
    an = _Analyser(fn, ctx)
    self_name = ctx.self_name if ctx is not None else None
    params = param_list(fn)
    for k, p in enumerate(params):
        name = p.name.value
        if k == 0 and self_name is not None and name == self_name:
            continue
        if p.annotation is None:
            t: str | None = "Tensor"
        else:
            t = annotation_type(p.annotation.annotation, ctx)
            if t is not None:
                an.out.declared[name] = t
        if t is not None:
            an.out.params[name] = t
        an.frames[0].vars[name] = t
    for star in (fn.params.star_arg, fn.params.star_kwarg):
        if isinstance(star, cst.Param):
            an.frames[0].vars[star.name.value] = None
    an.out.has_return_annotation = fn.returns is not None
    if fn.returns is not None:
        an.out.return_annotation = annotation_type(fn.returns.annotation, ctx)
    body = fn.body
    if isinstance(body, cst.IndentedBlock):
        an.block(body.body)
    if ctx is not None:
        ctx.remember("types", fn, an.out)
    return an.out


# --------------------------------------------------------------------------- helpers for rules
def iter_annotations(fn: cst.FunctionDef):
    """(annotation expression, kind, param or None) for the parameters, the return and the
    annotated locals of ``fn``; kind is "param", "return" or "local"."""
    for p in param_list(fn) + [a for a in (fn.params.star_arg, fn.params.star_kwarg) if isinstance(a, cst.Param)]:
        if p.annotation is not None:
            yield p.annotation.annotation, "param", p
    if fn.returns is not None:
        yield fn.returns.annotation, "return", None
    for a in _annotated_locals(fn):
        yield a.annotation.annotation, "local", None


# the annotated locals of the last few functions: several rules ask for the same function's
# (each walk of a function costs about as much as all the rules' own visits of it)
_ANN_LOCALS: dict[int, tuple[cst.FunctionDef, list[cst.AnnAssign]]] = {}


def _annotated_locals(fn: cst.FunctionDef) -> list[cst.AnnAssign]:
    hit = _ANN_LOCALS.get(id(fn))
    if hit is not None and hit[0] is fn:  # the node is held, so its id is not reused
        return hit[1]
    found: list[cst.AnnAssign] = []

    class Finder(cst.CSTVisitor):
        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            found.append(n)

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is fn

        def visit_Lambda(self, n: cst.Lambda) -> bool:
            return False

    walk(fn, Finder())
    if len(_ANN_LOCALS) >= 32:
        _ANN_LOCALS.pop(next(iter(_ANN_LOCALS)))
    _ANN_LOCALS[id(fn)] = (fn, found)
    return found


def walk_expr(node: cst.CSTNode):
    """Every node of an expression tree (pre-order)."""
    out: list[cst.CSTNode] = []

    class W(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            out.append(n)
            return True

    walk(node, W())
    return out


class RootOnly:
    """Mixin state for rules that analyse each compiled function once, at its root FunctionDef."""

    def is_root(self, node: cst.FunctionDef) -> bool:
        seen = getattr(self, "_typemodel_root", None)
        if seen is None or seen[0] is not self.ctx:  # type: ignore[attr-defined]
            self._typemodel_root = (self.ctx, node)  # type: ignore[attr-defined]
            return True
        return seen[1] is node


def refined_names(fn: cst.FunctionDef) -> set[str]:
    """Names the function compares with ``is``/``is not``, checks with ``isinstance``,
    unwraps, asserts on or rebinds: any of these may refine an Optional, so rules stay quiet."""
    out: set[str] = set()

    class V(cst.CSTVisitor):
        def visit_Comparison(self, n: cst.Comparison) -> None:
            if any(isinstance(c.operator, (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)) for c in n.comparisons):
                for sub in [n.left] + [c.comparator for c in n.comparisons]:
                    if isinstance(sub, cst.Name):
                        out.add(sub.value)

        def visit_Call(self, n: cst.Call) -> None:
            f = n.func
            name = f.value if isinstance(f, cst.Name) else (f.attr.value if isinstance(f, cst.Attribute) else "")
            if name in ("isinstance", "_unwrap_optional"):
                for a in n.args:
                    if isinstance(a.value, cst.Name):
                        out.add(a.value.value)

        def visit_Assert(self, n: cst.Assert) -> None:
            for sub in walk_expr(n.test):
                if isinstance(sub, cst.Name):
                    out.add(sub.value)

        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            for sub in walk_expr(n.target):
                if isinstance(sub, cst.Name):
                    out.add(sub.value)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            if isinstance(n.target, cst.Name):
                out.add(n.target.value)

        def visit_If(self, n: cst.If) -> None:
            if isinstance(n.test, cst.Name):
                out.add(n.test.value)

        def visit_BooleanOperation(self, n: cst.BooleanOperation) -> None:
            for side in (n.left, n.right):
                if isinstance(side, cst.Name):
                    out.add(side.value)

    walk(fn.body, V())
    return out


def value_uses(fn: cst.FunctionDef, ctx) -> dict[int, cst.CSTNode]:
    """id -> node for expressions used as *values* that must not be None: operands of
    arithmetic, receivers of method calls and attribute reads, subscripted values. (Not
    call arguments: many torch functions take Optional arguments.)"""
    out: dict[int, cst.CSTNode] = {}

    class V(cst.CSTVisitor):
        def visit_BinaryOperation(self, n: cst.BinaryOperation) -> None:
            out[id(n.left)] = n.left
            out[id(n.right)] = n.right

        def visit_UnaryOperation(self, n: cst.UnaryOperation) -> None:
            if not isinstance(n.operator, cst.Not):
                out[id(n.expression)] = n.expression

        def visit_Attribute(self, n: cst.Attribute) -> None:
            out[id(n.value)] = n.value

        def visit_Subscript(self, n: cst.Subscript) -> None:
            out[id(n.value)] = n.value

    walk(fn.body, V())
    return out


def in_quiet_arm(ctx: FunctionContext | None, node: cst.CSTNode) -> bool:
    """True when ``node`` lies in an ``if`` arm the compiler may drop on types the model does
    not know (see :attr:`FunctionTypes.quiet_nodes`); needs :func:`analyse` run first."""
    known = ctx.analyses.get("types") if ctx is not None else None
    return known is not None and id(node) in known[1].quiet_nodes
