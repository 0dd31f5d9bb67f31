"""tsscan.walk.walk makes exactly the hook calls libcst's node.visit makes, in the same order."""

import os
from pathlib import Path

import libcst as cst
import pytest

from tsscan.walk import _PLANS, walk

ROOT = Path(__file__).resolve().parent.parent
ORACLE = Path(os.environ.get("TSSCAN_ORACLE", Path(__file__).resolve().parents[2] / "shared" / "oracle")) / "cases"

TRICKY = """
from . import a
from ..pkg import (b as c, d)
from x import *
import os.path as p
@decorator(1)
async def f(x: int = 1, /, *args, y: "Y" = None, **kw) -> dict[str, int]:
    global g
    async with a as (b, c), d:
        async for i in range(3):
            yield f"{x!r:>{width}} {y=}" 'implicit' 'concat'
    match x:
        case [1, *rest] if rest:
            pass
        case {"k": v, **other}:
            pass
        case Point(x=0) | None:
            pass
    try:
        raise ValueError from None
    except* (TypeError, ValueError) as e:
        del e
    finally:
        lambda q, *, r=2: q
    return {k: v for k, v in kw.items() if k}, [*args], (y := 3), x if x else -x, ...
class K(Base, metaclass=M):
    a: int = 1; b = c = 2
    def g(self): return self.a[1:2, ::3]  # comment
"""


class Recorder(cst.CSTVisitor):
    def __init__(self, skip=()):
        super().__init__()
        self.events = []
        self.skip = skip

    def on_visit(self, node):
        self.events.append(("visit", type(node).__name__))
        return not isinstance(node, self.skip)

    def on_leave(self, node):
        self.events.append(("leave", type(node).__name__))

    def on_visit_attribute(self, node, attribute):
        self.events.append(("visit_attr", type(node).__name__, attribute))

    def on_leave_attribute(self, node, attribute):
        self.events.append(("leave_attr", type(node).__name__, attribute))


class OnlyNames(cst.CSTVisitor):
    """A typical visitor: typed hooks, no attribute hooks (walk skips those calls)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def visit_Name(self, node):
        self.seen.append(node.value)

    def visit_Lambda(self, node):
        return False

    def leave_Call(self, node):
        self.seen.append("call")

    def visit_Call_args(self, node):
        self.seen.append("args")


def sources():
    out = [TRICKY]
    out += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tsscan").glob("*.py"))]
    out += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures").rglob("*.py"))]
    if ORACLE.is_dir():
        out += [p.read_text(encoding="utf-8") for p in sorted(ORACLE.glob("*.py"))]
    return out


@pytest.mark.parametrize("skip", [(), (cst.Lambda, cst.Attribute)])
def test_same_hook_calls_as_libcst(skip):
    for text in sources():
        module = cst.parse_module(text)
        theirs, ours = Recorder(skip), Recorder(skip)
        module.visit(theirs)
        walk(module, ours)
        assert ours.events == theirs.events


def test_typed_hooks_and_attribute_hooks():
    module = cst.parse_module(TRICKY)
    theirs, ours = OnlyNames(), OnlyNames()
    module.visit(theirs)
    walk(module, ours)
    assert ours.seen == theirs.seen and "args" in ours.seen


class TypedOnly(cst.CSTVisitor):
    """Typed hooks and CSTVisitor's own on_visit/on_leave: walk looks the hooks up once per
    node class instead of by name at every node."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def visit_Name(self, node):
        self.seen.append(node.value)

    def visit_Lambda(self, node):
        self.seen.append("lambda")
        return False  # its children are not visited; leave_Lambda still runs

    def leave_Lambda(self, node):
        self.seen.append("left lambda")

    def visit_If(self, node):
        return 0  # anything but False visits the children

    def leave_Call(self, node):
        self.seen.append("call")

    @staticmethod
    def visit_Attribute(node):
        return node.attr.value != "skip"


class OwnVisit(TypedOnly):
    """on_visit overridden, on_leave kept."""

    def on_visit(self, node):
        self.seen.append(type(node).__name__)
        return not isinstance(node, cst.Subscript)


def test_typed_hooks_looked_up_once_make_the_same_calls():
    for text in [*sources(), "a.skip.b(c)\nx.ok.y(lambda z: w)\n"]:
        module = cst.parse_module(text)
        for kind in (TypedOnly, OwnVisit):
            theirs, ours = kind(), kind()
            module.visit(theirs)
            walk(module, ours)
            assert ours.seen == theirs.seen


class OwnVisitStopsAtLambdas(OnlyNames):
    """Its own ``on_visit`` (which stops at lambdas) and libcst's ``on_leave`` (typed leave hooks)."""

    def on_visit(self, node):
        self.seen.append(type(node).__name__)
        return not isinstance(node, cst.Lambda) and super().on_visit(node)

    def leave_Name(self, node):
        self.seen.append("left " + node.value)


