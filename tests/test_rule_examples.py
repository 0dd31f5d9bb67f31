"""The compiler is the spec: every rule's examples go through the installed torch.jit.script.

invalid: tsscan flags it and torch.jit.script rejects it *where the rule says* (a line the
compiler's error points at lies inside a finding of that rule); the rule offers exactly the fix
safety the example declares (``fix=``); its ``fixed`` text is exactly what the rule's fix
produces, scripts, has no findings, and behaves like the eager original on its ``inputs``.
valid: no rule flags it and torch.jit.script accepts it.

"Behaves the same" is the product's definition (``tsscan.verify.torch_worker.same``, re-exported by
``harness``): the tests hold fixes to exactly what ``--fix`` confirms, plus the same exception
type when both raise and the same argument mutations (deep copies: lists/dicts of tensors too).

The TS6xx band (constructs that script but behave differently once scripted) inverts the
first half: an invalid example must SCRIPT, and on its ``inputs`` the scripted code must give
a different outcome (value, python type, or raise vs return) than the eager code.
"""

import importlib.metadata
import textwrap

import pytest
from harness import EAGER_RAISES, agree, compiler_error, eager_all, outcome, script_all

from tsscan.engine import Engine
from tsscan.fix.edits import fix_text
from tsscan.registry import load_rules
from tsscan.rule import SAFE, UNSAFE, version_matches

RULES = load_rules()
WARNING_BAND = "TS6"  # scripts, but eager and scripted behaviour differ
INVALID = [(r, i, ex) for r in RULES for i, ex in enumerate(r.invalid)]
# the engine fixture's target is 2.13.0, the installed torch; a rule for constructs a later torch
# rejects (``fails_in = ">=2.14"``) is checked with an engine at that version, and its invalid
# examples must script in the installed torch (the version boundary is tested, not skipped)
INSTALLED = importlib.metadata.version("torch")
LATER = {r.code: "2.14.0" for r in RULES if not version_matches("2.13.0", r.fails_in)}
assert all(version_matches(v, r.fails_in) for r in RULES for v in [LATER.get(r.code)] if v)
REJECTED = [
    (r, i, ex) for r, i, ex in INVALID if not r.code.startswith(WARNING_BAND) and version_matches(INSTALLED, r.fails_in)
]
LATER_ONLY = [(r, i, ex) for r, i, ex in INVALID if not version_matches(INSTALLED, r.fails_in)]
DIVERGING = [(r, i, ex) for r, i, ex in INVALID if r.code.startswith(WARNING_BAND)]
VALID = [(r, i, ex) for r in RULES for i, ex in enumerate(r.valid)]
FIXED = [(r, i, ex) for r, i, ex in INVALID if ex.fixed is not None]


def _src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def _id(item):
    rule, i, _ = item
    return f"{rule.code}-{i}"


def test_every_rule_has_examples():
    assert RULES, "no rules were loaded"
    for rule in RULES:
        assert rule.invalid, f"{rule.code} has no invalid example"
        assert rule.valid, f"{rule.code} has no valid example"
        if rule.fix_safety:
            assert any(ex.fixed for ex in rule.invalid), f"{rule.code} offers a fix but shows none"
        if rule.code.startswith(WARNING_BAND):
            assert all(ex.inputs for ex in rule.invalid), f"{rule.code}: a TS6xx example needs inputs"


def _engine(rule, engine):
    """The engine fixture, or one at the torch version the rule is for."""
    return Engine(RULES, LATER[rule.code]) if rule.code in LATER else engine


@pytest.mark.parametrize("item", INVALID, ids=_id)
def test_invalid_example_is_flagged(item, engine):
    rule, _, ex = item
    result = _engine(rule, engine).check("example.py", _src(ex.code))
    assert rule.code in {d.code for d in result.diagnostics}, result.diagnostics
    assert not result.errors


# Examples whose compiler error points at a line outside the rule's finding, or at no line at
# all: the exception type, a fragment of its message, and the lines it points at, each with why.
# Everything else must fail inside a finding of its rule; an entry that is no longer needed fails.
ELSEWHERE = {
    # torch drops positional-only parameters: the error is at the first use of `x`
    ("TS203", 0): ("RuntimeError", "undefined value x", {6}),
    # the slice compiles to a plain Linear; calling an element of it fails
    ("TS311", 0): ("RuntimeError", "has no attribute or method '__call__'", {13}),
    # the compiler fails inside torch: the body of torch.onnx.is_in_onnx_export imports
    ("TS421", 1): ("UnsupportedNodeError", "import statements aren't supported", {358}),
    # the compiler names no line for these
    ("TS123", 1): ("RuntimeError", "nullcontext.__aenter__", set()),
    ("TS216", 0): ("RuntimeError", "Cannot create dict for key type '(int, int)'", set()),
    ("TS217", 0): ("OSError", "Failed to get source for <function Box.__init__", set()),
    ("TS507", 0): ("TypeError", "cannot create weak reference to 'numpy.ufunc' object", set()),
}


