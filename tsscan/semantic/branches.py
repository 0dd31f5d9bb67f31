"""Branches and loops the compiler decides while compiling: tests it folds (``is_scripting()``,
``Final`` bools, always-None attributes), ``isinstance`` tests, and loops over module containers,
which it unrolls.
"""

from __future__ import annotations

import libcst as cst

from tsscan.semantic.annotations import walk_expr
from tsscan.semantic.crossing import cst_to_ast
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.static import Evaluator


def unrolled_loop(it: cst.BaseExpression, ctx: FunctionContext | None) -> bool:
    """Whether ``for ... in it`` iterates a module container (``self.blocks``, the module
    itself when it is a ``Sequential``/``ModuleList`` subclass, ``enumerate``/``zip`` of one,
    ``self.heads.values()``/``.items()``/``.keys()``): the compiler unrolls such loops."""
    if ctx is None or ctx.cls is None or not ctx.cls.is_module:
        return False
    from tsscan.semantic import attributes as A

    def container(e: cst.BaseExpression) -> bool:
        if ctx.cls is None:  # self_attr() is None outside a class: nothing below applies
            return False
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
    if ctx.cls is None:
        return False
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
    node = cst_to_ast(test)
    if node is None:
        return None
    return Evaluator(ctx.module, ctx.cls, ctx.self_name)(node)


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
