"""The type ``torch.jit.script`` gives each attribute of an nn.Module class (stdlib ``ast`` only).

The compiler never compiles ``__init__``: when it scripts a module it looks at the *values* the
instance holds and infers a TorchScript type for each of them (unless the class annotates the
attribute). Values it cannot type (an empty ``[]``/``{}``, a ``SimpleNamespace``, a numpy array, a
lambda, a list of modules) are silently dropped, and the first *use* in compiled code fails.
Attributes that exist only on the class (``export = False`` in the class body) are not module
attributes at all, unless they are constants (``Final`` / ``__constants__``).

This module reads the same facts from source: :func:`attribute_type` answers "what will the
compiler make of ``self.<name>``" for a :class:`~tsscan.semantic.compiled.ClassInfo`, and
:func:`value_type` types one ``__init__`` expression. Anything it cannot tell is ``UNKNOWN``:
rules flag only what is certain, so an unknown never becomes a finding.
"""

from __future__ import annotations

import ast

from tsscan.semantic import values
from tsscan.semantic.attribute_writes import (  # re-exported: rules ask them as attributes.X
    Writes,
    class_writes,
    externally_assigned,
    fully_known,
    init_called_methods,
)
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import Attr, ClassInfo, FuncNode, ModuleInfo
from tsscan.semantic.values import (  # the vocabulary rules use as attributes.X
    _CONTAINERS,
    BOOL,
    DICT,
    EMPTY_DICT,
    EMPTY_LIST,
    FLOAT,
    FUNCTION,
    INT,
    LIST,
    MODULE,
    MODULE_BUILTINS,
    MODULE_CONTAINERS,
    MODULEDICT,
    MODULELIST,
    NONE,
    PARAMLIST,
    PYOBJECT,
    SCALARS,
    SEQUENTIAL,
    STR,
    TENSOR,
    TUPLE,
    UNCONVERTIBLE,
    UNKNOWN,
    UNKNOWN_T,
    AttrType,
    _Env,
    _same,
    _vt,
    annotation_type,
)

__all__ = [
    "BOOL",
    "DICT",
    "EMPTY_DICT",
    "EMPTY_LIST",
    "FLOAT",
    "FUNCTION",
    "INT",
    "LIST",
    "MODULE",
    "MODULE_BUILTINS",
    "MODULE_CONTAINERS",
    "MODULEDICT",
    "MODULELIST",
    "NONE",
    "PARAMLIST",
    "PYOBJECT",
    "SCALARS",
    "SEQUENTIAL",
    "STR",
    "TENSOR",
    "TUPLE",
    "UNCONVERTIBLE",
    "UNKNOWN",
    "UNKNOWN_T",
    "AttrType",
    "Writes",
    "annotation_type",
    "assigned_outside_compiled",
    "attribute_type",
    "class_body_insert_point",
    "class_writes",
    "externally_assigned",
    "fully_known",
    "init_called_methods",
    "init_value_canon",
    "is_constant",
    "module_container_length",
    "plain_module",
    "runs_before_scripting",
    "single_bindings",
    "super_init_statement",
    "value_type",
]


# --------------------------------------------------------------------------- attributes
def _class_annotation(cls: ClassInfo, name: str) -> Attr | None:
    """The class-level annotation of ``name``: ``name: T`` in a class body, or an entry of
    ``__annotations__ = {"name": T}`` (torch's own modules declare ``bias`` that way)."""
    for c in cls.mro():
        a = c.class_attrs.get(name)
        if a is not None and a.annotation:
            return a
        table = c.class_attrs.get("__annotations__")
        if table is not None and isinstance(table.value, ast.Dict):
            for k, v in zip(table.value.keys, table.value.values, strict=False):
                if isinstance(k, ast.Constant) and k.value == name:
                    return Attr(name, table.line, None, ast.unparse(v), "class")
    return None


def runs_before_scripting(cls: ClassInfo, module: ModuleInfo, method: str) -> bool:
    """True when ``method`` may run on the Python instance before it is scripted: any method
    the compiler does not compile (``__init__``, ``reset``, ``load_state_dict`` hooks, ...),
    and compiled methods that ``__init__`` calls."""
    return method not in _compiled_method_names(cls, module) or method in init_called_methods(cls)


