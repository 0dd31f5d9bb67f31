"""What kind of value an expression in compiled code can be, coarsely: enough to tell whether
``x.bool()`` is a Tensor method call or ``reversed(xs)`` iterates a list.

Kinds:

* ``TENSOR``: a Tensor for sure (an unannotated or ``Tensor``-annotated parameter, a buffer);
* ``SEQUENCE``: a list, tuple, str, dict, range or ``nn.ModuleList``-like container;
* ``SCALAR``: an int/float/bool/None;
* ``MODULE``: ``self``, a submodule, a Python module, class or function (never a Tensor);
* ``UNKNOWN``: anything else.

Rules that flag Tensor methods stay silent on ``SEQUENCE``/``SCALAR``/``MODULE`` receivers;
rules that flag list-only builtins fire only on ``SEQUENCE``. Local variables get the kind of
their assignments when all of them agree. Nothing here imports torch.
"""

from __future__ import annotations

import ast
from functools import cached_property

import libcst as cst

from tsscan.semantic.annotations import annotation_type, param_list
from tsscan.semantic.exprs import ExprTyper
from tsscan.semantic.flow import analyse
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.function import cst_dotted
from tsscan.semantic.function_types import bindings_of

TENSOR = "tensor"
SEQUENCE = "sequence"
SCALAR = "scalar"
MODULE = "module"
UNKNOWN = "unknown"

_SEQ_ANN = {
    "List",
    "list",
    "Tuple",
    "tuple",
    "Dict",
    "dict",
    "str",
    "Set",
    "set",
    "typing.List",
    "typing.Tuple",
    "typing.Dict",
    "typing.Set",
}
_SCALAR_ANN = {"int", "float", "bool", "complex", "None"}
_SEQ_CALLS = {"list", "tuple", "dict", "sorted", "range", "str", "zip", "enumerate"}
_SCALAR_CALLS = {"len", "int", "float", "bool", "abs", "round", "ord", "hash"}
_NN_CONTAINERS = ("ModuleList", "Sequential", "ModuleDict", "ParameterList", "ParameterDict")
_TENSOR_INIT_CALLS = ("torch.nn.Parameter", "torch.nn.parameter.Parameter")


def annotation_kind(ann: cst.BaseExpression | None, ctx: FunctionContext) -> str:
    """The kind of a value annotated ``ann``; anything that is not Tensor-like, a sequence
    or a scalar (a TorchScript class, a NamedTuple, ...) is ``MODULE``: never a Tensor."""
    if ann is None:
        return UNKNOWN
    known = kind_of_type(annotation_type(ann, ctx))
    if known != UNKNOWN:
        return known
    # what the type model does not spell: classes of the file and imported names
    if isinstance(ann, cst.BinaryOperation):  # X | None
        return UNKNOWN
    if isinstance(ann, (cst.SimpleString, cst.ConcatenatedString)):
        return UNKNOWN  # forward reference
    base = ann.value if isinstance(ann, cst.Subscript) else ann
    name = cst_dotted(base)
    if name is None:
        return UNKNOWN
    resolved = ctx.qualname(base) or name
    short = resolved.rsplit(".", 1)[-1]
    if name in _SEQ_ANN or resolved in _SEQ_ANN:
        return SEQUENCE
    if name in _SCALAR_ANN:
        return SCALAR
    if resolved in ("torch.Tensor", "Tensor", "torch.nn.Parameter") or short == "Tensor":
        return TENSOR if not isinstance(ann, cst.Subscript) else UNKNOWN
    if short in ("Optional", "Union", "Any", "Final"):
        return UNKNOWN
    if name in ctx.module.classes:
        return MODULE
    if resolved.startswith(("typing.", "torch.")):
        return UNKNOWN
    return MODULE if name in ctx.module.aliases else UNKNOWN


def kind_of_type(t: str | None) -> str:
    """The coarse view of a TorchScript type (see :mod:`tsscan.semantic.types`)."""
    if t is None:
        return UNKNOWN
    if t == "Tensor":
        return TENSOR
    if t in ("int", "float", "bool", "complex", "None"):
        return SCALAR
    if t == "str" or t.startswith(("List[", "Tuple[", "Dict[")):
        return SEQUENCE
    return UNKNOWN