def flagged_lines(engine, code: str, rule_code: str) -> set[int]:
    """The lines covered by ``rule_code``'s findings on ``code``."""
    found = engine.check("example.py", _src(code)).diagnostics
    return {n for d in found if d.code == rule_code for n in range(d.line, max(d.line, d.end_line) + 1)}


def where_it_fails(engine, rule_code: str, key: tuple[str, int] | None, code: str, tmp_path) -> list[str]:
    """Why ``code`` (an invalid example of ``rule_code``) does not fail where the rule says;
    empty when it does."""
    err = compiler_error(code, tmp_path)
    if err is None:
        return ["it scripts"]
    inside = err.lines & flagged_lines(engine, code, rule_code)
    if key in ELSEWHERE:
        want = ELSEWHERE[key]
        if inside:
            return [f"fails inside the finding now: drop {key} from ELSEWHERE"]
        got = (err.type, err.lines)
        if got != (want[0], want[2]) or want[1] not in err.message:
            return [f"expected {want}, got {got}: {err.message[:300]}"]
        return []
    if not inside:
        return [
            f"{err.type} at lines {sorted(err.lines)} ({err.how or 'no line'}), "
            f"{rule_code} flags {sorted(flagged_lines(engine, code, rule_code))}: {err.message[:300]}"
        ]
    return []


@pytest.mark.parametrize("item", REJECTED, ids=_id)
def test_invalid_example_fails_where_the_rule_says(item, tmp_path, engine):
    rule, i, ex = item
    assert where_it_fails(engine, rule.code, (rule.code, i), ex.code, tmp_path) == []


@pytest.mark.parametrize("item", LATER_ONLY, ids=_id)
def test_invalid_example_of_a_later_torch_scripts_in_the_installed_one(item, tmp_path, engine):
    """A rule for a later torch is silent at 2.13, where its invalid example compiles."""
    rule, _, ex = item
    assert rule.code not in {d.code for d in engine.check("example.py", _src(ex.code)).diagnostics}
    assert compiler_error(ex.code, tmp_path) is None


def test_elsewhere_names_real_examples():
    for code, i in ELSEWHERE:
        assert any(r.code == code and len(r.invalid) > i for r in RULES), (code, i)


PLANTED_RULE = '''
import libcst as cst

from tsscan.rule import Example, Rule


class AbsUnsupported(Rule):
    """A false rule: `x.abs()` is unsupported (it is supported).

    What it does:
        Flags `x.abs()`.

    Why is this bad:
        It is not: the tests plant this rule to show that they catch it.

    Example:
        y = x.abs()

    Use instead:
        y = x.abs()
    """

    code = "TS999"
    name = "planted-abs"
    message = "`.abs()` is not supported"
    invalid = [
        Example(
            """
import torch


@torch.jit.script
def norm(x: torch.Tensor) -> torch.Tensor:
    y = x.abs()
    f = lambda v: v
    return y
"""
        ),
    ]
    valid = []

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "abs":
            self.report(node)
'''


def test_a_planted_false_rule_fails(tmp_path):
    """Issue 15: a false rule whose invalid example fails for another reason (a lambda on
    another line) passed the whole suite. The example check now rejects it: the compiler's
    error is at the lambda, outside the rule's finding."""
    rule_dir = tmp_path / "rules"
    rule_dir.mkdir()
    (rule_dir / "TS999_planted.py").write_text(PLANTED_RULE)
    rules = load_rules([rule_dir])
    (planted,) = [r for r in rules if r.code == "TS999"]
    engine = Engine(rules, "2.13.0")
    (example,) = planted.invalid
    assert flagged_lines(engine, example.code, "TS999") == {6}
    problems = where_it_fails(engine, "TS999", ("TS999", 0), example.code, tmp_path)
    assert len(problems) == 1 and problems[0].startswith("UnsupportedNodeError at lines [7] (message), TS999 flags [6]")
    # without the lambda the example scripts, which the check reports too
    alone = example.code.replace("    f = lambda v: v\n", "")
    assert where_it_fails(engine, "TS999", ("TS999", 0), alone, tmp_path) == ["it scripts"]