def plain_module(cls: ClassInfo | None) -> bool:
    """An nn.Module subclass scripted recursively (``torch.jit.script(model)``), whose
    attributes the compiler infers from the instance; not a legacy ``torch.jit.ScriptModule``
    subclass (those build their attributes while ``__init__`` runs)."""
    if cls is None or not cls.is_module:
        return False
    return not any(b.startswith("torch.jit.") for c in cls.mro() for b in c.bases)


def is_constant(cls: ClassInfo, name: str) -> bool:
    return any(name in c.constants for c in cls.mro())


# the types of a class's attributes, by (name, id of the file's facts)
_ATTRIBUTE_TYPES: Memo[dict[tuple[str, int], AttrType]] = Memo("types of a class's attributes")


def attribute_type(cls: ClassInfo, name: str, module: ModuleInfo, _depth: int = 0) -> AttrType:
    """The type the compiler gives ``self.<name>`` of a module of class ``cls``.

    - an annotation (class body or ``__init__``) wins: its kind, ``annotated=True``;
    - an attribute ``__init__`` sets (own or a local base's), ``register_buffer`` and
      ``register_parameter`` included: typed from its value (``origin="init"``); a value that
      ``__init__`` or another uncompiled method changes later (``append``, reassignment to
      another type) makes it UNKNOWN;
    - a name only the class body assigns: typed from that value, ``origin="class"`` (not a
      module attribute for the compiler unless ``constant``);
    - ``training``: BOOL (``origin="builtin"``);
    - anything else: UNKNOWN with ``origin=""``.
    """
    if _depth > 10:
        return UNKNOWN_T
    cache = _ATTRIBUTE_TYPES.on(cls, lambda _: {})
    key = (name, id(module))
    if key not in cache:
        cache[key] = UNKNOWN_T  # recursion guard (self.a = self.b; self.b = self.a)
        cache[key] = _attribute_type(cls, name, module, _depth)
    return cache[key]


def _attribute_type(cls: ClassInfo, name: str, module: ModuleInfo, _depth: int) -> AttrType:
    constant = is_constant(cls, name)
    init_attr = cls.attribute(name)
    owner = next((c for c in cls.mro() if name in c.init_attrs), None)
    ann_attr = _class_annotation(cls, name)
    # only class-level annotations count: the compiler ignores ``self.x: T = v`` in __init__
    ann_text = ann_attr.annotation if ann_attr else None
    if init_attr is not None and owner is not None:
        line = init_attr.line
        if ann_text:
            t = annotation_type(ann_text, module)
            return t.with_(origin="init", constant=constant or t.constant, line=line, annotated=True)
        if init_attr.annotation:
            return _attribute_value_type(cls, owner, init_attr, name, module, constant, _depth).with_(
                init_annotation=init_attr.annotation
            )
        if init_attr.where == "buffer":
            if isinstance(init_attr.value, ast.Constant) and init_attr.value.value is None:
                return AttrType(NONE, "None", origin="buffer", constant=constant, line=line)
            return AttrType(TENSOR, "torch.Tensor", origin="buffer", constant=constant, line=line)
        if init_attr.where == "parameter":
            return AttrType(TENSOR, "torch.Tensor", origin="parameter", constant=constant, line=line)
        if init_attr.where == "submodule":
            return AttrType(MODULE, origin="init", constant=constant, line=line)
        return _attribute_value_type(cls, owner, init_attr, name, module, constant, _depth)
    if name in MODULE_BUILTINS:
        return AttrType(MODULE_BUILTINS[name], MODULE_BUILTINS[name], origin="builtin")
    class_attr = cls.class_attribute(name)
    if class_attr is not None:
        if class_attr.value is None:
            t = annotation_type(class_attr.annotation, module)
            return t.with_(origin="annotation", constant=constant or t.constant, line=class_attr.line)
        t = value_type(class_attr.value, module, None, None)
        if class_attr.annotation:
            a = annotation_type(class_attr.annotation, module)
            t = a if a.known else t
            constant = constant or a.constant
        return t.with_(origin="class", constant=constant, line=class_attr.line, annotated=bool(class_attr.annotation))
    return UNKNOWN_T


