"""Rules see `__init__` and module builders only when they ask to (`Rule.sees_init`)."""

import textwrap

import libcst as cst

from tsscan.engine import Engine
from tsscan.registry import load_rules
from tsscan.rule import Example, Rule

SOURCE = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(2, 2)
            self.proj.register_forward_hook(lambda m, i, o: o)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.proj(x)

        def helper(self):
            return 1


    def build() -> nn.Module:
        m = nn.Linear(3, 3)
        m.register_forward_pre_hook(lambda mod, inp: inp)
        return m


    def unrelated(a, b):
        return a + b
    """
).lstrip("\n")


class EveryFunction(Rule):
    """Reports every function it is given (test only)."""

    code = "TS998"
    name = "every-function"
    message = "seen"
    invalid = [Example("")]
    valid = [Example("")]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.report(node.name, f"seen {node.name.value} ({self.ctx.function.why})")


class EveryInit(EveryFunction):
    code = "TS999"
    name = "every-init"
    sees_init = True


def _lines(rule_classes):
    result = Engine(rule_classes, "2.13.0").check("net.py", SOURCE)
    assert not result.errors
    return sorted((d.code, d.message) for d in result.diagnostics)


def test_ordinary_rules_never_see_init_or_builders():
    assert _lines([EveryFunction]) == [("TS998", "seen forward (forward)")]


def test_opted_in_rules_see_init_and_builders_too():
    assert _lines([EveryInit]) == [
        ("TS999", "seen __init__ (__init__)"),
        ("TS999", "seen build (builder)"),
        ("TS999", "seen forward (forward)"),
    ]


def test_both_kinds_together_and_compiled_count():
    result = Engine([EveryFunction, EveryInit], "2.13.0").check("net.py", SOURCE)
    codes = [(d.code, d.line) for d in result.diagnostics]
    assert codes == [
        ("TS999", 6),
        ("TS998", 11),
        ("TS999", 11),
        ("TS999", 18),
    ]  # __init__ (6) and build (18): TS999 only
    assert result.compiled == 1  # forward; __init__ and build are not compiled code


def test_lambda_hooks_in_init_and_builder_are_reported():
    ts309 = [r for r in load_rules() if r.code == "TS309"]
    result = Engine(ts309, "2.13.0").check("net.py", SOURCE)
    assert [(d.code, d.line) for d in result.diagnostics] == [("TS309", 9), ("TS309", 20)]


def test_files_without_modules_cost_nothing_extra():
    src = "def f(x):\n    return x\n"
    result = Engine([EveryInit], "2.13.0").check("plain.py", src)
    assert result.diagnostics == [] and result.snippets == []


class HookInits(EveryFunction):
    code = "TS997"
    name = "hook-inits"
    sees_init = True
    init_calls = frozenset({"register_forward_hook"})


def test_init_calls_limit_what_is_parsed_for_the_rule():
    assert _lines([HookInits]) == [
        ("TS997", "seen __init__ (__init__)"),
        ("TS997", "seen forward (forward)"),
    ]
    result = Engine([HookInits], "2.13.0").check(
        "plain.py", "from torch import nn\n\n\ndef make():\n    return nn.Linear(2, 2)\n"
    )
    assert result.snippets == []  # a builder without hooks: nothing to parse
