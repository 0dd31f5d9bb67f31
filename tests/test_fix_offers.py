"""When the fixes written for the corpus's failures (issue 12) are offered, and when not: the
conditions that keep them exact (no torch needed; tests/test_fix_real.py runs them with it)."""

from __future__ import annotations

import textwrap

import pytest

from tsscan.rules.TS320_attribute_missing_at_defaults import AttributeMissingAtDefaults

FLAG = textwrap.dedent(AttributeMissingAtDefaults.invalid[0].code).lstrip("\n")


def _fixes(engine, code: str, rule: str) -> list[str | None]:
    return [d.fix for d in engine.check("m.py", code).diagnostics if d.code == rule]


def test_final_flag_fix_is_offered_for_a_bool_flag_set_once(engine):
    assert _fixes(engine, FLAG, "TS320") == ["safe"]


@pytest.mark.parametrize(
    "change",
    [
        # another method assigns the flag: a constant would not follow it
        (
            "        return self.proj(x)\n",
            "        return self.proj(x)\n\n    def disable(self) -> None:\n        self.use_rel_pos = False\n",
        ),
        # the flag is not surely a bool
        ("use_rel_pos: bool = False", "use_rel_pos: int = 0"),
        # assigned twice in __init__
        (
            "        self.use_rel_pos = use_rel_pos\n",
            "        self.use_rel_pos = use_rel_pos\n        self.use_rel_pos = not use_rel_pos\n",
        ),
    ],
)
def test_final_flag_fix_is_not_offered_when_the_flag_may_change(engine, change):
    old, new = change
    code = FLAG.replace(old, new)
    assert code != FLAG
    fixes = _fixes(engine, code, "TS320")
    assert fixes and fixes == [None] * len(fixes)


RETURNED = """
from typing import List

import torch
from torch import nn


class Stem(nn.Module):
    def forward(self, x) -> List[torch.Tensor]:
        for _ in range(2):
            x = {step}
        return x


class Split(nn.Module):
    def forward(self, x) -> List[torch.Tensor]:
        x = {step}
        return x
"""


@pytest.mark.parametrize(("step", "offered"), [("torch.relu(x)", True), ("x * 2", False), ("torch.cat([x, x])", False)])
def test_returned_parameter_is_annotated_only_through_x_equals_f_of_x_steps(engine, step, offered):
    """Only in a loop: outside one, `x = f(x)` may give `x` the list type (`x = x.unbind(0)`),
    so `Split` never gets the fix."""
    fixes = _fixes(engine, RETURNED.format(step=step), "TS221")
    assert fixes == (["safe", None] if offered else [None, None])


DUNDER_PROPERTIES = '''
import torch
from torch import nn


class Block(nn.Module):
    """A block."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    @property
    def kind(self) -> str:
        return self.__class__.__name__

    @property
    def fields(self) -> str:
        return str(sorted(self.__dict__))

    @property
    def width(self) -> int:
        return 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)
'''


def test_unused_properties_fix_lists_every_dunder_property_once_after_the_docstring(engine):
    from tsscan.fix.edits import fix_text

    new = fix_text(engine, "m.py", DUNDER_PROPERTIES, ("safe",))[0]
    assert new.count("__jit_unused_properties__") == 1
    assert '    """A block."""\n\n    __jit_unused_properties__ = ["kind", "fields"]\n\n    def __init__' in new
    assert [d.code for d in engine.check("m.py", new).diagnostics] == []


def test_unused_properties_fix_is_not_offered_where_the_class_has_a_list(engine):
    code = DUNDER_PROPERTIES.replace('"""A block."""', '"""A block."""\n\n    __jit_unused_properties__ = ["width"]')
    fixes = _fixes(engine, code, "TS307")
    assert len(fixes) == 2 and fixes == [None, None]


NESTED = """
import torch
from torch import nn


class Grid(nn.Module):
    def forward(self, x: torch.Tensor, scale: float = 0.5) -> torch.Tensor:
        n = x.shape[-1]

        def cells(r):
            return int(n * r)

        return x * cells(scale)
"""


@pytest.mark.parametrize(
    "change",
    [
        ("        return x * cells(scale)\n", "        n = 3\n        return x * cells(scale)\n"),  # rebound after
        ("return int(n * r)", "return int(n * r * self.training)"),  # reads self
        ("        return x * cells(scale)\n", "        f = cells\n        return x * f(scale)\n"),  # a value
        ("        return x * cells(scale)\n", "        return x * cells(*[scale])\n"),  # starred argument
    ],
)
def test_nested_function_fix_is_not_offered_when_moving_it_could_change_it(engine, change):
    old, new = change
    code = NESTED.replace(old, new)
    assert code != NESTED
    assert _fixes(engine, NESTED, "TS108") == ["safe"]
    assert _fixes(engine, code, "TS108") == [None]