def _attribute_value_type(
    cls: ClassInfo, owner: ClassInfo, init_attr: Attr, name: str, module: ModuleInfo, constant: bool, _depth: int
) -> AttrType:
    line = init_attr.line
    init = owner.methods.get("__init__")
    env = _Env(module, cls, init, _typer)
    env.depth = _depth
    t = _vt(init_attr.value, env) if init_attr.value is not None else UNKNOWN_T
    later = owner.init_assigned_later.get(name, [])
    if later:
        others = [_vt(v, env) if v is not None else UNKNOWN_T for v in later]
        t = _same([t, *others])  # the value at script time may be any of them
    writes = class_writes(cls)
    # changed in place by code the compiler does not compile: the value at script time
    # may differ from what __init__ shows
    outside = [
        m
        for m, _ in writes.mutated.get(name, []) + writes.assigned.get(name, [])
        if m != "__init__" and runs_before_scripting(cls, module, m)
    ]
    before = [(m, n) for m, n in writes.mutated.get(name, []) if runs_before_scripting(cls, module, m)]
    if t.kind == EMPTY_LIST and before and not outside and all(m == "__init__" for m, _ in before):
        # filled by __init__ itself: self.blocks = [] ... self.blocks.append(Block())
        t = _filled_list_type([n for _, n in before], env)
    elif t.kind in (EMPTY_LIST, EMPTY_DICT, NONE, LIST, DICT) and before:
        t = UNKNOWN_T
    elif outside and t.kind in (EMPTY_LIST, EMPTY_DICT, NONE):
        t = UNKNOWN_T
    return t.with_(origin="init", constant=constant, line=line)


def _filled_list_type(mutations: list[ast.AST], env: _Env) -> AttrType:
    """The type of a list ``__init__`` starts empty and fills with ``append``/``extend``."""
    elems: list[AttrType] = []
    for node in mutations:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and len(node.args) == 1):
            return UNKNOWN_T
        arg = node.args[0]
        if node.func.attr == "append":
            elems.append(_vt(arg, env))
        elif node.func.attr == "extend" and isinstance(arg, (ast.List, ast.Tuple)):
            elems.extend(_vt(x, env) for x in arg.elts)
        else:
            return UNKNOWN_T
    if elems and all(e.kind in {MODULE} | MODULE_CONTAINERS for e in elems):
        return AttrType(PYOBJECT, detail="a list of modules (use nn.ModuleList)")
    one = _same(elems)
    if one.known and one.kind in SCALARS:
        return AttrType(LIST, f"List[{SCALARS[one.kind]}]")
    return UNKNOWN_T


def _compiled_method_names(cls: ClassInfo, module: ModuleInfo) -> set[str]:
    """Names of methods the compiler compiles for ``cls``: recorded on the module by the
    reachability analysis (:func:`tsscan.semantic.compiled.analyse`), which runs it once."""
    if module.compiled_methods is None:
        from tsscan.semantic.compiled import record_compiled_methods

        record_compiled_methods(module)
    assert module.compiled_methods is not None
    return module.compiled_methods.get(cls.name, set())


def assigned_outside_compiled(cls: ClassInfo, module: ModuleInfo, name: str) -> bool:
    """True when a method the compiler does not compile (``__init__`` included) assigns
    ``self.<name>``: the instance then may hold it when it is scripted."""
    w = class_writes(cls)
    return any(runs_before_scripting(cls, module, m) for m, _ in w.assigned.get(name, []) + w.assigned.get("*", []))


def module_container_length(cls: ClassInfo, name: str, module: ModuleInfo) -> str | None:
    """The length of a ModuleList/Sequential attribute as a canonical expression dump, when
    ``__init__`` shows it: ``ModuleList([a, b])`` -> ``2``; ``ModuleList(f(c) for c in ch)``
    -> ``len(ch)``; ``ModuleList([... for _ in range(n)])`` -> ``n``. None when unknown or
    when something else changes the container."""
    attr = cls.attribute(name)
    if attr is None or attr.value is None or not isinstance(attr.value, ast.Call):
        return None
    owner = next((c for c in cls.mro() if name in c.init_attrs), None)
    if owner is None or owner.init_assigned_later.get(name):
        return None
    if class_writes(cls).mutated.get(name):
        return None
    call = attr.value
    kind = _CONTAINERS.get(module.resolve_node(call.func) or "")
    if kind not in (MODULELIST, SEQUENTIAL) or call.keywords:
        return None
    if kind == SEQUENTIAL:
        if any(isinstance(a, ast.Starred) for a in call.args):
            return None
        return _canon(ast.Constant(len(call.args)))
    if len(call.args) != 1:
        return _canon(ast.Constant(0)) if not call.args else None
    arg = call.args[0]
    if isinstance(arg, (ast.List, ast.Tuple)) and not any(isinstance(x, ast.Starred) for x in arg.elts):
        return _canon(ast.Constant(len(arg.elts)))
    if isinstance(arg, (ast.ListComp, ast.GeneratorExp)) and len(arg.generators) == 1:
        g = arg.generators[0]
        if g.ifs or g.is_async:
            return None
        it = g.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and len(it.args) == 1:
            return _canon(it.args[0])
        if isinstance(it, ast.Name):
            return _canon(ast.Call(ast.Name("len", ast.Load()), [it], []))
    return None