@pytest.mark.parametrize("item", INVALID, ids=_id)
def test_invalid_example_declares_the_safety_of_its_fix(item, engine):
    """``Example(fix=...)`` is the safety of the fix the rule offers there (None: no fix)."""
    rule, _, ex = item
    found = [d for d in _engine(rule, engine).check("example.py", _src(ex.code)).diagnostics if d.code == rule.code]
    assert found
    assert {d.fix for d in found} - {None} == ({ex.fix} if ex.fix else set())
    if ex.fixed is not None:
        assert ex.fix in (SAFE, UNSAFE), "an example with a fixed text declares its fix"
    if ex.fix is not None:
        assert rule.fix_safety is not None, "the rule offers a fix but declares none"


def _rows(code, inputs, tmp_path, fixed=None):
    """(name, args, eager outcome of ``code``, scripted outcome of ``fixed`` or ``code``) for
    every scripted target, on every input."""
    import torch

    scripted = dict(script_all(fixed or code, tmp_path))
    eager = dict(eager_all(code, tmp_path))
    args_list = eval(inputs, {"torch": torch, "float": float})
    rows = [
        (name, args, outcome(eager[name], args), outcome(fn, args))
        for name, fn in scripted.items()
        if name in eager
        for args in args_list
    ]
    assert rows, "no target was run"
    return rows


@pytest.mark.parametrize("item", DIVERGING, ids=_id)
def test_warning_example_scripts_but_behaves_differently(item, tmp_path):
    _, _, ex = item
    rows = _rows(ex.code, ex.inputs, tmp_path)  # raises if it does not script
    differ = [r for r in rows if not agree(r[2], r[3])]
    assert differ, f"eager and scripted agree on every input: {rows}"


@pytest.mark.parametrize("item", VALID, ids=_id)
def test_valid_example_is_clean(item, engine):
    _, _, ex = item
    result = engine.check("example.py", _src(ex.code))
    assert result.diagnostics == [] and not result.errors


@pytest.mark.parametrize("item", VALID, ids=_id)
def test_valid_example_scripts(item, tmp_path):
    _, _, ex = item
    assert script_all(ex.code, tmp_path), "the example defines nothing to script"


@pytest.mark.parametrize("item", FIXED, ids=_id)
def test_fix_produces_fixed_example(item):
    rule, _, ex = item
    only = Engine(RULES, LATER.get(rule.code, "2.13.0"), select=[rule.code])
    safeties = (SAFE,) if ex.fix == SAFE else (SAFE, UNSAFE)
    new, applied, _ = fix_text(only, "example.py", _src(ex.code), safeties)
    assert new == _src(ex.fixed)
    assert applied and {d.code for d in applied} == {rule.code}
    again, applied_again, _ = fix_text(only, "example.py", new, safeties)
    assert again == new and not applied_again  # fixing twice changes nothing
    if ex.fix == UNSAFE:  # plain --fix leaves an unsafe fix alone
        assert fix_text(only, "example.py", _src(ex.code), (SAFE,))[0] == _src(ex.code)


def test_every_fixed_example_has_inputs():
    assert [(r.code, i) for r, i, ex in FIXED if not ex.inputs] == []


# Known behaviour differences of a fix, found by these tests (issue 15): each is a bug to fix in
# the rule (or its fix made UNSAFE); strict, so the test turns red once it is fixed. (TS124-0
# and TS128-0 raised IndexError where Python raises StopIteration/ValueError: their fixes now
# check the length first.)
KNOWN_DIFFERENCES: dict[tuple[str, int], str] = {}


def _known(items):
    return [
        pytest.param(it, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[it[0].code, it[1]]))
        if (it[0].code, it[1]) in KNOWN_DIFFERENCES
        else it
        for it in items
    ]


@pytest.mark.parametrize("item", _known(FIXED), ids=_id)
def test_fixed_example_scripts_clean_and_behaves_the_same(item, tmp_path, engine):
    rule, i, ex = item
    assert _engine(rule, engine).check("example.py", _src(ex.fixed)).diagnostics == []
    rows = _rows(ex.code, ex.inputs, tmp_path, fixed=ex.fixed)
    eager_fixed = dict(eager_all(ex.fixed, tmp_path)).__getitem__
    if (rule.code, i) in EAGER_RAISES:
        assert {(r[2].kind, r[2].value) for r in rows} == {("raise", EAGER_RAISES[rule.code, i])}
        rows = _rows(ex.fixed, ex.inputs, tmp_path)
    assert [r for r in rows if not agree(r[2], r[3], scripted=True)] == []
    # the fixed text run as Python: exactly the original's values, exception types and mutations
    if (rule.code, i) not in EAGER_RAISES:
        python_rows = [(r[0], r[1], r[2], outcome(fn, r[1])) for r in rows for fn in [eager_fixed(r[0])]]
        assert [r for r in python_rows if not agree(r[2], r[3])] == []
