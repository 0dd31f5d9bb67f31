"""The compiler is the spec: every rule's examples go through the installed torch.jit.script.

invalid: tsscan flags it and torch.jit.script rejects it; its ``fixed`` text is exactly what
the rule's fix produces, scripts, has no findings, and behaves like the eager original.
valid: no rule flags it and torch.jit.script accepts it.

The TS6xx band (constructs that script but behave differently once scripted) inverts the
first half: an invalid example must SCRIPT, and on its ``inputs`` the scripted code must give
a different outcome (value, python type, or raise vs return) than the eager code.
"""

import textwrap

import pytest
from harness import eager_all, outcome, same, script_all

from tsscan.engine import Engine, fix_text
from tsscan.registry import load_rules
from tsscan.rule import SAFE, UNSAFE

RULES = load_rules()
WARNING_BAND = "TS6"  # scripts, but eager and scripted behaviour differ
INVALID = [(r, i, ex) for r in RULES for i, ex in enumerate(r.invalid)]
REJECTED = [(r, i, ex) for r, i, ex in INVALID if not r.code.startswith(WARNING_BAND)]
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


@pytest.mark.parametrize("item", INVALID, ids=_id)
def test_invalid_example_is_flagged(item, engine):
    rule, _, ex = item
    result = engine.check("example.py", _src(ex.code))
    assert rule.code in {d.code for d in result.diagnostics}, result.diagnostics
    assert not result.errors


@pytest.mark.parametrize("item", REJECTED, ids=_id)
def test_invalid_example_does_not_script(item, tmp_path):
    _, _, ex = item
    with pytest.raises(Exception):  # noqa: B017 (issue 15: assert where it fails)
        script_all(ex.code, tmp_path)


def _run(fn, args):
    """The outcome of ``fn`` on a private copy of ``args``, and that copy after the call
    (a caller-visible change of an argument is behaviour too)."""
    import copy

    mine = copy.deepcopy(list(args))
    result = outcome(fn, mine)
    return result, ("args", tuple(mine))


def _outcomes(code, inputs, tmp_path):
    """(name, args, eager outcome, scripted outcome) for every scripted target of ``code``."""
    import torch

    scripted = dict(script_all(code, tmp_path))
    eager = dict(eager_all(code, tmp_path))
    args_list = eval(inputs, {"torch": torch, "float": float})
    return [
        (name, args, _run(eager[name], args), _run(fn, args))
        for name, fn in scripted.items()
        if name in eager
        for args in args_list
    ]


@pytest.mark.parametrize("item", DIVERGING, ids=_id)
def test_warning_example_scripts_but_behaves_differently(item, tmp_path):
    _, _, ex = item
    rows = _outcomes(ex.code, ex.inputs, tmp_path)  # raises if it does not script
    assert rows, "no target was run"
    differ = [
        r
        for r in rows
        if r[2][0][0] != r[3][0][0]
        or (r[2][0][0] == "ok" and not same(r[2][0][1], r[3][0][1]))
        or (r[2][0][0] == "raise" and r[2][0][1] != r[3][0][1])  # another exception type
        or not same(r[2][1][1], r[3][1][1])  # an argument changed differently
    ]
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
    only = Engine(RULES, "2.13.0", select=[rule.code])
    safeties = (SAFE,) if rule.fix_safety == SAFE else (SAFE, UNSAFE)
    new, applied, _ = fix_text(only, "example.py", _src(ex.code), safeties)
    assert new == _src(ex.fixed)
    assert applied and {d.code for d in applied} == {rule.code}
    again, applied_again, _ = fix_text(only, "example.py", new, safeties)
    assert again == new and not applied_again  # fixing twice changes nothing


@pytest.mark.parametrize("item", FIXED, ids=_id)
def test_fixed_example_scripts_clean_and_behaves_the_same(item, tmp_path, engine):
    _, _, ex = item
    assert engine.check("example.py", _src(ex.fixed)).diagnostics == []
    scripted = dict(script_all(ex.fixed, tmp_path))
    assert scripted
    if ex.inputs is None:
        return
    eager = dict(eager_all(ex.code, tmp_path))
    import torch  # noqa: F401  (the inputs expression uses it)

    namespace = {"torch": torch, "float": float}
    inputs = eval(ex.inputs, namespace)
    compared = 0
    for name, fn in scripted.items():
        if name not in eager:
            continue
        for args in inputs:
            e, s = outcome(eager[name], args), outcome(fn, args)
            assert e[0] == s[0], (name, args, e, s)
            if e[0] == "ok":
                assert same(e[1], s[1]), (name, args, e[1], s[1])
            compared += 1
    assert compared, "no target was compared"
