"""A read-only walk of a libcst tree: ``walk(node, visitor)`` calls the hooks that
``node.visit(visitor)`` calls, in the same order, without copying the tree.

libcst's ``visit`` serves transformers too: on the way back up it builds a new copy of every
node, also for a plain :class:`libcst.CSTVisitor` that changes nothing (the copy is thrown
away), and it calls ``on_visit_attribute``/``on_leave_attribute`` (a method lookup by name)
for every field of every node. :func:`walk` calls ``on_visit``, ``on_visit_attribute``,
``on_leave_attribute`` and ``on_leave`` exactly as ``visit`` does, in the order each node
class's own ``_visit_and_replace_children`` visits its fields (read from libcst's source, once
per class), leaves the attribute hooks out when the visitor has none, and copies nothing.
A node class whose field order cannot be read that way (a conditional visit) is handed to
libcst's ``visit``. ``tests/test_walk.py`` checks that both give the same calls.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import weakref

import libcst as cst

_ONE = {"visit_required", "visit_optional", "visit_sentinel"}  # a node; a node or None; or MaybeSentinel.DEFAULT
_DEFAULT = cst.MaybeSentinel.DEFAULT
_MANY = {"visit_sequence", "visit_iterable", "visit_body_sequence", "visit_body_iterable"}

Plan = tuple[tuple[str, bool], ...]  # (field, holds a sequence of nodes), in visiting order
_PLANS: dict[type[cst.CSTNode], Plan | None] = {}
# weak keys: a visitor class made inside a function is new at every call, and its methods'
# closures hold the nodes it collected; a long-lived process (tsscan server) must let them go
_ATTR_HOOKS: weakref.WeakKeyDictionary[type[cst.CSTVisitor], bool] = weakref.WeakKeyDictionary()


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only looks (not a transformer)."""
    if not isinstance(visitor, cst.CSTVisitor):
        raise TypeError("walk() takes a CSTVisitor; transformers need node.visit()")
    kind = type(visitor)
    if _has_attribute_hooks(kind):
        _walk(node, visitor, True)
        return
    own = vars(visitor)
    if any(k.startswith(("visit_", "leave_")) for k in own):
        _walk(node, visitor, False)  # hooks set on the instance: looked up by name at each node
        return
    hooks = _HOOKS.get(kind)
    if hooks is None:
        hooks = _HOOKS[kind] = {}
    _walk_hooks(node, visitor, hooks, kind.on_visit is _ON_VISIT, kind.on_leave is _ON_LEAVE)


# CSTVisitor's own on_visit and on_leave look the node's hook up by name (an f-string and a
# getattr per node, then a call of one of libcst's ~1,200 no-op hooks for most nodes): for a
# visitor class that keeps them, its hooks per node class are looked up once
_ON_VISIT = cst.CSTVisitor.on_visit
_ON_LEAVE = cst.CSTVisitor.on_leave
Hooks = tuple[object, object]  # (visit_<Node>, leave_<Node>) as functions of the class; None: none or a no-op
_HOOKS: weakref.WeakKeyDictionary[type[cst.CSTVisitor], dict[type[cst.CSTNode], Hooks]] = weakref.WeakKeyDictionary()


def _hooks_of(kind: type[cst.CSTVisitor], node_class: type[cst.CSTNode]) -> Hooks:
    found = []
    for prefix in ("visit_", "leave_"):
        name = prefix + node_class.__name__
        fn = next((k.__dict__[name] for k in kind.__mro__ if name in k.__dict__), None)  # no descriptor run
        if fn is not None and not inspect.isfunction(fn):
            fn = False  # a static method or other descriptor: looked up on the instance
        elif fn is not None and getattr(fn, "_is_no_op", False):
            fn = None  # calling it returns None: the same as no hook
        found.append(fn)
    return found[0], found[1]


