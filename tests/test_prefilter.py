"""The rules' pre-filters (tsscan/prefilter.py): a function reaches libcst only when some
selected rule may report in it. They must be sound: the same findings with and without them,
and the libcst node types each hook is called on must show in the stdlib ``ast`` of the
function as the table says, on real code (the rules' examples and the fixtures)."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest

from tsscan.candidates import candidates, function_features, selected
from tsscan.engine import Engine
from tsscan.files import split_lines
from tsscan.prefilter import _CST_TO_AST, AUTO, HOOKS, Needs, features, from_hooks, may_fire, resolved_needs
from tsscan.registry import INDEX, index_text, load_rules, rule_infos
from tsscan.rule import OPT_IN_BANDS, Rule, RuleLoadError, validate_rule
from tsscan.semantic.compiled import analyse

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules()
SOURCES = [ex.code for r in RULES for ex in (*r.invalid, *r.valid)] + [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures").rglob("*.py"))
]


def test_the_index_of_the_builtin_rules_is_up_to_date():
    assert INDEX.read_text(encoding="utf-8") == index_text(), "run: python -m tsscan.registry"


def test_the_index_describes_the_rules_as_loaded():
    by_code = {r.code: r for r in RULES}
    infos = rule_infos()
    assert [i.code for i in infos] == sorted(by_code)
    for info in infos:
        rule = by_code[info.code]
        assert (info.fails_in, info.sees_init, info.init_calls) == (rule.fails_in, rule.sees_init, rule.init_calls)
        assert info.needs == resolved_needs(rule)
        assert info.load() is rule


# the node types the examples and fixtures may lack
RARE = """\
import torch
from torch import nn
G = 0


def rare(x, *, k=1):
    global G
    import os.path
    from os import path as p, sep
    def inner():
        nonlocal x
        yield x
        yield from [x]
    async def waits(y):
        async with y as z:
            await z
        async for w in y:
            pass
    try:
        pass
    except* ValueError:
        pass
    match x:
        case [a, *rest] if (b := a):
            pass
        case {"k": v, **others}:
            pass
        case C(q=1):
            pass
    del x
    assert k, f"{k!r:>3}"
    s = {1, *[2]}
    d = {**{}, 1: 2}
    x = lambda q=1: q if q else -q
    x @= x
    return [i for i in s if i], {i for i in s}, {i: i for i in s}, (i for i in s), x[1:2, ...], b"b" b"c", "a" f"{s}"
"""


def _functions(text: str):
    """(ast function, libcst function) for every def of ``text``, nested ones included."""
    tree = ast.parse(text)
    lines = split_lines(text)
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([d.lineno for d in fn.decorator_list] + [fn.lineno])
        chunk = lines[start - 1 : fn.end_lineno]
        indented = chunk[0][:1] in (" ", "\t")
        module = cst.parse_module(("if 1:\n" if indented else "") + "".join(chunk).rstrip() + "\n")
        stmt = module.body[0]
        node = stmt.body.body[0] if indented else stmt  # type: ignore[attr-defined]
        assert isinstance(node, cst.FunctionDef)
        yield fn, node, "".join(chunk)


def _cst_nodes(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _cst_nodes(child)


def test_each_libcst_node_shows_in_the_ast_as_the_table_says():
    checked: set[str] = set()
    for text in [*SOURCES, RARE]:
        for fn, node, chunk in _functions(text):
            found = features(fn, chunk).nodes
            for sub in _cst_nodes(node):
                kind = type(sub).__name__
                wanted = _CST_TO_AST.get(kind)
                if wanted is None:
                    continue
                checked.add(kind)
                assert found & set(wanted), f"a libcst {kind} in {fn.name} (line {fn.lineno}): no {wanted} in its ast"
    # the table is exercised for the node types the rules hook
    hooked = {h.split("_")[1] for r in RULES for h in _hooks(r)}
    assert {"Call", "Attribute", "Try", "Lambda", "Annotation", "Decorator", "AugAssign"} <= checked
    assert hooked & set(_CST_TO_AST) <= checked


def _hooks(rule: type[Rule]) -> list[str]:
    from tsscan.prefilter import hook_names

    return list(hook_names(rule))


@pytest.mark.parametrize("prefiltered", [True, False], ids=["with", "without"])
def test_same_findings_with_and_without_the_prefilters(prefiltered, tmp_path):
    """The rules' examples and the fixtures, every rule selected: what the pre-filters keep from
    libcst changes no finding (scripts/compare_runs.py checks it over the real-world corpus)."""
    with_ = Engine(rule_infos(), "2.13.0", select=("TS", *OPT_IN_BANDS))
    without = Engine(RULES, "2.13.0", select=("TS", *OPT_IN_BANDS))
    without.prefilter = False
    engine = with_ if prefiltered else without
    total = 0
    for k, text in enumerate(SOURCES):
        path = str(tmp_path / f"example_{k}.py")
        got = engine.check(path, text)
        want = without.check(path, text) if prefiltered else got
        assert [d.sort_key() for d in got.diagnostics] == [d.sort_key() for d in want.diagnostics], text
        assert [(d.message, d.fix) for d in got.diagnostics] == [(d.message, d.fix) for d in want.diagnostics]
        total += len(got.diagnostics)
    assert total > 200


def test_derived_from_hooks():
    assert from_hooks(["visit_Try", "visit_TryStar"]) == Needs(nodes={"Try", "TryStar"})
    assert from_hooks(["visit_Call", "leave_Call"]) == Needs(nodes={"Call"})
    assert from_hooks(["visit_Call_func"]) == Needs(nodes={"Call"})  # an attribute hook
    assert from_hooks(["visit_Lambda", "visit_FunctionDef"]) is None  # the function itself
    assert from_hooks(["visit_Name"]) is None


class _OnTry(Rule):
    code, name, message = "TS991", "on-try", "m"

    def visit_Try(self, node) -> None:
        self.report(node)


class _ReportsFromOnFunction(_OnTry):
    def on_function(self) -> None:
        self.report(self.ctx.function_node)


class _ResetsOnly(_ReportsFromOnFunction):
    needs = HOOKS


class _Declared(_OnTry):
    needs = Needs(calls={"map"})


def test_resolved_needs():
    assert _OnTry.needs is AUTO
    assert resolved_needs(_OnTry) == Needs(nodes={"Try"})
    assert resolved_needs(_ReportsFromOnFunction) is None  # it may report before any hook
    assert resolved_needs(_ResetsOnly) == Needs(nodes={"Try"})
    assert resolved_needs(_Declared) == Needs(calls={"map"})


def test_needs_must_be_a_needs():
    class Bad(_OnTry):
        needs = {"Call"}

    with pytest.raises(RuleLoadError, match="needs"):
        validate_rule(Bad, Path("bad.py"))
    with pytest.raises(ValueError, match="not ast node types"):
        Needs(nodes={"Cal"})


SOURCE = """\
import math
import torch
from torch import nn, float32 as f32

