"""Rules keep per-function state in visitor attributes; state read before any hook set it crashed
TS606 ("'FloatToStr' object has no attribute '_stmt'", issue 15) on a ``forward`` whose first
statement was ``if f"layer{i}" in feats:``.

* the crash input checks cleanly through the real CLI (regression);
* a static sweep: every ``self.<attr>`` a rule sets in a visit/leave hook and reads anywhere is
  also set in ``__init__``, ``on_function`` or the class body;
* a dynamic sweep: every rule runs over functions that start with each statement kind, around
  expressions the rules look at, without an internal error.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tsscan.registry import load_rules

RULES_DIR = Path(__file__).resolve().parent.parent / "tsscan" / "rules"
INITIALISING = {"__init__", "on_function"}

CRASH_INPUT = """\
import torch
from torch import nn
from typing import Dict


class Net(nn.Module):
    def forward(self, feats: Dict[str, torch.Tensor], i: int) -> torch.Tensor:
        if f"layer{i}" in feats:
            return feats[f"layer{i}"]
        return torch.zeros(1)
"""


def test_ts606_crash_input_checks_cleanly(tmp_path):
    (tmp_path / "net.py").write_text(CRASH_INPUT)
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "check", "--no-cache", "net.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "All checks passed (1 file).\n"


def test_ts606_still_flags_a_float_in_an_if_test(engine):
    src = CRASH_INPUT.replace("i: int", "i: float")
    result = engine.check("net.py", src)
    assert not result.errors
    assert [(d.code, d.line) for d in result.diagnostics] == [("TS606", 8), ("TS606", 9)]


def _hook_state(cls: ast.ClassDef) -> list[str]:
    """Attributes set in a hook, read somewhere, and set neither in __init__/on_function nor in
    the class body."""
    in_class = {
        t.id
        for n in cls.body
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    initialised: set[str] = set()
    set_in: dict[str, set[str]] = {}
    read: set[str] = set()
    for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"):
                continue
            if isinstance(node.ctx, ast.Store):
                if fn.name in INITIALISING:
                    initialised.add(node.attr)
                else:
                    set_in.setdefault(node.attr, set()).add(fn.name)
            else:
                read.add(node.attr)
    return [
        f"{cls.name}.{attr} set in {sorted(where)} only"
        for attr, where in sorted(set_in.items())
        if attr in read and attr not in initialised and attr not in in_class
    ]


RULE_FILES = sorted(RULES_DIR.glob("*.py"))


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_no_state_is_read_before_it_is_initialised(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [msg for cls in tree.body if isinstance(cls, ast.ClassDef) for msg in _hook_state(cls)]
    assert bad == []


def test_the_static_sweep_finds_the_ts606_bug():
    """The sweep fails on the code as it was before the fix."""
    before = textwrap.dedent(
        """
        class FloatToStr(Rule):
            def on_function(self):
                self._types = None
            def leave_Assert(self, node):
                self._stmt = None
            def visit_Assign(self, node):
                self._stmt = node
            def _is_float(self, expr):
                return self._stmt is not None
        """
    )
    (cls,) = ast.parse(before).body
    assert _hook_state(cls) == ["FloatToStr._stmt set in ['leave_Assert', 'visit_Assign'] only"]


# the first statement of a function, with {e} an expression rules look at
FIRST_STATEMENTS = [
    "if {e}:\n    pass",
    "if {e}:\n    pass\nelse:\n    pass",
    "while {e}:\n    break",
    "for v in [{e}]:\n    continue",
    "with torch.no_grad():\n    w = {e}",
    "try:\n    w = {e}\nexcept Exception:\n    pass",
    "return {e}",
    "assert {e}, 'msg'",
    "assert x is not None, f'{{x}}'",
    "raise ValueError({e})",
    "{e}",
    "w = {e}",
    "w: float = {e}",
    "w += {e}",
    "del w",
    "pass",
    "print({e})",
    "w = [{e} for v in range(2)]",
    "def inner(v: int) -> int:\n    return v",
    "if torch.jit.is_scripting():\n    w = {e}",
    "if not torch.jit.is_scripting():\n    w = {e}",
    "w = {e} if x is not None else {e}",
    "lambda: {e}",
]
EXPRESSIONS = [
    'f"layer{i}"',
    "str(r)",
    '"{}".format(r)',
    "f'{r}'",
    "x.bool()",
    "x.abs()",
    "self.layers[i]",
    "self.missing",
    "getattr(self, 'a')",
    "feats['k']",
    "xs",
    "round(r, 2)",
    "[v for v in xs if v]",
    "{1, 2}",
]


def _module(first: str, e: str) -> str:
    """``first`` opens ``forward``, the first function the rules see in the file (state left by
    an earlier function would hide a missing initialisation)."""
    body = textwrap.indent(first.format(e=e), " " * 8)
    return (
        "import torch\nfrom torch import nn\nfrom typing import Dict, List\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.layers = nn.ModuleList([nn.Linear(2, 2)])\n\n"
        "    def forward(self, x: torch.Tensor, r: float, i: int, xs: List[int], "
        f"feats: Dict[str, torch.Tensor]) -> torch.Tensor:\n{body}\n        return self.helper(x)\n\n"
        f"    def helper(self, x: torch.Tensor) -> torch.Tensor:\n{body}\n        return x\n"
    )


@pytest.mark.parametrize("first", FIRST_STATEMENTS, ids=lambda s: s.split("\n")[0][:30])
def test_every_rule_survives_each_first_statement(engine, first):
    errors = []
    for e in EXPRESSIONS:
        src = _module(first, e)
        compile(src, "gen.py", "exec")
        errors += engine.check("gen.py", src).errors
    assert errors == []


def test_all_rules_run_in_the_sweep(engine):
    """The sweep is only as good as the rules it runs: all of them, at the default target (a
    rule for a later torch only, TS430, is not run there)."""
    from tsscan.rule import version_matches

    assert {r.code for r in engine.all_rules} == {r.code for r in load_rules() if version_matches("2.13.0", r.fails_in)}