def _canon(e: ast.expr) -> str:
    return ast.dump(e, annotate_fields=False, include_attributes=False)


def init_value_canon(cls: ClassInfo, name: str) -> str | None:
    """The value ``__init__`` assigns to ``self.<name>`` as a canonical dump (None when it is
    assigned more than once or not at all)."""
    attr = cls.attribute(name)
    owner = next((c for c in cls.mro() if name in c.init_attrs), None)
    if attr is None or owner is None or attr.value is None or owner.init_assigned_later.get(name):
        return None
    return _canon(attr.value)


# --------------------------------------------------------------------------- edits for fixes
def super_init_statement(init: FuncNode) -> ast.stmt | None:
    """The ``super().__init__(...)`` (or ``nn.Module.__init__(self)``) statement at the top
    level of an ``__init__`` body: new attribute assignments go right after it."""
    for stmt in init.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            f = stmt.value.func
            if isinstance(f, ast.Attribute) and f.attr == "__init__":
                v = f.value
                if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "super":
                    return stmt
                if isinstance(v, ast.Attribute) and v.attr == "Module":
                    return stmt
    return None


def class_body_insert_point(cls_node: ast.ClassDef) -> tuple[int, int]:
    """(line after which a class-level declaration goes, its indentation): after the
    docstring, else before the first statement (and its decorators)."""
    first = cls_node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno or first.lineno, first.col_offset
    start = min([d.lineno for d in getattr(first, "decorator_list", [])] + [first.lineno])
    return start - 1, first.col_offset


# --------------------------------------------------------------------------- compiled code
_BINDINGS = None


def _bindings_visitor():
    import libcst as cst

    class _Bindings(cst.CSTVisitor):
        def __init__(self) -> None:
            self.values: dict[str, list] = {}

        def _bind(self, target: cst.CSTNode, value) -> None:
            if isinstance(target, cst.Name):
                self.values.setdefault(target.value, []).append(value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for e in target.elements:
                    self._bind(e.value, None)
            elif isinstance(target, cst.StarredElement):
                self._bind(target.value, None)

        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                self._bind(t.target, node.value if len(node.targets) == 1 else None)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._bind(node.target, None)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._bind(node.target, None)

        def visit_For(self, node: cst.For) -> None:
            self._bind(node.target, None)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            self._bind(node.target, None)

        def visit_AsName(self, node: cst.AsName) -> None:
            self._bind(node.name, None)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            self._bind(node.target, None)

    return _Bindings


def single_bindings(fn) -> dict[str, object]:
    """Locals of the libcst function ``fn`` bound by exactly one plain assignment
    (``y = x * 2``), with the value expression assigned: its type is the local's type."""
    global _BINDINGS
    if _BINDINGS is None:
        _BINDINGS = _bindings_visitor()  # libcst is imported only when rules run
    b = _BINDINGS()
    from tsscan.walk import walk

    walk(fn.body, b)
    return {k: v[0] for k, v in b.values.items() if len(v) == 1 and v[0] is not None}


def _typer(cls: ClassInfo, name: str, module: ModuleInfo, depth: int) -> AttrType:
    return attribute_type(cls, name, module, _depth=depth)


def value_type(
    expr: ast.expr | None,
    module: ModuleInfo,
    cls: ClassInfo | None = None,
    fn: FuncNode | None = None,
) -> AttrType:
    """:func:`tsscan.semantic.values.value_type`, with ``self.x`` typed as its attribute."""
    return values.value_type(expr, module, cls, fn, _typer)