def _const_kind(node: cst.BaseExpression) -> str | None:
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
        return SCALAR
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return SCALAR
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return SEQUENCE
    if isinstance(node, (cst.List, cst.Tuple, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
        return SEQUENCE
    return None


class Kinds:
    """The coarse kinds of one compiled function's expressions: a view of the type model.

    Everything here comes from the model: the names the body binds and what it binds them to
    (:class:`~tsscan.semantic.function_types.Bindings`), the TorchScript type of an expression
    (:class:`~tsscan.semantic.exprs.ExprTyper` with the annotated and never-rebound names of
    :func:`~tsscan.semantic.flow.analyse`), the file's imports, functions and classes
    (:class:`~tsscan.semantic.module.ModuleInfo`) and the class's attributes
    (:class:`~tsscan.semantic.module.ClassInfo`). Where the model has no type, :meth:`kind`
    reads these facts as coarse kinds: a local gets the kind all its bindings agree on
    (:meth:`name_kind`), ``self.x`` the kind of what ``__init__`` makes of it
    (:meth:`self_attr_kind`), a call of a builtin or a class the kind of what it returns.

    Rules reach it as ``ctx.kinds`` (:class:`tsscan.context.FunctionContext`), made once per
    function and shared; it keeps nothing but the kinds of the parameters and annotated
    locals it was asked about."""

    def __init__(self, ctx: FunctionContext) -> None:
        assert ctx.node is not None, "the engine sets the function before the rules run"
        self.ctx = ctx
        self.node = ctx.node
        self.bindings = bindings_of(ctx.node, ctx)
        # the model's expression types, with the names no binding of the function can change
        self._typer = ExprTyper(ctx, self._name_type)
        self._annotated: dict[str, str] = {}
        self._busy: set[str] = set()

    @cached_property
    def _params(self) -> dict[str, str]:
        """The kind of each parameter: ``self`` a module, one without annotation a Tensor
        (TorchScript's default), ``*args``/``**kwargs`` sequences, else its annotation's."""
        fn = self.node
        me = self.ctx.self_name
        params: dict[str, str] = {}
        for p in param_list(fn):
            name = p.name.value
            if name == me:
                params[name] = MODULE
            elif p.annotation is None:
                params[name] = TENSOR
            else:
                params[name] = annotation_kind(p.annotation.annotation, self.ctx)
        for star in (fn.params.star_arg, fn.params.star_kwarg):
            if isinstance(star, cst.Param):
                params[star.name.value] = SEQUENCE
        return params

    def _annotated_kind(self, name: str) -> str:
        kind = self._annotated.get(name)
        if kind is None:
            kind = self._annotated[name] = annotation_kind(self.bindings.annotated[name], self.ctx)
        return kind

    def name_kind(self, name: str) -> str:
        """The kind of the name ``name`` where the type model has no type for it: an annotated
        local's annotation; a parameter never rebound, its own; a local, the kind every value
        bound to it (and the parameter it rebinds) agrees on, UNKNOWN when they differ or a
        value is unknown; a global name of the file's imports, functions and classes, MODULE."""
        bindings = self.bindings
        if name in bindings.annotated:
            return self._annotated_kind(name)
        params = self._params
        if name in params and name not in bindings.assigned:
            return params[name]
        if name in bindings.assigned:
            if name in self._busy:
                return UNKNOWN
            self._busy.add(name)
            try:
                values = bindings.assigned[name]
                kinds = {self.kind(v) if v is not None else UNKNOWN for v in values}
                if name in params:
                    kinds.add(params[name])
            finally:
                self._busy.discard(name)
            return kinds.pop() if len(kinds) == 1 else UNKNOWN
        # not local: a module-level name
        mod = self.ctx.module
        if name in mod.aliases or name in mod.functions or name in mod.classes:
            return MODULE
        return UNKNOWN

    def self_attr_kind(self, attr: str) -> str:
        """The kind of ``self.<attr>`` from the class's attribute facts
        (:meth:`~tsscan.semantic.module.ClassInfo.attribute`): a method, a submodule or a module
        class built in ``__init__`` is MODULE, a buffer or parameter a Tensor, a literal a
        sequence or a scalar, an ``nn.ModuleList``-like container a sequence."""
        cls = self.ctx.cls
        if cls is None:
            return UNKNOWN
        if cls.find_method(attr) is not None:
            return MODULE
        a = cls.attribute(attr)
        if a is None:
            return UNKNOWN
        if a.where in ("buffer", "parameter"):
            return TENSOR
        if a.where == "submodule":
            return MODULE
        if a.annotation and "Tensor" in a.annotation and "[" not in a.annotation:
            return TENSOR
        value = a.value
        if value is None:
            return UNKNOWN
        if isinstance(value, (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp)):
            return SEQUENCE
        if isinstance(value, ast.Constant):
            return SEQUENCE if isinstance(value.value, (str, bytes)) else SCALAR
        if isinstance(value, ast.Call):
            callee = self.ctx.module.resolve_node(value.func) or ""
            short = callee.rsplit(".", 1)[-1]
            if callee in _TENSOR_INIT_CALLS:
                return TENSOR
            if callee.startswith("torch.nn.") and short in _NN_CONTAINERS:
                return SEQUENCE
            if callee.startswith("torch.nn.") and short[:1].isupper():
                return MODULE
            if callee in self.ctx.module.classes:
                return MODULE  # a submodule or a TorchScript class instance
        return UNKNOWN

    def kind(self, node: cst.BaseExpression | None) -> str:
        """The type model's answer where it has one (:func:`kind_of_type`); else what the
        names' bindings, the file's imports and the class's attributes say."""
        if node is None:
            return UNKNOWN
        const = _const_kind(node)
        if const is not None:
            return const
        known = kind_of_type(self._typer(node))
        return known if known != UNKNOWN else self._kind(node)

    def _name_type(self, name: str) -> str | None:
        """A name's TorchScript type where no binding in the function can change it: an
        annotated name, or a parameter never assigned; other names are left to :meth:`name_kind`."""
        types = analyse(self.node, self.ctx)
        if name in types.declared:
            return types.declared[name]
        if name in self.bindings.params and name not in self.bindings.assigned:
            return types.params.get(name)
        return None

    def _kind(self, node: cst.BaseExpression) -> str:  # a flat dispatch
        if isinstance(node, cst.Name):
            return self.name_kind(node.value)
        if isinstance(node, cst.Attribute):
            attr = self.ctx.self_attr(node)
            if attr is not None:
                return self.self_attr_kind(attr)
            if node.attr.value == "shape" and self.kind(node.value) == TENSOR:
                return SEQUENCE  # List[int] in TorchScript
            head = cst_dotted(node)
            if head is not None:
                first = head.split(".", 1)[0]
                if first not in self.bindings.local_names and (
                    first in self.ctx.module.aliases or first in self.ctx.module.classes
                ):
                    return MODULE  # np.linalg, torch.nn.functional, math.pi ...
            return UNKNOWN
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Name) and func.value not in self.bindings.local_names:
                local_cls = self.ctx.module.classes.get(func.value)
                if local_cls is not None:
                    return MODULE  # a module or a TorchScript class instance
                if func.value in _SEQ_CALLS and not self.ctx.module.binds(func.value):
                    return SEQUENCE
                if func.value in _SCALAR_CALLS and not self.ctx.module.binds(func.value):
                    return SCALAR
            if isinstance(func, cst.Attribute) and func.attr.value in ("keys", "values", "items", "split"):
                if self.kind(func.value) == SEQUENCE:
                    return SEQUENCE
            if isinstance(func, cst.Attribute) and func.attr.value in ("size", "dim", "numel", "item"):
                if func.attr.value == "size" and not node.args:
                    return SEQUENCE
                if self.kind(func.value) == TENSOR:
                    return SCALAR
            return UNKNOWN
        if isinstance(node, cst.Subscript):
            return UNKNOWN
        return UNKNOWN

    def can_be_tensor(self, node: cst.BaseExpression) -> bool:
        return self.kind(node) in (TENSOR, UNKNOWN)


def torch_prefix(ctx: FunctionContext, written: str) -> str | None:
    """``"torch."`` (or ``"th."``) to write new ``torch.X`` names with: the module prefix of
    ``written`` (``"th.LongTensor"`` -> ``"th."``) when it names torch, else a name the file
    binds to the torch module; None when there is none (``from torch import Tensor`` only)."""
    head = written.rpartition(".")[0]
    if head and ctx.module.resolve(head) == "torch":
        return head + "."
    if ctx.module.aliases.get("torch") == "torch":
        return "torch."
    for local, origin in sorted(ctx.module.aliases.items()):
        if origin == "torch":
            return local + "."
    return None
