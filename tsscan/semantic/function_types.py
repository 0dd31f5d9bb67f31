"""What the flow walk (:mod:`tsscan.semantic.flow`) learned about one compiled function:
:class:`FunctionTypes`, with the questions rules ask of it (the type of an expression where it
lies), and the records it keeps (retyped variables, uses of variables undefined on some path or
typed differently per arm, returns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from tsscan.semantic.annotations import param_list, walk_expr
from tsscan.semantic.exprs import ExprTyper
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.memo import Memo
from tsscan.walk import statements, walk

# markers in the walk's environments (never a type a rule sees)
MAYBE = "<maybe-undefined>"

CONFLICT = "<conflict>"


@dataclass
class Retype:
    node: cst.CSTNode  # the assignment target
    var: str
    old: str
    new: str
    in_loop: bool


@dataclass
class BadUse:
    node: cst.Name
    var: str
    kind: str  # "maybe" (defined on some paths only) or "conflict" (different types per arm)
    detail: str = ""
    # "maybe": the ``if`` that defines the variable in one arm only (the compiler's error points
    # at it: "y is not defined in the false branch"); None when a loop left it undefined
    origin: cst.If | None = None


@dataclass
class ReturnInfo:
    node: cst.Return
    type: str | None  # "None" for a bare return


@dataclass
class FunctionTypes:
    """What :func:`analyse` learned about one compiled function."""

    node: cst.FunctionDef
    params: dict[str, str] = field(default_factory=dict)  # as the compiler types them
    declared: dict[str, str] = field(default_factory=dict)  # annotated params/locals
    return_annotation: str | None = None
    has_return_annotation: bool = False
    retypes: list[Retype] = field(default_factory=list)
    # retypes of a local bound to None, in arms the compiler may drop (see none_locals)
    quiet_retypes: list[Retype] = field(default_factory=list)
    none_assigns: dict[str, cst.Assign] = field(default_factory=dict)  # first binding `v = None`
    bad_uses: list[BadUse] = field(default_factory=list)
    returns: list[ReturnInfo] = field(default_factory=list)
    # (call, var, element type, the list's type there)
    appends: list[tuple[cst.Call, str, str | None, str | None]] = field(default_factory=list)
    empty_list_vars: dict[str, cst.CSTNode] = field(default_factory=dict)
    empty_list_assigns: dict[str, cst.Assign] = field(default_factory=dict)  # first `v = []`
    ifexps: list[tuple[cst.IfExp, str | None, str | None]] = field(default_factory=list)
    env_at: dict[int, dict[str, str | None]] = field(default_factory=dict)  # id(small stmt) -> env
    # var -> the ``if`` whose arms give it different types
    conflict_sites: dict[str, cst.If] = field(default_factory=dict)
    # ids of the nodes in ``if`` arms the compiler may drop (``isinstance`` / ``is None`` tests
    # it can fold on types we do not know): rules should not report there
    quiet_nodes: set[int] = field(default_factory=set)
    ctx: FunctionContext | None = None
    typer: ExprTyper | None = None
    _where: dict[int, cst.CSTNode] | None = field(default=None, repr=False)  # see type_at

    def type_of(self, node: cst.BaseExpression) -> str | None:
        """The type of an expression using the *parameter and declared* types only (no flow)."""
        assert self.typer is not None
        return self.typer(node)

    def type_at(self, node: cst.BaseExpression, expr: cst.BaseExpression | None = None) -> str | None:
        """The type of ``node`` with the variable types in force where it lies: in a small
        statement, an ``if``/``while`` test or a ``for`` iterable the flow walk reached. None
        (unknown) anywhere else: a statement the walk never saw (an arm the compiler drops, a
        nested ``def``) is not typed from the parameters alone.

        ``expr``: type this expression instead, with the variable types in force at ``node``:
        one a rule built from ``node`` and that is not in the tree (``node`` with a part
        replaced, a generator read as the list comprehension it iterates like).

        This is the one way rules type an expression where it lies."""
        stmt = self._statements().get(id(node))
        if stmt is None:
            return None
        return ExprTyper(self.ctx, self.env_at[id(stmt)].get)(node if expr is None else expr)

    def _statements(self) -> dict[int, cst.CSTNode]:
        where = self._where
        if where is None:
            where = {}
            for n in statements(self.node):  # what the flow walk types is statements and their clauses
                if id(n) not in self.env_at:
                    continue
                part = n.test if isinstance(n, (cst.If, cst.While)) else n.iter if isinstance(n, cst.For) else n
                for inner in walk_expr(part):
                    where[id(inner)] = n  # nested statements come later and win
            self._where = where
        return where

    @property
    def bindings(self) -> Bindings:
        """Every place the function's body binds a name (:func:`bindings_of`)."""
        return bindings_of(self.node, self.ctx)

    def rebinds(self, name: str) -> bool:
        """The function's body binds ``name`` somewhere (an assignment, an augmented or
        annotated one, a ``for`` or ``with`` target, ``:=``, ``except ... as``, ``import ...
        as``), on any path, reached by the flow walk or not; nested functions, classes, lambdas
        and comprehensions have names of their own. A parameter not rebound holds what the
        caller passed everywhere in the function."""
        return name in self.bindings.own_names


# how a binding binds (Binding.form)
ASSIGN = "assign"  # ``x = v``, also each name a tuple or list target unpacks
ANNOTATED = "annotated"  # ``x: T`` or ``x: T = v``
AUGMENTED = "augmented"  # ``x += v``
FOR = "for"  # a ``for`` statement's target
COMP_FOR = "comp-for"  # a comprehension's ``for`` target
WITH = "with"  # ``with ... as x``
WALRUS = "walrus"  # ``x := v``
DEF = "def"  # the name of a nested ``def``
EXCEPT = "except"  # ``except E as x``
IMPORT = "import"  # ``import m as x``, ``from m import n as x``


