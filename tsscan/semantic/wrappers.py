"""Decorated compiled functions: whose global names does the compiler resolve?

``torch.jit.script`` reads the source of the innermost function (``inspect`` follows
``__wrapped__``) but resolves the global names that source reads through the *outermost*
wrapper: its ``__globals__`` and closure, then ``typing``, then ``builtins``
(``torch._jit_internal.createResolutionCallbackFromClosure``). A ``forward`` under
``@torch.no_grad()`` has its names looked up in ``torch.utils._contextlib``, which has no
``torch``, and whose ``F`` is a ``TypeVar``.

Two kinds of wrappers are known:

* torch's decorators, from the knowledge tables (measured: which ones wrap, in which module,
  and that module's global names);
* decorators of the package defined in another file with ``functools.wraps`` (a function
  decorator, or a class decorator that replaces methods with such wrappers): the package index
  (:mod:`tsscan.semantic.index`) finds the wrapper's file and that file's top-level names, and
  hands them to the file being checked as :func:`encode`-d facts.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from tsscan.semantic import astwalk
from tsscan.semantic.module import FuncNode, ModuleInfo, dotted

# a file's top-level name bound to: a module (its dotted name), "class", "" (another value the
# compiler cannot look an attribute up on: a function, a TypeVar), "?" (not known)
CLASS, OTHER, UNKNOWN = "class", "", "?"
FACT_PREFIX = "@wraps "
_MODULE_DUNDERS = (
    "__name__",
    "__doc__",
    "__file__",
    "__spec__",
    "__loader__",
    "__package__",
    "__builtins__",
    "__cached__",
    "__annotations__",
)
# what stays the function itself: these decorators do not wrap
_TRANSPARENT = frozenset({"staticmethod"})


@dataclass(frozen=True)
class Wrapper:
    """The outermost wrapper of a compiled function, as name resolution sees it."""

    decorator: str  # as written: "torch.no_grad()", "dynamic_rope_update"
    module: str  # the module whose globals the compiler reads
    names: Mapping[str, str] | None  # its global names -> what they are bound to; None: not known
    closure: frozenset[str] = frozenset()
    where: str = ""  # a package wrapper: "path:line" of the wrapping function
    methods: frozenset[str] = field(default_factory=frozenset)  # a class decorator: the methods replaced


# ---- the file being checked ------------------------------------------------------------------
def decorator_key(dec: ast.expr, mod: ModuleInfo) -> str | None:
    """``torch.no_grad()`` / ``torch.no_grad``: the resolved name, ``()`` when called."""
    target = dec.func if isinstance(dec, ast.Call) else dec
    name = mod.resolve_node(target)
    if name is None:
        return None
    return f"{name}()" if isinstance(dec, ast.Call) else name


def outer_wrapper(
    fn: FuncNode,
    cls: ast.ClassDef | None,
    mod: ModuleInfo,
    table: Mapping[str, object],
    foreign: Mapping[str, Wrapper],
) -> Wrapper | None:
    """The wrapper whose module resolves the global names of ``fn`` (a method of ``cls``, or a
    function), or None: no decorator wraps it, or one is not known."""
    if cls is not None:
        for dec in cls.decorator_list:  # applied after the methods' own decorators
            target = dec.func if isinstance(dec, ast.Call) else dec
            fact = foreign.get(dotted(target) or "")
            if fact is not None and fn.name in fact.methods:
                return fact
    wrap = table.get("wrap", {})
    assert isinstance(wrap, dict)
    for dec in fn.decorator_list:  # outermost first
        key = decorator_key(dec, mod)
        if key is None:
            return None
        if key in _TRANSPARENT or (key in wrap and wrap[key] is None):
            continue
        if key in wrap:
            entry = wrap[key]
            modules = table.get("modules", {})
            assert isinstance(modules, dict)
            return Wrapper(
                decorator=key,
                module=entry["module"],
                names=modules.get(entry["module"]),
                closure=frozenset(entry["closure"]),
            )
        target = dec.func if isinstance(dec, ast.Call) else dec
        fact = foreign.get(dotted(target) or "")
        if fact is not None and not fact.methods:
            return fact
        return None  # a decorator not known: it may not wrap, or wrap anywhere
    return None


def _imported_modules(mod: ModuleInfo) -> set[str]:
    """Names the file binds with ``import x`` / ``import x.y as z``: surely modules."""
    out: set[str] = set()
    for stmt in mod.tree.body:
        if isinstance(stmt, ast.Import):
            out.update(a.asname or a.name.split(".")[0] for a in stmt.names)
    return out


# ---- the file that defines a wrapper (for the package index) ---------------------------------
def _is_type_checking(test: ast.expr) -> bool:
    return (dotted(test) or "").split(".")[-1] == "TYPE_CHECKING"


def _bound_targets(node: ast.AST) -> Iterator[str]:
    for n in astwalk.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            yield n.id


def defined_names(tree: ast.Module, stars: list[str] | None = None) -> dict[str, str]:
    """The names a module's top-level statements bind once it is imported (see :data:`CLASS`);
    imports under ``if TYPE_CHECKING:`` do not run. ``from x import *`` adds ``x`` to ``stars``."""
    names: dict[str, str] = dict.fromkeys(_MODULE_DUNDERS, UNKNOWN)
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop(0)
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.asname:
                    names[a.asname] = a.name
                else:
                    names[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(stmt, ast.ImportFrom):
            for a in stmt.names:
                if a.name == "*":
                    if stars is not None:
                        stars.append("." * stmt.level + (stmt.module or ""))
                else:
                    names[a.asname or a.name] = UNKNOWN
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[stmt.name] = OTHER
        elif isinstance(stmt, ast.ClassDef):
            names[stmt.name] = CLASS
        elif isinstance(stmt, ast.If):
            stack.extend(stmt.orelse if _is_type_checking(stmt.test) else stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":  # ast.TryStar: Python 3.11+
            tried: ast.Try = stmt  # type: ignore[assignment]  # TryStar has Try's fields
            stack.extend(tried.body + [s for h in tried.handlers for s in h.body] + tried.orelse + tried.finalbody)
            names.update(dict.fromkeys((h.name for h in tried.handlers if h.name), UNKNOWN))
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)):
            names.update(dict.fromkeys(_bound_targets(stmt), UNKNOWN))
            stack.extend(stmt.body + getattr(stmt, "orelse", []))
        else:
            names.update(dict.fromkeys(_bound_targets(stmt), UNKNOWN))
    return names


def top_level_names(tree: ast.Module, stars: list[str] | None = None) -> dict[str, str] | None:
    """:func:`defined_names`, and those functions declare ``global``; None when they cannot be
    known (the module calls ``globals()`` or ``vars()``)."""
    names = defined_names(tree, stars)
    for node in astwalk.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("globals", "vars"):
            return None
        if isinstance(node, ast.Global):
            names.update(dict.fromkeys(node.names, UNKNOWN))
    return names


def exported(tree: ast.Module, stars: list[str] | None = None) -> tuple[str, ...]:
    """The names ``from module import *`` takes: ``__all__`` when it is a literal list, else
    the public top-level names."""
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets)
            and isinstance(stmt.value, (ast.List, ast.Tuple))
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in stmt.value.elts)
        ):
            return tuple(sorted(str(e.value) for e in stmt.value.elts if isinstance(e, ast.Constant)))
    return tuple(sorted(n for n in defined_names(tree, stars) if not n.startswith("_")))


def _is_wraps(dec: ast.expr, mod: ModuleInfo) -> bool:
    return isinstance(dec, ast.Call) and mod.resolve_node(dec.func) == "functools.wraps"


def wrapping_functions(mod: ModuleInfo) -> dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]]:
    """Module-level functions that return a ``functools.wraps`` wrapper defined inside them:
    name -> (line of the wrapper, its closure names, the methods it replaces when it is a
    class decorator assigning ``cls.forward = wrapper``)."""
    out: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {}
    if not any(origin in ("functools", "functools.wraps") for origin in mod.aliases.values()):
        return out  # no file without functools imported can use functools.wraps
    for name, fn in mod.functions.items():
        inner = [
            n
            for n in astwalk.walk(fn)
            if isinstance(n, ast.FunctionDef) and any(_is_wraps(d, mod) for d in n.decorator_list)
        ]
        if not inner:
            continue
        bound = {a.arg for a in astwalk.walk(fn) if isinstance(a, ast.arg)} | set(_bound_targets(fn))
        bound |= {
            n.name for n in astwalk.walk(fn) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not fn
        }
        wrappers = {w.name: w for w in inner}
        methods = {
            t.attr
            for n in astwalk.walk(fn)
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id in wrappers
            for t in n.targets
            if isinstance(t, ast.Attribute)
        }
        w = inner[0]
        if methods:
            w = next(
                (
                    wrappers[n.value.id]
                    for n in astwalk.walk(fn)
                    if isinstance(n, ast.Assign)
                    and isinstance(n.value, ast.Name)
                    and n.value.id in wrappers
                    and any(isinstance(t, ast.Attribute) and t.attr == "forward" for t in n.targets)
                ),
                w,
            )
        reads = {n.id for n in astwalk.walk(w) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        out[name] = (w.lineno, tuple(sorted(reads & bound)), tuple(sorted(methods)))
    return out


def encode(local: str, module: str, path: str, line: int, names: Mapping[str, str] | None, closure, methods) -> str:
    """A package wrapper as one string carried with the file's package facts."""
    data = [local, module, f"{path}:{line}", dict(sorted(names.items())) if names is not None else None]
    return FACT_PREFIX + json.dumps([*data, sorted(closure), sorted(methods)], separators=(",", ":"))


def decode(facts: frozenset[str] | set[str]) -> dict[str, Wrapper]:
    """The :func:`encode`-d facts of a file, by the decorator's dotted name as written there."""
    out: dict[str, Wrapper] = {}
    for fact in facts:
        if fact.startswith(FACT_PREFIX):
            local, module, where, names, closure, methods = json.loads(fact[len(FACT_PREFIX) :])
            out[local] = Wrapper(local, module, names, frozenset(closure), where, frozenset(methods))
    return out
