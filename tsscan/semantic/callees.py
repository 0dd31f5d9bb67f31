"""What a call in compiled code calls, with the signatures the compiler checks it against.

- ``torch.X(...)``, ``F.X(...)``: the knowledge table's overloads (operators and the torch
  functions TorchScript compiles from source; a ``boolean_dispatch`` flag given as ``True``/``False``
  picks its function);
- ``t.X(...)`` on a value the model types ``Tensor``: the Tensor method's overloads;
- ``helper(...)``: a function of the same file;
- ``self.helper(...)``: a method of the class (not one a subclass in the file overrides);
- ``self.block(...)``: the ``forward`` of a submodule whose class is defined in the file.

:func:`operator_overloads` answers the narrower question of TS218/TS422: the registered schemas
of a torch operator or Tensor method called there.

Signatures of user code come from its annotations: an unannotated parameter is a Tensor. A
callee the compiler would reject itself (``*args``, an unannotated parameter with a non-None
default), one with decorators other than ``torch.jit.script``/``staticmethod``, and ``@overload``
families are not resolved: the answer is None, and nothing is checked.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from tsscan.semantic import astwalk, config, nn_forwards
from tsscan.semantic.annotations import annotation_type
from tsscan.semantic.calls import Callee
from tsscan.semantic.crossing import text_to_cst
from tsscan.semantic.foreign import Foreign
from tsscan.semantic.function import FunctionFacts, cst_dotted
from tsscan.semantic.function_types import bindings_of
from tsscan.semantic.knowledge import Param, Signature
from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo, dotted
from tsscan.semantic.submodules import overloaded, own_method, submodule_class
from tsscan.semantic.values import MODULE
from tsscan.walk import children, walk

_ALLOWED_DECORATORS = {"torch.jit.script", "staticmethod", "torch.jit.export", "torch.jit._overload"}


def resolve(ctx: FunctionFacts, node: cst.Call, shadowed: set[str], receiver_type) -> Callee | None:
    """The callee of ``node`` (None: not one the model knows). ``shadowed``: names the function
    binds locally (they hide module-level names); ``receiver_type``: the model's type of an
    expression at the call (for ``t.X(...)``)."""
    func = node.func
    written = cst_dotted(func)
    if written is None:
        return None
    head = written.split(".", 1)[0]
    knowledge = ctx.knowledge
    qual = ctx.qualname(func) or ""
    if head in ctx.module.aliases and head not in shadowed and qual.startswith("torch."):
        if knowledge.function_compiles(qual) is not True:
            return None
        flags = {
            a.keyword.value: a.value.value == "True"
            for a in node.args
            if a.keyword is not None and isinstance(a.value, cst.Name) and a.value.value in ("True", "False")
        }
        python = knowledge.function_kind(qual) == "python"
        return Callee(written, tuple(knowledge.function_overloads(qual, flags)), packs=not python)
    if isinstance(func, cst.Name) and func.value in ctx.module.functions and func.value not in shadowed:
        fn = ctx.module.functions[func.value]
        if overloaded(ctx.module.tree.body, func.value):
            return None
        return _user_callee(ctx, fn, written, method=False)
    there = ctx.scope.foreign_signatures.get(written)
    if there is not None and head in ctx.module.aliases and head not in shadowed:
        return _foreign_callee(written, there)  # a function of another file of the package
    attr = ctx.self_attr(func)
    if attr is not None and ctx.cls is not None:
        return _self_callee(ctx, ctx.cls, attr, written)
    if isinstance(func, cst.Attribute) and receiver_type(func.value) == "Tensor":
        name = func.attr.value
        if name in knowledge.unsupported_tensor_methods:
            return None
        return Callee(f"Tensor.{name}", tuple(knowledge.method_overloads(name)), method=True)
    return None


def _self_callee(ctx: FunctionFacts, cls: ClassInfo, attr: str, written: str) -> Callee | None:
    if cls.attribute(attr) is not None or cls.class_attribute(attr) is not None:
        if any(attr in c.init_assigned_later for c in cls.mro()):
            # assigned more than once: which module it holds depends on the arguments; the
            # class it holds when built with the constructor's defaults, if one
            held = held_at_defaults(ctx, cls, attr)
            if held is None:
                return None
            note = f"`self.{attr}` is `{_short(held)}` when the class is built with its defaults"
            return _module_callee(ctx, held, written, note)
        built = _built_from(ctx, cls, attr)
        if built is not None:
            return _foreign_callee(written, built)  # a module class of another file
        held = submodule_class(ctx, cls, attr)
        return _module_callee(ctx, held, written, "") if held is not None else None
    found = own_method(cls, attr)
    inherited = ctx.scope.foreign_signatures.get(f"self:{cls.name}.{attr}")  # from a base in another file
    if found is None and (inherited is None or cls.find_method(attr) is not None):
        return None
    # a subclass in the file may override it: the compiler checks the override there
    for other in ctx.module.classes.values():
        if other is not cls and any(c is cls for c in other.mro()) and attr in other.methods:
            return None
    if found is None:
        return _foreign_callee(written, inherited) if inherited is not None else None
    return _user_callee(ctx, found, written, method=True)


def _short(held: str) -> str:
    return f"nn.{held.rsplit('.', 1)[-1]}" if held.startswith("torch.nn.") else held


def _module_callee(ctx: FunctionFacts, held: str, written: str, note: str) -> Callee | None:
    """The ``forward`` of a submodule of class ``held`` (a ``torch.nn`` qualname or a class of
    the file); ``note`` says why the model takes that class (empty: ``__init__`` always builds it)."""
    if held.startswith("torch.nn."):
        fwd = nn_forwards.forward_of(held, ctx.target_version)
        if fwd is None:
            return None
        shown = f"{_short(held)}.forward" + (f"; {note}" if note else "")
        return Callee(written, (fwd.signature,), user=True, where=shown, inferred=fwd.inferred, method=True)
    sub = ctx.module.classes.get(held)
    if sub is None or not sub.is_module:
        return None
    found = own_method(sub, "forward")
    if found is None:
        return None
    callee = _user_callee(ctx, found, written, method=True)
    if callee is None or not note:
        return callee
    return dataclasses.replace(callee, where=f"{callee.where}; {note}")


def held_at_defaults(ctx: FunctionFacts, cls: ClassInfo, attr: str) -> str | None:
    """The module class ``self.<attr>`` holds when ``cls`` is built with its defaults (every way
    through ``__init__`` builds the same one), when no test of the compiled function decides on
    it (``isinstance(self.attr, X)``, ``hasattr``, ``is None``) or on a constant of the class (a
    ``Final`` flag's arm is dropped by the compiler); else None."""
    at = config.type_at_defaults(cls, ctx.module, attr)
    if at is None or at.kind != MODULE or not at.detail:
        return None
    constants = {c for k in cls.mro() for c in k.constants}
    for node in astwalk.walk(ctx.function.node):
        test = node.test if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)) else None
        if isinstance(node, ast.Call) and dotted(node.func) in ("isinstance", "hasattr", "getattr"):
            test = node
        if test is None:
            continue
        read = {n.attr for n in astwalk.walk(test) if isinstance(n, ast.Attribute)}
        read |= {n.value for n in astwalk.walk(test) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        if attr in read or read & constants:
            return None
    return at.detail


def _built_from(ctx: FunctionFacts, cls: ClassInfo, attr: str) -> Foreign | None:
    """The ``forward`` of the class of another file that ``__init__`` builds ``self.<attr>`` from."""
    a = cls.attribute(attr)
    name = dotted(a.value.func) if a is not None and isinstance(a.value, ast.Call) else None
    if name is None or name.split(".", 1)[0] not in ctx.module.aliases:
        return None
    there = ctx.scope.foreign_signatures.get(name)
    # a class's forward (bound); a function's signature is that of the call in __init__
    return there if there is not None and there.bound else None


def _foreign_callee(written: str, there: Foreign) -> Callee:
    return Callee(
        written,
        there.signatures,
        user=True,
        where=f"defined at {there.where}",
        inferred=there.inferred,
        method=there.bound,
    )


def _user_callee(ctx: FunctionFacts, fn: FuncNode, shown: str, method: bool) -> Callee | None:
    found = signature_of(fn, ctx.module, method, ctx)
    if found is None:
        return None
    sig, inferred, bound = found
    return Callee(shown, (sig,), user=True, where=f"line {fn.lineno}", inferred=inferred, method=bound, node=fn)


@dataclass(frozen=True)
class _Names:
    """How a file resolves names, for reading annotations outside a compiled function."""

    module: ModuleInfo

    def qualname(self, node: cst.CSTNode) -> str | None:
        return self.module.resolve(cst_dotted(node))


def _annotation(node: ast.expr, reader: FunctionFacts | _Names, memo: dict[str, str | None] | None) -> str | None:
    """The TorchScript type of an annotation of the file (``memo``: by its text, for one file)."""
    text = ast.unparse(node)
    if memo is not None and text in memo:
        return memo[text]
    written = text_to_cst(text)
    t = annotation_type(written, reader) if written is not None else None  # type: ignore[arg-type]
    if memo is not None:
        memo[text] = t
    return t


def signature_of(
    fn: FuncNode,
    mod: ModuleInfo,
    method: bool,
    names: FunctionFacts | None = None,
    memo: dict[str, str | None] | None = None,
) -> tuple[Signature, frozenset[str], bool] | None:
    """The TorchScript signature of a user function or method (``method``: defined in a class)
    of the file ``mod``, its unannotated (Tensor) parameters, and whether ``self`` is bound when
    it is called on an object. None when the compiler rejects the callee itself (``*args``, an
    unannotated parameter with a non-None default: its own findings) or its decorators may
    change what is called."""
    decorators = [mod.resolve_node(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list]
    if any(d not in _ALLOWED_DECORATORS for d in decorators):
        return None
    a = fn.args
    if a.vararg is not None or a.kwarg is not None or isinstance(fn, ast.AsyncFunctionDef):
        return None
    positional = a.posonlyargs + a.args
    bound = method and "staticmethod" not in decorators
    if bound:
        if not positional:
            return None
        positional = positional[1:]
    defaults: list[ast.expr | None] = [None] * (len(a.posonlyargs + a.args) - len(a.defaults)) + list(a.defaults)
    defaults = defaults[len(defaults) - len(positional) :]
    reader = names if names is not None else _Names(mod)
    params: list[Param] = []
    inferred: set[str] = set()
    for arg, default, kw_only in [(p, d, False) for p, d in zip(positional, defaults, strict=True)] + [
        (p, d, True) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]:
        if arg.annotation is None:
            if default is not None and not (isinstance(default, ast.Constant) and default.value is None):
                return None  # TS210: the callee does not compile
            params.append(Param(arg.arg, "Tensor", kw_only, default is not None))
            inferred.add(arg.arg)
            continue
        t = _annotation(arg.annotation, reader, memo)
        if (
            isinstance(default, ast.Constant)
            and default.value is None
            and t
            and t != "None"
            and not t.startswith("Optional[")
        ):
            return None  # `x: Tensor = None`: the callee's own problem (TS605's)
        params.append(Param(arg.arg, t or "", kw_only, default is not None))
    returns = (_annotation(fn.returns, reader, memo) if fn.returns is not None else None) or ""
    return Signature(tuple(params), (returns,)), frozenset(inferred), bound


def tested_names(fn: cst.FunctionDef) -> set[str]:
    """Names an ``is None`` test, a truth test, ``assert`` or ``isinstance`` may refine (the
    compiler narrows an Optional in the arms such a test guards, and after an early exit).
    A comparison whose result is only stored (``ok = x is not None``) refines nothing, nor does
    passing a value to a call in the test (``if exists(mask):``: the call takes ``mask`` as it is)."""
    out: set[str] = set()

    def names(expr: cst.CSTNode) -> None:
        stack = [expr]
        while stack:
            n = stack.pop()
            if isinstance(n, cst.Name):
                out.add(n.value)
            elif isinstance(n, cst.Call) and _call_name(n) not in _REFINING_CALLS:
                stack.append(n.func)  # `self.mask.any()`: not its arguments
            else:
                stack.extend(children(n))

    class V(cst.CSTVisitor):
        def visit_If(self, n: cst.If) -> None:
            names(n.test)

        def visit_While(self, n: cst.While) -> None:
            names(n.test)

        def visit_Assert(self, n: cst.Assert) -> None:
            names(n.test)

        def visit_IfExp(self, n: cst.IfExp) -> None:
            names(n.test)

        def visit_BooleanOperation(self, n: cst.BooleanOperation) -> None:
            names(n)

        def visit_Call(self, n: cst.Call) -> None:
            if _call_name(n) in _REFINING_CALLS:
                for a in n.args:
                    names(a.value)

    walk(fn.body, V())
    return out


_REFINING_CALLS = ("isinstance", "_unwrap_optional")


def _call_name(n: cst.Call) -> str:
    f = n.func
    return f.value if isinstance(f, cst.Name) else (f.attr.value if isinstance(f, cst.Attribute) else "")


def operator_overloads(
    ctx: FunctionFacts, func: cst.BaseExpression, type_of: Callable[[cst.BaseExpression], str | None]
) -> list[Signature]:
    """The overloads the compiler tries for a call of ``func``; empty when ``func`` is neither a
    torch operator reached through an import nor a method of a ``Tensor`` (``type_of`` types
    the receiver)."""
    knowledge = ctx.knowledge
    head = func
    while isinstance(head, cst.Attribute):
        head = head.value
    assert ctx.node is not None, "the engine sets the function before the rules run"
    if (
        isinstance(head, cst.Name)
        and head.value in ctx.module.aliases
        and head.value not in bindings_of(ctx.node, ctx).local_names
    ):
        qual = ctx.qualname(func) or ""
        return knowledge.function_overloads(qual) if knowledge.function_kind(qual) == "builtin" else []
    if isinstance(func, cst.Attribute) and type_of(func.value) == "Tensor":
        return knowledge.method_overloads(func.attr.value)
    return []