def _walk_hooks(
    node: cst.CSTNode, visitor: cst.CSTVisitor, hooks: dict[type[cst.CSTNode], Hooks], own_visit: bool, own_leave: bool
) -> None:
    """:func:`_walk` without attribute hooks; ``own_visit``/``own_leave``: the visitor keeps
    CSTVisitor's ``on_visit``/``on_leave``, whose lookups ``hooks`` holds."""
    cls = type(node)
    plan = _PLANS[cls] if cls in _PLANS else _plan(cls)
    if plan is None:
        node.visit(visitor)
        return
    if own_visit or own_leave:
        found = hooks.get(cls)
        if found is None:
            found = hooks[cls] = _hooks_of(type(visitor), cls)
        visit, leave = found
    if not own_visit:
        go = visitor.on_visit(node)
    elif visit is None:
        go = True
    elif visit is False:
        go = getattr(visitor, f"visit_{cls.__name__}")(node) is not False
    else:
        go = visit(visitor, node) is not False  # type: ignore[operator]
    if go:
        for name, many in plan:
            child = getattr(node, name)
            if many:
                for c in child:
                    _walk_hooks(c, visitor, hooks, own_visit, own_leave)
            elif child is not None and child is not _DEFAULT:
                _walk_hooks(child, visitor, hooks, own_visit, own_leave)
    if not own_leave:
        visitor.on_leave(node)
    elif leave is False:
        getattr(visitor, f"leave_{cls.__name__}")(node)
    elif leave is not None:
        leave(visitor, node)  # type: ignore[operator]


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor, attr_hooks: bool) -> None:
    cls = type(node)
    plan = _PLANS[cls] if cls in _PLANS else _plan(cls)
    if plan is None:
        node.visit(visitor)
        return
    if visitor.on_visit(node):
        for name, many in plan:
            if attr_hooks:
                visitor.on_visit_attribute(node, name)
            child = getattr(node, name)
            if many:
                for c in child:
                    _walk(c, visitor, attr_hooks)
            elif child is not None and child is not _DEFAULT:  # (isinstance with the CSTNode ABC is slow)
                _walk(child, visitor, attr_hooks)
            if attr_hooks:
                visitor.on_leave_attribute(node, name)
    visitor.on_leave(node)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children``, in the same order, from the node class's plan: libcst computes them by
    running a visitor over the node (with an ``isinstance`` against an ABC per field)."""
    cls = type(node)
    plan = _PLANS[cls] if cls in _PLANS else _plan(cls)
    if plan is None:
        return list(node.children)
    out: list[cst.CSTNode] = []
    for name, many in plan:
        child = getattr(node, name)
        if many:
            out.extend(child)
        elif child is not None and child is not _DEFAULT:
            out.append(child)
    return out


def statements(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node`` and the nodes under it but expressions and what they hold, in the order of
    :func:`walk`: every statement, block, target and clause, for analyses that look for
    statements (an expression holds none; a lambda's body is an expression) without visiting
    the expressions, which are most of the nodes."""
    out: list[cst.CSTNode] = []

    def down(n: cst.CSTNode) -> None:
        out.append(n)
        for child in children(n):
            if not is_expression(child):
                down(child)

    down(node)
    return out


_IS_EXPRESSION: dict[type, bool] = {}


def is_expression(node: cst.CSTNode) -> bool:
    """``isinstance(node, cst.BaseExpression)``, without the ABC's ``isinstance`` per call."""
    kind = type(node)
    found = _IS_EXPRESSION.get(kind)
    if found is None:
        found = _IS_EXPRESSION[kind] = issubclass(kind, cst.BaseExpression)
    return found


def _plan(cls: type[cst.CSTNode]) -> Plan | None:
    """The fields ``cls._visit_and_replace_children`` visits, in order; None if it does more
    than ``return Cls(field=visit_xxx(self, "field", self.field, visitor), ...)``."""
    plan: Plan | None = None
    try:
        src = textwrap.dedent(_source(cls._visit_and_replace_children))
        fn = ast.parse(src).body[0]
        plan = _read_plan(fn) if isinstance(fn, ast.FunctionDef) else None
    except (OSError, TypeError, SyntaxError, IndexError):
        plan = None
    _PLANS[cls] = plan
    return plan


