"""What the flow walk (:mod:`tsscan.semantic.flow`) learned about one compiled function:
:class:`FunctionTypes`, with the questions rules ask of it (the type of an expression where it
lies), and the records it keeps (retyped variables, uses of variables undefined on some path or
typed differently per arm, returns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from tsscan.semantic.annotations import walk_expr
from tsscan.semantic.exprs import ExprTyper
from tsscan.semantic.function import FunctionFacts as FunctionContext
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
    _bound: set[str] | None = field(default=None, repr=False)  # see rebinds

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

    def rebinds(self, name: str) -> bool:
        """The function's body binds ``name`` somewhere (an assignment, an augmented or
        annotated one, a ``for`` or ``with`` target, ``:=``, ``except ... as``), on any path,
        reached by the flow walk or not; nested functions, classes, lambdas and comprehensions
        have names of their own. A parameter not rebound holds what the caller passed
        everywhere in the function."""
        if self._bound is None:
            self._bound = names_bound_in(self.node.body)
        return name in self._bound


def names_bound_in(node: cst.CSTNode) -> set[str]:
    """The names ``node`` (a function body, a statement) binds in its function's own scope, as
    :meth:`FunctionTypes.rebinds` counts them (a nested ``def``'s name and what nested scopes
    bind are not counted)."""
    v = _Bindings()
    walk(node, v)
    return v.names


class _Bindings(cst.CSTVisitor):
    """The names a function body binds in its own scope (see :meth:`FunctionTypes.rebinds`)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def _target(self, t: cst.CSTNode) -> None:
        if isinstance(t, cst.Name):
            self.names.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for el in t.elements:
                self._target(el.value)
        elif isinstance(t, cst.StarredElement):
            self._target(t.value)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(
            node,
            (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp),
        ):
            return False
        if isinstance(node, cst.AssignTarget):
            self._target(node.target)
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr)):
            self._target(node.target)
        elif isinstance(node, cst.AsName):
            self._target(node.name)
        return True