MEMBERSHIP = """
import torch


@torch.jit.script
def f(x: torch.Tensor, d=None, e=None) -> torch.Tensor:
    if d is not None:
        if "a" in d:
            x = x * d["a"]
    if e is not None:
        for c in range(3):
            if c in e:
                x = x + 1
    return x
"""


def test_ts605_list_annotation_only_for_a_parameter_read_only_by_in(engine):
    """``e`` is read only as the right of ``c in e`` (``c`` an int): ``Optional[List[int]]``.
    ``d`` is also indexed (``d["a"]``, a dict: speechbrain's ``prob_matrices``): no list, and no
    fix, as before."""
    found = {
        d.message.split("`")[1]: (d.fix, d.message.rsplit("annotate ", 1)[1])
        for d in engine.check("m.py", MEMBERSHIP).diagnostics
        if d.code == "TS605"
    }
    assert found == {
        "d=None": (None, "`Optional[torch.Tensor]`"),
        "e=None": ("safe", "`Optional[List[int]]`"),
    }, found


BEFORE = """
import torch
from torch import nn


class A(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.bool()
        return x * y


class B(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x > 0
        return x * y
"""


def test_a_finding_is_the_fixes_doing_when_its_function_had_none_like_it(engine):
    """The judge's record of what the code had before the fixes: a finding explains a compiler
    error only where the same finding was, in the same function. The same line in another
    function of a big file (x-transformers' many ``if exists(mask):``) does not count."""
    from tsscan.files import split_lines
    from tsscan.fix.judge import _explained, original_findings

    after = BEFORE.replace("        y = x > 0\n", "        y = x.bool()\n")
    original = original_findings(engine.check("m.py", BEFORE), BEFORE)
    result = engine.check("m.py", after)
    lines = split_lines(after)
    where = {d.line: _explained(d, lines, result, original) for d in result.diagnostics if d.code == "TS401"}
    assert where == {8: True, 14: False}, where


CALLEE = """
from typing import Optional

import torch
from torch import nn


def masked(x, mask):
    if mask is not None:
        x = x * mask
    return x


class Block(nn.Module):
    def scale(self, x, by=None):
        {scale_body}

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        y = masked(x, mask) + masked(x, None)
        return self.scale(y, mask)
"""


def test_an_optional_passed_to_a_callee_annotates_the_callee_once_and_the_file_checks_clean(engine):
    from tsscan.fix.edits import fix_text

    code = CALLEE.format(scale_body="return x if by is None else x * by")
    offered = [(d.line, d.code, d.fix) for d in engine.check("m.py", code).diagnostics]
    # two calls pass an Optional to `masked`, one to `scale` (where TS605 also offers its fix)
    assert [c for _, c, f in offered if f == "safe"].count("TS410") == 3
    fixed, applied, remaining = fix_text(engine, "m.py", code)
    assert "def masked(x, mask: Optional[torch.Tensor]):" in fixed
    assert "def scale(self, x, by: Optional[torch.Tensor] = None):" in fixed
    assert fixed.count("Optional[torch.Tensor]") == 3  # the callees' two and forward's own
    assert remaining.diagnostics == []
    assert fix_text(engine, "m.py", fixed)[0] == fixed  # fixing twice changes nothing


@pytest.mark.parametrize(
    "scale_body",
    [
        "return x * by",  # never tested against None: the annotation would not compile
        "return x if by else x * 2",  # a truth test does not refine an Optional[Tensor]
    ],
)
def test_no_callee_annotation_where_the_callee_does_not_test_the_parameter_against_none(engine, scale_body):
    code = CALLEE.format(scale_body=scale_body)
    found = [d for d in engine.check("m.py", code).diagnostics if d.code == "TS410" and "self.scale" in d.message]
    assert len(found) == 1 and found[0].fix is None


def test_a_callee_parameter_with_a_none_default_gets_an_optional_and_its_import(engine):
    code = CALLEE.format(scale_body="return x if by is None else x * by").replace(
        "return self.scale(y, mask)", "return self.scale(y, 2)"
    )
    result = engine.check("m.py", code)
    (offer,) = [pf.fix for pf in result.fixes if pf.diagnostic.code == "TS410" and pf.diagnostic.line == 20]
    assert offer.description == "annotate `by` of `scale` (line 15) `Optional[int]`"
    assert offer.imports == ["from typing import Optional"]
    # TS605 offers its blind Optional[torch.Tensor] for the same parameter: `--fix` lets the
    # compiler choose (the call passes an int), plain fixing takes the first finding
    assert [pf.fix.description for pf in result.fixes if pf.diagnostic.code == "TS605"] == [
        "annotate `Optional[torch.Tensor]`"
    ]