def _source(fn) -> str:
    """The source of a function: its lines, first to last, as its code object's positions give
    them (Python 3.11+; ``inspect.getsource`` tokenizes the file from the ``def`` on, which was
    a quarter of the first check of a small file), else ``inspect.getsource``."""
    code = getattr(fn, "__code__", None)
    positions = getattr(code, "co_positions", None)
    if code is None or positions is None:
        return inspect.getsource(fn)
    lines = linecache.getlines(code.co_filename)
    end = max((p[1] or 0 for p in positions()), default=0)
    if not lines or end < code.co_firstlineno:
        return inspect.getsource(fn)
    return "".join(lines[code.co_firstlineno - 1 : end])


def _read_plan(fn: ast.FunctionDef) -> Plan | None:
    if len(fn.body) != 1 or not isinstance(fn.body[0], ast.Return):
        return None
    call = fn.body[0].value
    if isinstance(call, ast.Name) and call.id == "self":
        return ()  # a leaf: ``return self``
    if not isinstance(call, ast.Call) or call.args:
        return None
    steps = []
    for kw in call.keywords:
        value = kw.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _ONE | _MANY:
            args = value.args
            if not (
                len(args) == 4
                and isinstance(args[1], ast.Constant)
                and args[1].value == kw.arg
                and isinstance(args[2], ast.Attribute)
                and isinstance(args[2].value, ast.Name)
                and args[2].value.id == "self"
                and args[2].attr == kw.arg
            ):
                return None
            steps.append((kw.arg, value.func.id in _MANY))
        elif any(isinstance(n, ast.Name) and n.id.startswith("visit") for n in ast.walk(value)):
            return None  # a visit inside something else (a conditional): libcst does it
    return tuple(steps)


def _has_attribute_hooks(cls: type[cst.CSTVisitor]) -> bool:
    """Whether calling ``on_visit_attribute``/``on_leave_attribute`` can do anything."""
    found = _ATTR_HOOKS.get(cls)
    if found is None:
        found = (
            cls.on_visit_attribute is not cst.CSTVisitor.on_visit_attribute
            or cls.on_leave_attribute is not cst.CSTVisitor.on_leave_attribute
            or _has_live_hook(cls)
        )
        _ATTR_HOOKS[cls] = found
    return found


# per base class: the names in its own __dict__ that look like attribute hooks, and those of
# them that do something (libcst's CSTVisitor bases define some 1,200 no-op ones)
_OWN_HOOKS: dict[type, tuple[frozenset[str], frozenset[str]]] = {}


def _own_hooks(k: type) -> tuple[frozenset[str], frozenset[str]]:
    names = frozenset(n for n in vars(k) if n.count("_") >= 2 and n.startswith(("visit_", "leave_")))
    live = frozenset(
        n for n in names if callable(getattr(k, n, None)) and not getattr(getattr(k, n), "_is_no_op", False)
    )
    return names, live


def _has_live_hook(cls: type) -> bool:
    """Whether a name of ``dir(cls)`` like ``visit_<Node>_<field>`` resolves to a callable
    that is not one of libcst's no-ops. Each name resolves to the first class of the MRO that
    defines it, so the classes are read in MRO order; the bases' own names are read once per
    base (a visitor class made inside a function is new at every call)."""
    first = _own_hooks(cls)
    if first[1]:
        return True
    # the answer depends only on the class's own hook names and its bases: a class made inside
    # a function (new at every call, the same names each time) is answered from the first one
    shape = (cls.__bases__, first[0])
    found = _BY_SHAPE.get(shape)
    if found is None:
        found = _BY_SHAPE[shape] = _live_in_bases(cls, first[0])
    return found


_BY_SHAPE: dict[tuple[tuple[type, ...], frozenset[str]], bool] = {}


def _live_in_bases(cls: type, own_names: frozenset[str]) -> bool:
    seen: set[str] = set(own_names)
    for k in cls.__mro__[1:]:
        own = _OWN_HOOKS.get(k)
        if own is None:
            own = _OWN_HOOKS[k] = _own_hooks(k)
        names, live = own
        if live and not live <= seen:
            return True
        seen |= names
    return False
