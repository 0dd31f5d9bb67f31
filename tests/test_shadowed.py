"""A builtin's name bound again, by the compiled function or at the file's module level, is not
the builtin: the rules about builtins ask one question of the model (``ctx.is_shadowed``) and
stay silent on such a call."""

import textwrap

import pytest

SUM = """\
from typing import List

import torch
{module}

class Total(torch.nn.Module):
    def forward(self, parts: List[torch.Tensor]) -> torch.Tensor:
        {local}
        return sum(parts)
"""

RANGE = """\
import torch
{module}

class Pick(torch.nn.Module):
    def forward(self, x: torch.Tensor, n: int) -> int:
        {local}
        return len(range(n))
"""

REVERSED = """\
from typing import List

import torch
{module}

class Walk(torch.nn.Module):
    def forward(self, x: torch.Tensor, n: int) -> torch.Tensor:
        {local}
        for i in reversed(range(n)):
            x = x + i
        return x
"""


def _codes(engine, template: str, module: str = "", local: str = "pass") -> list[str]:
    code = template.format(module=module, local=local)
    return [d.code for d in engine.check("m.py", textwrap.dedent(code)).diagnostics]


@pytest.mark.parametrize(
    ("template", "code", "name"),
    [(SUM, "TS518", "sum"), (RANGE, "TS517", "range"), (REVERSED, "TS501", "reversed")],
)
def test_a_builtin_bound_again_is_not_the_builtin(engine, template, code, name) -> None:
    assert code in _codes(engine, template)  # the builtin: flagged
    # bound at module level: an assignment, a def, an import
    assert code not in _codes(engine, template, module=f"{name} = None")
    assert code not in _codes(engine, template, module=f"def {name}(*args):\n    return 0")
    assert code not in _codes(engine, template, module=f"from helpers import {name}")
    # bound in the function
    assert code not in _codes(engine, template, local=f"{name} = len")


def test_the_countdown_fix_needs_the_builtin_range(engine) -> None:
    fixes = [d.fix for d in engine.check("m.py", REVERSED.format(module="", local="pass")).diagnostics]
    assert any(f is not None for f in fixes)  # `reversed(range(n))` counts down with range
    shadowed = REVERSED.format(module="", local="range = torch.arange")
    assert not any(d.code == "TS501" for d in engine.check("m.py", shadowed).diagnostics)
