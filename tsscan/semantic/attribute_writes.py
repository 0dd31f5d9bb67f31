"""Where a module class's methods write its attributes, and whether the file shows every write
(stdlib ``ast`` only): the facts :mod:`tsscan.semantic.attributes` types attributes with, and that
rules ask through it (``attributes.class_writes``, ``attributes.fully_known`` ...)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tsscan.semantic import astwalk
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo, FuncNode, MethodWrites, ModuleInfo, Writes, is_self_setattr


def _method_self(fn: FuncNode) -> str | None:
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else None


_MUTATORS = {"append", "extend", "insert", "update", "setdefault", "__setitem__", "add", "pop", "clear"}

# what one method does with ``self``, kept on its node (see :func:`method_writes`)
_METHOD_WRITES: Memo[MethodWrites] = Memo("writes of self in a method")
# attribute names a file assigns on other objects than ``self`` (see :func:`externally_assigned`):
# the file's, and each top-level statement's (kept on its node)
_FILE_EXTERNAL_ATTRS: Memo[set[str]] = Memo("attributes a file sets on other objects")
_EXTERNAL_ATTRS: Memo[frozenset[str]] = Memo("attributes a statement sets on other objects")


def class_writes(cls: ClassInfo) -> Writes:
    """Every ``self.x = ...`` and every in-place change of ``self.x`` in all methods of ``cls``
    and its local bases (``__init__`` included)."""
    if cls.writes is None:
        w = Writes({}, {})
        for c in cls.mro():
            for mname in c.methods:
                own = method_writes(c, mname).writes
                for name, found in own.assigned.items():
                    w.assigned.setdefault(name, []).extend(found)
                for name, found in own.mutated.items():
                    w.mutated.setdefault(name, []).extend(found)
        cls.writes = w
    return cls.writes


def method_writes(cls: ClassInfo, name: str) -> MethodWrites:
    """What the method ``name`` of ``cls`` (its own, not a base's) does with ``self``: one walk
    of it, kept on the class for :func:`class_writes`, :func:`fully_known` and
    :func:`init_called_methods` (which ask it again for every subclass)."""
    found = cls.method_writes.get(name)
    if found is None:
        fn = cls.methods[name]
        # also kept on the method's node: it depends on the method alone, and the language
        # server keeps the nodes of the methods an edit left alone (a new ClassInfo each time)
        found = cls.method_writes[name] = _METHOD_WRITES.on(fn, lambda f: _method_writes(name, f))
    return found


def _method_writes(mname: str, fn: FuncNode) -> MethodWrites:
    w = Writes({}, {})
    calls: list[str] = []
    hides = False
    me = _method_self(fn)

    def is_self_attr(n: ast.AST) -> str | None:
        if me is not None and isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me:
            return n.attr
        return None

    for node in astwalk.walk(fn):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "setattr":
                key = node.args[1] if len(node.args) > 1 else None
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    hides = True
            if isinstance(f, ast.Attribute):
                if f.attr == "__setattr__":
                    hides = True  # self.__setattr__(name, v) / object.__setattr__(self, name, v)
                # self.__dict__.update(...), vars(self).update(...)
                if f.attr in ("update", "setdefault", "__setitem__") and _is_instance_dict(f.value):
                    hides = True
                if isinstance(f.value, ast.Name) and f.value.id == me and me is not None:
                    calls.append(f.attr)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and _is_instance_dict(node.value):
            hides = True  # self.__dict__[k] = v
        if me is None:
            continue
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        flat: list[ast.expr] = []
        for t in targets:
            flat.extend(t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])
        for t in flat:
            a = is_self_attr(t)
            if a is not None:
                bucket = w.mutated if isinstance(node, ast.AugAssign) else w.assigned
                bucket.setdefault(a, []).append((mname, node))
            if isinstance(t, ast.Subscript):
                a = is_self_attr(t.value)
                if a is not None:
                    w.mutated.setdefault(a, []).append((mname, node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            a = is_self_attr(node.func.value)
            if a is not None and node.func.attr in _MUTATORS:
                w.mutated.setdefault(a, []).append((mname, node))
            # setattr(self, "x", v) / register_buffer("x", ...) count as assignments
        if is_self_setattr(node, me):
            key = node.args[1]
            name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else "*"
            w.assigned.setdefault(name, []).append((mname, node))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == me
            and node.func.attr in ("register_buffer", "register_parameter", "add_module", "register_module")
            and node.args
        ):
            key = node.args[0]
            name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else "*"
            w.assigned.setdefault(name, []).append((mname, node))
    return MethodWrites(w, calls, hides)


def externally_assigned(module: ModuleInfo, name: str) -> bool:
    """True when the file assigns ``<obj>.<name> = ...`` on something other than ``self``
    (a model builder setting ``detect.stride = ...`` after construction), or ``setattr`` with
    a name it cannot read."""
    names = _FILE_EXTERNAL_ATTRS.on(module, _external_assignments)
    return "*" in names or name in names


# nodes with no assignment nor call below them: the walk of the whole file skips them (about half
# its nodes: every Name has a context node, every operator is one)
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Constant, ast.Name, ast.alias)


def _inner_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``tree`` but :data:`_LEAVES`, in no particular order (``ast.walk`` visits
    all of them: twice the time on a 3,000-line file, checked again at every edit in the server)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend(x for x in value if isinstance(x, ast.AST) and not isinstance(x, _LEAVES))
            elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                stack.append(value)


def _external_assignments(module: ModuleInfo) -> set[str]:
    out: set[str] = set()
    for stmt in module.tree.body:
        # per top-level statement, kept on its node: the language server reuses the nodes of the
        # statements an edit left alone (tsscan/semantic/reparse.py), and this walk of the whole
        # file runs at every check
        out |= _EXTERNAL_ATTRS.on(stmt, _statement_external_assignments)
    return out


def _statement_external_assignments(stmt: ast.stmt) -> frozenset[str]:
    out: set[str] = set()
    for node in _inner_nodes(stmt):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for t in targets:
            for x in t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]:
                if isinstance(x, ast.Attribute):
                    if not (isinstance(x.value, ast.Name) and x.value.id in ("self",)):
                        out.add(x.attr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
        ):
            if not (isinstance(node.args[0], ast.Name) and node.args[0].id == "self"):
                key = node.args[1]
                out.add(key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else "*")
    return frozenset(out)


def fully_known(cls: ClassInfo) -> bool:
    """True when every attribute the instance can have is visible in this file: no base
    class from elsewhere (it may set attributes or declare annotations), no ``setattr``
    with a computed name, no ``__getattr__``/``__setattr__`` override and no
    ``self.__dict__`` writes."""
    if cls.fully_known is None:
        cls.fully_known = _fully_known(cls)
    return cls.fully_known


def _fully_known(cls: ClassInfo) -> bool:
    if any(c.has_unknown_bases for c in cls.mro()):
        return False
    if any(c.node.decorator_list for c in cls.mro()):  # a class decorator may add attributes
        return False
    for c in cls.mro():
        if {"__getattr__", "__setattr__", "__getattribute__"} & set(c.methods):
            return False
        if "*setattr*" in c.init_attrs:
            return False
        if any(method_writes(c, name).hides_attributes for name in c.methods):
            return False
    return True


def _is_instance_dict(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "__dict__":
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars"


def init_called_methods(cls: ClassInfo) -> set[str]:
    """Methods ``__init__`` runs (``self.reset()``, transitively): what they assign exists on
    the instance when it is scripted, compiled methods included."""
    if cls.init_called is not None:
        return cls.init_called
    out: set[str] = set()
    queue = ["__init__"]
    while queue:
        name = queue.pop()
        found = cls.find_method(name)
        if found is None:
            continue
        for called in method_writes(found[1], name).self_calls:
            if called not in out and cls.find_method(called) is not None:
                out.add(called)
                queue.append(called)
    cls.init_called = out
    return out
