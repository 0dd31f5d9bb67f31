"""Which compiled functions a rule may report in, decided on the stdlib ``ast`` (no libcst).

A rule's *pre-filter* (:class:`Needs`) names what a function must contain for the rule to
report anything in it: ``ast`` node types, names it calls, attribute names, identifiers. A
function containing at least one of them is a *candidate* for the rule; a function that is a
candidate for no selected rule is never handed to libcst (and a file with no candidate function
does not even import it). A rule without a pre-filter (``None``) is a candidate everywhere.

Pre-filters must be sound: they may let through a function the rule finds nothing in, never
drop one it reports in. Most are derived from the rule's hooks (:func:`from_hooks`): a rule
whose only hooks are ``visit_Try``/``visit_TryStar`` can only act where the function has an
``ast.Try`` or ``ast.TryStar``. A rule whose hooks are generic (``visit_Call``,
``visit_Attribute``, ``visit_FunctionDef``) declares a narrower one in its class
(``needs = Needs(calls={"map"})``). See docs/performance.md ("Pre-filters").

This module imports neither libcst nor any rule: the runner decides with it, from the
generated index of the built-in rules (``tsscan/rules/_index.py``), whether libcst is needed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tsscan.semantic import astwalk


@dataclass(frozen=True)
class Needs:
    """What a function must contain (any one of) for a rule to report in it."""

    nodes: frozenset[str] = frozenset()  # ast node class names (``"Try"``, ``"Lambda"``)
    calls: frozenset[str] = frozenset()  # last part of a called name (``f(...)``, ``a.f(...)``: ``f``)
    attrs: frozenset[str] = frozenset()  # attribute names read or written (``x.f``: ``f``)
    names: frozenset[str] = frozenset()  # identifiers (``ast.Name`` ids)
    # modules: the function mentions a name the file binds by importing one of these modules or
    # something from them (``import math``, ``from math import pi``: ``"math"``)
    imports: frozenset[str] = frozenset()

    def __init__(
        self,
        nodes: Iterable[str] = (),
        calls: Iterable[str] = (),
        attrs: Iterable[str] = (),
        names: Iterable[str] = (),
        imports: Iterable[str] = (),
    ) -> None:
        object.__setattr__(self, "nodes", frozenset(nodes))
        object.__setattr__(self, "calls", frozenset(calls))
        object.__setattr__(self, "attrs", frozenset(attrs))
        object.__setattr__(self, "names", frozenset(names))
        object.__setattr__(self, "imports", frozenset(imports))
        unknown = self.nodes - _AST_NAMES
        if unknown:
            raise ValueError(f"not ast node types: {sorted(unknown)}")

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            self.nodes | other.nodes,
            self.calls | other.calls,
            self.attrs | other.attrs,
            self.names | other.names,
            self.imports | other.imports,
        )

    def as_tuple(self) -> tuple[tuple[str, ...], ...]:
        """Sorted tuples of the five sets (what the generated index stores)."""
        return tuple(tuple(sorted(s)) for s in (self.nodes, self.calls, self.attrs, self.names, self.imports))


# what a function may contain besides ast node types (:func:`features` finds them)
PSEUDO_NODES = frozenset(
    {
        "Annotation",  # an annotation: of a parameter, of the return, of a local (AnnAssign)
        "Decorator",  # a decorator, on the function or on a def or class in it
        "Default",  # a parameter with a default value (of the function, a nested def or a lambda)
        "VarArg",  # a ``*args`` or ``**kwargs`` parameter
        "KwOnly",  # a keyword-only parameter
        "PosOnly",  # a positional-only parameter
        "NestedFunction",  # a def inside the function
        "MultipleReturns",  # two ``return`` statements or more (nested defs' counted too)
        "TypeComment",  # a comment like ``# type:`` (also misspelt: ``#type :``) on its lines
        # an identifier (anywhere: a name, an attribute, a keyword, a parameter) that the module
        # assigns at its top level (not a def, class or import), a name imported from ``math``
        # or ``torch`` (``from torch import float32``), or ``__debug__``
        "ModuleValue",
    }
)
_AST_NAMES = frozenset(n for n, v in vars(ast).items() if isinstance(v, type) and issubclass(v, ast.AST)) | PSEUDO_NODES


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# ``Rule.needs`` values besides a Needs or None (every function):
# derived from the hooks, unless the rule overrides ``on_function`` (it may report from there)
AUTO = _Marker("AUTO")
# derived from the hooks even though the rule overrides ``on_function`` (which only prepares)
HOOKS = _Marker("HOOKS")

# the ast node types one of which a function must contain for a libcst node of this type to be
# in its libcst tree; None: any function may have one (FunctionDef: the function itself)
_CST_TO_AST: dict[str, tuple[str, ...] | None] = {
    "Try": ("Try",),
    "TryStar": ("TryStar",),
    "ExceptHandler": ("Try",),
    "ExceptStarHandler": ("TryStar",),
    "Lambda": ("Lambda",),
    "ClassDef": ("ClassDef",),
    "DictComp": ("DictComp",),
    "ListComp": ("ListComp",),
    "SetComp": ("SetComp",),
    "GeneratorExp": ("GeneratorExp",),
    "CompFor": ("comprehension",),
    "CompIf": ("comprehension",),
    "For": ("For", "AsyncFor"),
    "While": ("While",),
    "If": ("If",),
    "Else": ("If", "For", "AsyncFor", "While", "Try", "TryStar"),
    "With": ("With", "AsyncWith"),
    "WithItem": ("With", "AsyncWith"),
    "Match": ("Match",),
    "Set": ("Set",),
    "Dict": ("Dict",),
    "StarredDictElement": ("Dict",),
    "List": ("List",),
    "Tuple": ("Tuple",),
    "Call": ("Call",),
    # call arguments, and the bases and keywords of a class
    "Arg": ("Call", "ClassDef"),
    "Global": ("Global",),
    "Nonlocal": ("Nonlocal",),
    "Import": ("Import",),
    "ImportFrom": ("ImportFrom",),
    "Yield": ("Yield", "YieldFrom"),
    "Await": ("Await",),
    "NamedExpr": ("NamedExpr",),
    "Raise": ("Raise",),
    "Assert": ("Assert",),
    "Del": ("Delete",),
    "Return": ("Return",),
    "Expr": ("Expr",),
    "Assign": ("Assign",),
    "AssignTarget": ("Assign",),
    "AnnAssign": ("AnnAssign",),
    "AugAssign": ("AugAssign",),
    "StarredElement": ("Starred",),
    "FormattedString": ("JoinedStr",),
    "FormattedStringExpression": ("FormattedValue",),
    "UnaryOperation": ("UnaryOp",),
    "BinaryOperation": ("BinOp",),
    "BooleanOperation": ("BoolOp",),
    "Comparison": ("Compare",),
    "ComparisonTarget": ("Compare",),
    "IfExp": ("IfExp",),
    "Subscript": ("Subscript",),
    "SubscriptElement": ("Subscript",),
    "Slice": ("Slice",),
    # string literals: an ast Constant (f-strings' literal parts are Constants too)
    "SimpleString": ("Constant",),
    "ConcatenatedString": ("Constant", "JoinedStr"),
    "Integer": ("Constant",),
    "Float": ("Constant",),
    "Imaginary": ("Constant",),
    "Ellipsis": ("Constant",),
    # dotted names: attributes, and the module names of imports (``import a.b``)
    "Attribute": ("Attribute", "Import", "ImportFrom"),
    "Decorator": ("Decorator",),
    "Annotation": ("Annotation",),
    "Break": ("Break",),
    "Continue": ("Continue",),
    "Pass": ("Pass",),
}


def from_hooks(hooks: Iterable[str]) -> Needs | None:
    """The pre-filter implied by a rule's ``visit_*``/``leave_*`` hook names: the function must
    contain a node one of the hooks is called on. None when a hook may be called in any
    function (``visit_FunctionDef``, ``visit_Name``, ``visit_SimpleStatementLine``, ...)."""
    nodes: set[str] = set()
    for hook in hooks:
        kind = hook.split("_")[1]  # visit_Call, visit_Call_func (an attribute hook): Call
        found = _CST_TO_AST.get(kind)
        if found is None:
            return None
        nodes.update(found)
    return Needs(nodes=nodes)


@dataclass(frozen=True)
class Features:
    """What a function contains, as pre-filters ask it (one walk of its ``ast``)."""

    nodes: frozenset[str]
    calls: frozenset[str]
    attrs: frozenset[str]
    names: frozenset[str]
    # every identifier written in the function (names, attributes, keywords, parameters, the
    # names of defs, classes, imports, globals, exception handlers)
    idents: frozenset[str] = frozenset()
    imports: frozenset[str] = frozenset()  # see Needs.imports (filled in by the caller)


_TYPE_COMMENT = re.compile(r"#[\t ]*type[\t ]*:")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def features(fn: ast.AST, text: str | None = None) -> Features:
    """The node types (``fn``'s own included), :data:`PSEUDO_NODES`, called names, attribute
    names and identifiers of everything under ``fn`` (its decorators, defaults and annotations
    included). ``text``: the source of its lines, for ``TypeComment`` (None: assumed present)."""
    nodes: set[str] = set()
    calls: set[str] = set()
    attrs: set[str] = set()
    names: set[str] = set()
    idents: set[str] = set()
    returns = 0
    for node in astwalk.walk(fn):
        kind = type(node)
        nodes.add(kind.__name__)
        for field in _IDENT_FIELDS.get(kind, ()):
            value = getattr(node, field, None)
            if isinstance(value, str):
                idents.update(value.split("."))
            elif isinstance(value, list):
                idents.update(v for v in value if isinstance(v, str))
        if kind is ast.Name:
            names.add(node.id)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            attrs.add(node.attr)  # type: ignore[attr-defined]
        elif kind is ast.Call:
            f = node.func  # type: ignore[attr-defined]
            if isinstance(f, ast.Attribute):
                calls.add(f.attr)
            elif isinstance(f, ast.Name):
                calls.add(f.id)
        elif kind is ast.arguments:
            _parameters(node, nodes)  # type: ignore[arg-type]
        elif kind is ast.arg:
            if node.annotation is not None:  # type: ignore[attr-defined]
                nodes.add("Annotation")
        elif kind is ast.AnnAssign:
            nodes.add("Annotation")
        elif kind is ast.Return:
            returns += 1
        if kind in _DEFS or kind is ast.ClassDef:
            if node.decorator_list:  # type: ignore[attr-defined]
                nodes.add("Decorator")
            if kind is not ast.ClassDef:
                if node.returns is not None:  # type: ignore[attr-defined]
                    nodes.add("Annotation")
                if node is not fn:
                    nodes.add("NestedFunction")
    if returns > 1:
        nodes.add("MultipleReturns")
    if text is None or _TYPE_COMMENT.search(text):
        nodes.add("TypeComment")
    return Features(
        frozenset(nodes), frozenset(calls), frozenset(attrs), frozenset(names), frozenset(idents | names | attrs)
    )


# the fields of ast nodes that hold identifiers (a str, a dotted str, or a list of str)
_IDENT_FIELDS: dict[type, tuple[str, ...]] = {
    ast.FunctionDef: ("name",),
    ast.AsyncFunctionDef: ("name",),
    ast.ClassDef: ("name",),
    ast.arg: ("arg",),
    ast.keyword: ("arg",),
    ast.alias: ("name", "asname"),
    ast.ImportFrom: ("module",),
    ast.Global: ("names",),
    ast.Nonlocal: ("names",),
    ast.ExceptHandler: ("name",),
    ast.MatchAs: ("name",),
    ast.MatchStar: ("name",),
    ast.MatchMapping: ("rest",),
    ast.MatchClass: ("kwd_attrs",),
}


def _parameters(args: ast.arguments, nodes: set[str]) -> None:
    if args.defaults or any(d is not None for d in args.kw_defaults):
        nodes.add("Default")
    if args.vararg is not None or args.kwarg is not None:
        nodes.add("VarArg")
    if args.kwonlyargs:
        nodes.add("KwOnly")
    if args.posonlyargs:
        nodes.add("PosOnly")


def may_fire(needs: Needs | None, found: Features) -> bool:
    """Whether a rule with this pre-filter may report in a function with these features."""
    if needs is None:
        return True
    return not (
        needs.nodes.isdisjoint(found.nodes)
        and needs.calls.isdisjoint(found.calls)
        and needs.attrs.isdisjoint(found.attrs)
        and needs.names.isdisjoint(found.names)
        and needs.imports.isdisjoint(found.imports)
    )


def hook_names(cls: type) -> tuple[str, ...]:
    """The ``visit_*``/``leave_*`` methods a rule class defines or inherits (libcst's empty
    stubs, marked ``_is_no_op``, left out), sorted."""
    found = {n for klass in cls.__mro__ for n in _own_hooks(klass)}
    return tuple(
        n for n in sorted(found) if callable(getattr(cls, n, None)) and not getattr(getattr(cls, n), "_is_no_op", False)
    )


_OWN_HOOKS: dict[type, tuple[str, ...]] = {}


def _own_hooks(klass: type) -> tuple[str, ...]:
    """The hooks ``klass`` itself defines, stubs left out (libcst's visitor bases hold a
    thousand stubs: looked at once per class)."""
    names = _OWN_HOOKS.get(klass)
    if names is None:
        names = _OWN_HOOKS[klass] = tuple(
            n
            for n, v in vars(klass).items()
            if n.startswith(("visit_", "leave_")) and callable(v) and not getattr(v, "_is_no_op", False)
        )
    return names


def resolved_needs(cls: type) -> Needs | None:
    """A rule class's pre-filter, its ``needs`` (AUTO, HOOKS, a Needs or None) resolved."""
    needs = getattr(cls, "needs", AUTO)
    if needs is AUTO:
        base_on_function = next(
            (vars(k)["on_function"] for k in reversed(cls.__mro__) if "on_function" in vars(k)), None
        )
        if getattr(cls, "on_function", None) is not base_on_function:
            return None  # it may report from on_function, before any hook
        return from_hooks(hook_names(cls))
    if needs is HOOKS:
        return from_hooks(hook_names(cls))
    if needs is None or isinstance(needs, Needs):
        return needs
    raise TypeError(f"{cls.__name__}.needs: {needs!r}")