SCALE = 2.0


def helper(x, *args, k=1, **kw):
    return x


class M(nn.Module):
    @torch.jit.export
    def plain(self, x):
        return x

    def forward(self, x: torch.Tensor, n=None):  # type: (Tensor, int) -> Tensor
        def inner(y):
            return y
        if n:
            return x * SCALE
        return torch.sqrt(x).to(f32) + math.pi
"""


def test_features_of_a_function():
    scope = analyse(ast.parse(SOURCE))
    by_name = {cf.qualname: cf for cf in scope.compiled}
    lines = split_lines(SOURCE)
    forward = function_features(by_name["M.forward"], scope.module, lines)
    assert {"Annotation", "Default", "NestedFunction", "MultipleReturns", "TypeComment", "ModuleValue"} <= forward.nodes
    assert {"Decorator", "VarArg", "KwOnly", "PosOnly"}.isdisjoint(forward.nodes)
    assert {"sqrt", "to"} <= forward.calls and {"math", "torch"} <= forward.imports
    plain = function_features(by_name["M.plain"], scope.module, lines)
    assert "Decorator" in plain.nodes
    assert not {"Annotation", "Default", "MultipleReturns", "TypeComment", "ModuleValue", "Call"} & plain.nodes
    assert not may_fire(Needs(nodes={"Call"}, calls={"sqrt"}, imports={"math"}), plain)
    assert may_fire(Needs(imports={"math"}), forward) and may_fire(None, plain)
    infos = selected(rule_infos(), "2.13.0", ("TS",), ())
    assert [i.code for i in candidates(by_name["M.plain"], scope.module, infos, lines)] == [
        "TS136",  # @staticmethod on forward
        "TS213",  # the attribute rules: `torch.jit.export` is an attribute
        *["TS250", "TS251"],  # the names a wrapper's module lacks
        "TS261",
        "TS262",
        "TS301",
        "TS303",
        "TS313",
        "TS320",
        "TS321",
        "TS402",
        "TS604",  # a decorator that drops functools.wraps
    ]
    identity = "from torch import nn\n\n\nclass Identity(nn.Module):\n    def forward(self, x):\n        return x\n"
    scope = analyse(ast.parse(identity))
    assert candidates(scope.compiled[0], scope.module, infos, split_lines(identity)) == []  # no rule may report


def test_a_method_of_a_decorated_class_is_decorated():
    text = "import torch\n\n\n@torch.jit.script\nclass C:\n    def f(self, x: int) -> int:\n        return x\n"
    scope = analyse(ast.parse(text))
    (cf,) = scope.compiled
    assert "Decorator" in function_features(cf, scope.module, split_lines(text)).nodes
