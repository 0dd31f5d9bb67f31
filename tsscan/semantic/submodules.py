"""What calls of the file's own code return, where the code says so: the type model's answer for
``self.norm(x)`` (a submodule: its class's ``forward``), ``self.helper(x)`` (a method of the
class) and ``helper(x)`` (a function of the file).

The compiler types such a call by compiling the callee; the model reads the callee's return
annotation, which the compiler checks the callee's body against, so it is what the call gives:
- a ``torch.nn`` submodule: the ``forward`` return in the generated table
  (:mod:`~tsscan.semantic.nn_forwards`);
- a submodule whose class is defined in the file: that class's ``forward``;
- a method or function of the file with a return annotation.

A callee without a return annotation (the compiler infers its type from the body), one whose
definition the file does not show whole (an imported base earlier in the MRO, a subclass in the
file that overrides it, ``@overload`` families), and one with decorators other than the
compiler's own give no answer.
"""

from __future__ import annotations

import ast

from tsscan.semantic import attributes, nn_forwards
from tsscan.semantic.annotations import annotation_type
from tsscan.semantic.crossing import ast_to_cst
from tsscan.semantic.function import FunctionFacts
from tsscan.semantic.module import ClassInfo, FuncNode
from tsscan.semantic.values import MODULE

_PLAIN_DECORATORS = {"torch.jit.script", "torch.jit.export", "staticmethod"}


def submodule_class(ctx: FunctionFacts, cls: ClassInfo, attr: str) -> str | None:
    """The class ``self.<attr>`` holds, as ``__init__`` builds it whatever its arguments (a
    ``torch.nn`` qualname or the name of a class of the file); None when unknown or not one
    class."""
    if cls.attribute(attr) is None and cls.class_attribute(attr) is None:
        return None
    if any(attr in c.init_assigned_later for c in cls.mro()):
        return None  # assigned more than once: which module it holds depends on the arguments
    t = attributes.attribute_type(cls, attr, ctx.module)
    if t.kind != MODULE or t.origin != "init" or not t.detail:
        return None
    return t.detail


def own_method(cls: ClassInfo, name: str) -> FuncNode | None:
    """The method ``name`` of ``cls`` when the file shows the one definition the compiler uses."""
    found = cls.find_method(name)
    if found is None:
        return None
    fn, owner = found
    if owner is not cls and cls.has_unknown_bases:
        return None  # an imported base earlier in the MRO may define it
    if overloaded(owner.node.body, name):
        return None
    return fn


def overloaded(body: list[ast.stmt], name: str) -> bool:
    """Several definitions of ``name`` (``@overload`` declarations and the implementation)."""
    defs = [s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name]
    return len(defs) != 1


def _annotated_return(ctx: FunctionFacts, fn: FuncNode) -> str | None:
    if fn.returns is None or isinstance(fn, ast.AsyncFunctionDef):
        return None
    decorators = [ctx.module.resolve_node(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list]
    if any(d not in _PLAIN_DECORATORS for d in decorators):
        return None
    written = ast_to_cst(fn.returns)
    return annotation_type(written, ctx) if written is not None else None


def _overridden_below(ctx: FunctionFacts, cls: ClassInfo, name: str) -> bool:
    """A subclass in the file defines ``name`` again (the compiler compiles that one there)."""
    return any(
        other is not cls and any(c is cls for c in other.mro()) and name in other.methods
        for other in ctx.module.classes.values()
    )


def self_call_return(ctx: FunctionFacts, attr: str) -> str | None:
    """The type ``self.<attr>(...)`` returns in the class being checked: a submodule's
    ``forward`` or a method's annotated return; None when the model cannot tell."""
    cls = ctx.cls
    if cls is None:
        return None
    if cls.attribute(attr) is not None or cls.class_attribute(attr) is not None:
        held = submodule_class(ctx, cls, attr)
        if held is None:
            return None
        if held.startswith("torch.nn."):
            fwd = nn_forwards.forward_of(held, ctx.target_version)
            return fwd.signature.return_type if fwd is not None else None
        sub = ctx.module.classes.get(held)
        if sub is None or not sub.is_module:
            return None
        found = own_method(sub, "forward")
        return _annotated_return(ctx, found) if found is not None else None
    found = own_method(cls, attr)
    if found is None or _overridden_below(ctx, cls, attr):
        return None
    return _annotated_return(ctx, found)


def function_return(ctx: FunctionFacts, name: str) -> str | None:
    """The annotated return type of the file's module-level function ``name`` (one definition)."""
    fn = ctx.module.functions.get(name)
    if fn is None or overloaded(ctx.module.tree.body, name):
        return None
    return _annotated_return(ctx, fn)