class OwnLeave(OnlyNames):
    """libcst's ``on_visit`` (typed visit hooks) and its own ``on_leave``."""

    def on_leave(self, node):
        self.seen.append("leave " + type(node).__name__)
        super().on_leave(node)


@pytest.mark.parametrize("kind", [OwnVisitStopsAtLambdas, OwnLeave])
def test_own_on_visit_or_on_leave_with_typed_hooks(kind):
    # walk calls libcst's half through its table of hooks and the visitor's own half as it is
    for text in sources()[:5]:
        module = cst.parse_module(text)
        theirs, ours = kind(), kind()
        module.visit(theirs)
        walk(module, ours)
        assert ours.seen == theirs.seen


def test_almost_every_node_class_is_walked_without_libcst():
    walk(cst.parse_module(TRICKY), Recorder())
    handed_over = {cls.__name__ for cls, plan in _PLANS.items() if plan is None}
    assert handed_over <= {"ImportFrom", "FormattedStringExpression", "TemplatedStringExpression"}


def test_transformers_are_refused():
    with pytest.raises(TypeError):
        walk(cst.parse_module("x = 1\n"), cst.CSTTransformer())


def _attribute_hooks_by_dir(cls: type) -> bool:
    """The plain definition: some ``visit_<Node>_<field>``/``leave_...`` of ``dir(cls)`` is
    callable and not one of libcst's no-ops (or the generic attribute hooks are overridden)."""
    return (
        cls.on_visit_attribute is not cst.CSTVisitor.on_visit_attribute
        or cls.on_leave_attribute is not cst.CSTVisitor.on_leave_attribute
        or any(
            n.count("_") >= 2
            and n.startswith(("visit_", "leave_"))
            and callable(getattr(cls, n, None))
            and not getattr(getattr(cls, n), "_is_no_op", False)
            for n in dir(cls)
        )
    )


def test_attribute_hook_detection_matches_dir():
    from tsscan import engine
    from tsscan.semantic import function_types
    from tsscan.semantic import types as typemodel
    from tsscan.walk import _has_attribute_hooks

    class Field(cst.CSTVisitor):
        def visit_Call_func(self, node) -> None:
            pass

    class Undone(Field):  # the hook put back to libcst's no-op
        visit_Call_func = cst.CSTVisitor.visit_Call_func

    class Leave(Undone):
        def leave_Name_value(self, node) -> None:
            pass

    class Generic(cst.CSTVisitor):
        def on_leave_attribute(self, node, attribute) -> None:
            pass

    class Plain(cst.CSTVisitor):
        def visit_Name(self, node) -> None:
            pass

    classes = [Field, Undone, Leave, Generic, Plain, cst.CSTVisitor, OnlyNames, Recorder]
    classes += [  # the visitors tsscan walks with
        v
        for m in (engine, function_types, typemodel)
        for v in vars(m).values()
        if isinstance(v, type) and issubclass(v, cst.CSTVisitor)
    ]
    for cls in classes:
        assert _has_attribute_hooks(cls) == _attribute_hooks_by_dir(cls), cls
    assert [_has_attribute_hooks(c) for c in (Field, Undone, Leave, Generic, Plain)] == [True, False, True, True, False]


def test_plans_read_from_code_positions_are_inspects() -> None:
    # walk reads each node class's _visit_and_replace_children from the lines its code object
    # covers instead of inspect.getsource (which tokenizes): the same source, the same plan
    import ast
    import inspect
    import textwrap

    from tsscan.walk import _read_plan, _source

    def subclasses(c: type) -> set[type]:
        return {k for s in c.__subclasses__() for k in {s} | subclasses(s)}

    compared = 0
    for cls in subclasses(cst.CSTNode):
        fn = cls.__dict__.get("_visit_and_replace_children")
        if fn is None or getattr(fn, "__isabstractmethod__", False):
            continue
        expected = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
        found = ast.parse(textwrap.dedent(_source(fn))).body[0]
        assert isinstance(expected, ast.FunctionDef) and isinstance(found, ast.FunctionDef)
        assert _read_plan(found) == _read_plan(expected), cls
        compared += 1
    assert compared > 100


def test_children_are_libcsts() -> None:
    # tsscan.walk.children(node) is node.children (the same nodes, in the same order) for every
    # node of real code, without libcst's visitor
    from tsscan.walk import children

    class Every(cst.CSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.nodes: list[cst.CSTNode] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            self.nodes.append(node)
            return True

    compared = 0
    for text in sources():
        every = Every()
        cst.parse_module(text).visit(every)
        for node in every.nodes:
            ours, theirs = children(node), list(node.children)
            assert len(ours) == len(theirs) and all(a is b for a, b in zip(ours, theirs, strict=True)), type(node)
            compared += 1
    assert compared > 10_000
