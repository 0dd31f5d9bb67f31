"""How a class's compiled code uses an attribute ``__init__`` sets to an empty ``[]`` or ``{}``:
the element and key types it adds (``self.seen.append(x)``, ``self.cache[k] = v``, ``k in
self.cache``) and whether it reads elements, across every compiled method of the class and its
bases. TS301 asks :func:`container_annotation` for the annotation to declare.
"""

from __future__ import annotations

import ast

from tsscan.semantic import astwalk
from tsscan.semantic import attributes as A
from tsscan.semantic.crossing import ast_function_to_cst, ast_to_cst
from tsscan.semantic.flow import analyse
from tsscan.semantic.function import FunctionFacts as FunctionContext


class _Uses:
    """How compiled code uses the attribute: the element types it adds, whether it reads
    elements (then the element type matters)."""

    def __init__(self) -> None:
        self.values: list[A.AttrType] = []
        self.keys: list[A.AttrType] = []
        self.reads_elements = False


_TM_KINDS = {"Tensor": A.TENSOR, "int": A.INT, "float": A.FLOAT, "bool": A.BOOL, "str": A.STR}


def _elem_type(e: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FunctionContext) -> A.AttrType:
    """The type of an expression of compiled function ``fn`` (ast): parameters as the
    compiler types them (unannotated: Tensor), literals, torch calls; unknown otherwise."""
    if isinstance(e, ast.Name):
        args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
        for a in args[1:] if ctx.cls is not None else args:
            if a.arg == e.id and a.annotation is None:
                return A.AttrType(A.TENSOR, "torch.Tensor")
    t = A.value_type(e, ctx.module, ctx.cls, fn)
    if t.known:
        return t
    # the type model of compiled code (parameters and declared locals, no flow)
    cst_fn, cst_e = ast_function_to_cst(fn), ast_to_cst(e)
    if cst_fn is None or cst_e is None:
        return A.UNKNOWN_T
    tm = analyse(cst_fn, None).type_of(cst_e)
    kind = _TM_KINDS.get(tm or "")
    return A.AttrType(kind, A.SCALARS[kind]) if kind else A.UNKNOWN_T


def _collect_uses(ctx: FunctionContext, name: str) -> _Uses:
    uses = _Uses()
    cls = ctx.cls
    assert cls is not None, "asked about self.<name> of a method"
    for cf in ctx.scope.compiled:
        if cf.cls is None or cf.cls not in list(cls.mro()) and cls not in list(cf.cls.mro()):
            continue
        fn = cf.node
        args = fn.args.posonlyargs + fn.args.args
        me = args[0].arg if args else None
        parents = {}
        for p in astwalk.walk(fn):
            for ch in ast.iter_child_nodes(p):
                parents[id(ch)] = p
        for node in astwalk.walk(fn):
            if not (
                isinstance(node, ast.Attribute)
                and node.attr == name
                and isinstance(node.value, ast.Name)
                and node.value.id == me
            ):
                continue
            parent = parents.get(id(node))
            if (
                isinstance(parent, ast.Call)
                and parent.args == [node]
                and isinstance(parent.func, ast.Name)
                and parent.func.id == "len"
            ):
                continue
            if isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is node:
                continue
            if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
                continue
            if isinstance(parent, ast.BoolOp):
                continue
            if isinstance(parent, ast.Attribute) and parent.value is node:
                call = parents.get(id(parent))
                if isinstance(call, ast.Call) and call.func is parent:
                    if parent.attr == "append" and len(call.args) == 1:
                        uses.values.append(_elem_type(call.args[0], fn, ctx))
                        continue
                    if parent.attr == "insert" and len(call.args) == 2:
                        uses.values.append(_elem_type(call.args[1], fn, ctx))
                        continue
                    if parent.attr == "clear":
                        continue
                uses.reads_elements = True
                continue
            if isinstance(parent, ast.Subscript) and parent.value is node:
                if isinstance(parent.ctx, ast.Store):
                    uses.keys.append(_elem_type(parent.slice, fn, ctx))
                    stmt = parents.get(id(parent))
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        uses.values.append(_elem_type(stmt.value, fn, ctx))
                        continue
                uses.reads_elements = True
                continue
            if isinstance(parent, ast.Compare) and node in parent.comparators:
                if len(parent.ops) == 1 and isinstance(parent.ops[0], (ast.In, ast.NotIn)):
                    uses.keys.append(_elem_type(parent.left, fn, ctx))
                    continue
            uses.reads_elements = True
    return uses


def _annotation(kind: str, uses: _Uses) -> str | None:
    def one(ts: list[A.AttrType], default: str) -> str | None:
        if not ts:
            return None if uses.reads_elements else default
        t = A._same(ts)
        return A.SCALARS.get(t.kind) if t.known else None

    if kind == A.EMPTY_LIST:
        if uses.keys:
            return None
        v = one(uses.values, "torch.Tensor")
        return f"List[{v}]" if v else None
    k = one(uses.keys, "str")
    v = one(uses.values, "torch.Tensor")
    if k not in ("str", "int", "float", "bool", "torch.Tensor") or v is None:
        return None
    return f"Dict[{k}, {v}]"


def container_annotation(ctx: FunctionContext, name: str, kind: str) -> str | None:
    """The annotation that the uses of ``self.<name>`` in the class's compiled code imply for an
    attribute ``__init__`` sets to an empty list or dict (``kind``: ``attributes.EMPTY_LIST`` or
    ``EMPTY_DICT``): ``List[int]`` when they append ints, ``Dict[str, torch.Tensor]`` when they
    store tensors under string keys; the compiler's own default (``List[torch.Tensor]``,
    ``Dict[str, torch.Tensor]``) when they add nothing and read no element; None when the uses
    disagree or are not known."""
    return _annotation(kind, _collect_uses(ctx, name))