@dataclass(frozen=True)
class Binding:
    """One place a function body binds a name."""

    name: str
    form: str  # see ASSIGN ... IMPORT above
    # the value bound when the name alone is bound to it (``x = v``, ``x := v``); None otherwise
    value: cst.BaseExpression | None
    # the annotation of an ANNOTATED binding
    annotation: cst.BaseExpression | None
    # in a class body or a comprehension inside the function: not the function's own scope
    nested: bool


@dataclass
class Bindings:
    """The names a function body binds, in the order it binds them (:func:`bindings_of`), and
    the function's parameters."""

    sites: list[Binding]
    # the names of the parameters, in order, ``*args`` and ``**kwargs`` last
    params: list[str] = field(default_factory=list)

    @property
    def own_names(self) -> set[str]:
        """The names bound in the function's own scope: not in a nested class body nor a
        comprehension, not the name of a nested ``def`` (see :meth:`FunctionTypes.rebinds`)."""
        return {b.name for b in self.sites if not b.nested and b.form != DEF}

    @cached_property
    def local_names(self) -> frozenset[str]:
        """The names the function binds, as they hide a builtin or a module-level name in it:
        its parameters and every binding of the body, class bodies and comprehensions inside
        included, ``except ... as`` and ``import ... as`` names left out."""
        return frozenset(self.params).union(b.name for b in self.sites if b.form not in (EXCEPT, IMPORT))

    @cached_property
    def assigned(self) -> dict[str, list[cst.BaseExpression | None]]:
        """Every value each of :attr:`local_names` is bound to but by an annotation, in the
        order of the source (None: a binding whose value is not one expression: a ``for``
        target, an augmented assignment, a name a tuple unpacks, a nested ``def``)."""
        out: dict[str, list[cst.BaseExpression | None]] = {}
        for b in self.sites:
            if b.form not in (EXCEPT, IMPORT, ANNOTATED):
                out.setdefault(b.name, []).append(b.value)
        return out

    @cached_property
    def annotated(self) -> dict[str, cst.BaseExpression]:
        """The annotation of each name the body annotates (``x: T`` or ``x: T = v``), the last
        one where there are several."""
        return {b.name: b.annotation for b in self.sites if b.form == ANNOTATED and b.annotation is not None}


_BINDINGS: Memo[Bindings] = Memo("bindings of a function body")


def bindings_of(fn: cst.FunctionDef, ctx: FunctionContext | None) -> Bindings:
    """Every binding of a name in ``fn``'s body, in the order of the source: assignments
    (plain, annotated, augmented), ``for`` and comprehension targets, ``with``/``except``/
    ``import ... as`` names, ``:=`` and the names of nested ``def`` s. Class bodies and
    comprehensions inside are walked (their bindings marked ``nested``); nested functions and
    lambdas are not (their names are their own). Kept by ``ctx`` (when given) per node."""
    if ctx is None:
        return _collect(fn)
    return ctx.memo(_BINDINGS, fn, lambda: _collect(fn))


def _collect(fn: cst.FunctionDef) -> Bindings:
    v = _Bindings()
    walk(fn.body, v)
    stars = [p.name.value for p in (fn.params.star_arg, fn.params.star_kwarg) if isinstance(p, cst.Param)]
    return Bindings(v.sites, [p.name.value for p in param_list(fn)] + stars)


def names_bound_in(node: cst.CSTNode) -> set[str]:
    """The names ``node`` (a function body, a statement) binds in its function's own scope, as
    :meth:`FunctionTypes.rebinds` counts them (a nested ``def``'s name and what nested scopes
    bind are not counted)."""
    v = _Bindings()
    walk(node, v)
    return {b.name for b in v.sites if not b.nested and b.form != DEF}


class _Bindings(cst.CSTVisitor):
    """The bindings of a function body (see :func:`bindings_of`)."""

    def __init__(self) -> None:
        super().__init__()
        self.sites: list[Binding] = []
        self.depth = 0  # of class bodies and comprehensions around the node

    def _bind(
        self,
        t: cst.CSTNode,
        form: str,
        value: cst.BaseExpression | None = None,
        annotation: cst.BaseExpression | None = None,
    ) -> None:
        if isinstance(t, cst.Name):
            self.sites.append(Binding(t.value, form, value, annotation, self.depth > 0))
        elif isinstance(t, (cst.Tuple, cst.List)):
            for el in t.elements:
                self._bind(el.value, form)
        elif isinstance(t, cst.StarredElement):
            self._bind(t.value, form)

    # hooks per node class: walk() looks them up once per class (an isinstance chain per node
    # costs more than the rest of the walk)
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._bind(node.name, DEF)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def _enter(self, node: cst.CSTNode) -> None:
        self.depth += 1

    def _leave(self, original_node: cst.CSTNode) -> None:
        self.depth -= 1

    # a class body and a comprehension bind their own names
    visit_ClassDef = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter
    leave_ClassDef = leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind(t.target, ASSIGN, node.value if isinstance(t.target, cst.Name) else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, ANNOTATED, annotation=node.annotation.annotation)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, AUGMENTED)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, FOR)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, COMP_FOR)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, WALRUS, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, WITH)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name, EXCEPT)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name, EXCEPT)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, IMPORT)
