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
import types
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
    vcls = type(visitor)
    attr_hooks = _has_attribute_hooks(vcls)
    hooks = _dispatch_table(vcls)
    if hooks is not None and not any(k.startswith(("visit_", "leave_")) for k in vars(visitor)):
        _walk_direct(node, visitor, attr_hooks, hooks, *_OWN_ON[vcls])
    else:
        _walk(node, visitor, attr_hooks)


# per visitor class that keeps libcst's ``on_visit``/``on_leave`` (which build the hook's name and
# look it up at every node): node class -> (its visit_ hook, its leave_ hook), None for libcst's
# no-ops; None for a class whose hooks are not plain functions (then ``_walk`` asks as libcst does)
_DISPATCH: weakref.WeakKeyDictionary[type[cst.CSTVisitor], dict | None] = weakref.WeakKeyDictionary()
_NO_TABLE: dict = {}


class _NotPlain(Exception):
    pass


# per visitor class in _DISPATCH: whether it has its own on_visit, its own on_leave (called as
# they are; libcst's are replaced by the table)
_OWN_ON: weakref.WeakKeyDictionary[type[cst.CSTVisitor], tuple[bool, bool]] = weakref.WeakKeyDictionary()


def _dispatch_table(vcls: type[cst.CSTVisitor]) -> dict | None:
    table = _DISPATCH.get(vcls, _NO_TABLE)
    if table is _NO_TABLE:
        own = (vcls.on_visit is not cst.CSTVisitor.on_visit, vcls.on_leave is not cst.CSTVisitor.on_leave)
        _OWN_ON[vcls] = own
        table = _DISPATCH[vcls] = None if all(own) else {}
    return table


def _hook(vcls: type, name: str):
    for k in vcls.__mro__:
        if name in k.__dict__:
            raw = k.__dict__[name]
            if raw is None:
                return None
            if not isinstance(raw, types.FunctionType):
                raise _NotPlain(name)
            return None if getattr(raw, "_is_no_op", False) else raw
    return None


def _walk_direct(
    node: cst.CSTNode, visitor: cst.CSTVisitor, attr_hooks: bool, hooks: dict, own_visit: bool, own_leave: bool
) -> None:
    """:func:`_walk` calling the visitor's ``visit_<Node>``/``leave_<Node>`` directly where it
    keeps libcst's ``CSTVisitor.on_visit``/``on_leave`` (which build the hook's name and look it
    up at every node), and its own ``on_visit``/``on_leave`` where it has them."""
    cls = type(node)
    plan = _PLANS[cls] if cls in _PLANS else _plan(cls)
    pair = hooks.get(cls)
    if pair is None:
        vcls = type(visitor)
        try:
            pair = hooks[cls] = (_hook(vcls, "visit_" + cls.__name__), _hook(vcls, "leave_" + cls.__name__))
        except _NotPlain:
            _DISPATCH[vcls] = None
            _walk(node, visitor, attr_hooks)
            return
    if plan is None:
        node.visit(visitor)
        return
    visit, leave = pair
    if own_visit:
        go = visitor.on_visit(node)
    else:
        go = visit is None or visit(visitor, node) is not False
    if go:
        for name, many in plan:
            if attr_hooks:
                visitor.on_visit_attribute(node, name)
            child = getattr(node, name)
            if many:
                for c in child:
                    _walk_direct(c, visitor, attr_hooks, hooks, own_visit, own_leave)
            elif child is not None and child is not _DEFAULT:
                _walk_direct(child, visitor, attr_hooks, hooks, own_visit, own_leave)
            if attr_hooks:
                visitor.on_leave_attribute(node, name)
    if own_leave:
        visitor.on_leave(node)
    elif leave is not None:
        leave(visitor, node)


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
    seen: set[str] = set()
    for i, k in enumerate(cls.__mro__):
        own = _own_hooks(k) if i == 0 else _OWN_HOOKS.get(k)
        if own is None:
            own = _OWN_HOOKS[k] = _own_hooks(k)
        names, live = own
        if live and not live <= seen:
            return True
        seen |= names
    return False
