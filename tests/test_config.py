"""Constructor configuration (tsscan/semantic/config.py, config_uses.py): tsscan agrees with the
compiler on attributes that exist, are None, or change type with the constructor's arguments.

Each case is a module scripted with torch 2.13 (every class built with its defaults): TS320/TS321
(errors) are reported exactly when torch.jit.script rejects it, at the line the compiler names;
warnings (TS7xx) never make a class that scripts count as failing.
"""

import ast
import textwrap

import pytest
from harness import assert_fails_where_flagged, compiler_error

from tsscan.semantic import config as C
from tsscan.semantic.module import module_facts

HEAD = """
from typing import Final, Optional

import torch
from torch import nn
"""

ERRORS = {"TS320", "TS321"}

CASES = {
    # a plain `if self.flag:` is compiled both ways: the read fails with the flag off
    "flag-only-attribute": """
class M(nn.Module):
    def __init__(self, use_bias: bool = False):
        super().__init__()
        self.use_bias = use_bias
        if use_bias:
            self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_bias:
            x = x + self.bias
        return x
""",
    # the same with the flag on by default scripts (a TS701 warning at most)
    "flag-on-by-default": """
class M(nn.Module):
    def __init__(self, use_bias: bool = True):
        super().__init__()
        self.use_bias = use_bias
        if use_bias:
            self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_bias:
            x = x + self.bias
        return x
""",
    # hasattr is decided while compiling
    "hasattr-guard": """
class M(nn.Module):
    def __init__(self, use_bias: bool = False):
        super().__init__()
        if use_bias:
            self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "bias"):
            x = x + self.bias
        return x
""",
    # ... but operands of `and` are all compiled
    "hasattr-and-read": """
class M(nn.Module):
    def __init__(self, use_bias: bool = False):
        super().__init__()
        if use_bias:
            self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "bias") and self.bias is not None:
            x = x + self.bias
        return x
""",
    # a None attribute: `is not None` drops the arm, a truth test fails
    "none-is-not-none": """
class M(nn.Module):
    def __init__(self, norm=None):
        super().__init__()
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm is not None:
            x = self.norm(x)
        return x
""",
    "none-truth": """
class M(nn.Module):
    def __init__(self, norm=None):
        super().__init__()
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm:
            x = x * 2
        return x
""",
    "none-early-return": """
class M(nn.Module):
    def __init__(self, scale=None):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale is None:
            return x
        return x * self.scale
""",
    "none-conditional-expression": """
class M(nn.Module):
    def __init__(self, act=None):
        super().__init__()
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x) if self.act is not None else x
""",
    "none-called-under-flag": """
class M(nn.Module):
    def __init__(self, use_act: bool = False):
        super().__init__()
        self.use_act = use_act
        self.act = nn.ReLU() if use_act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_act:
            x = self.act(x)
        return x
""",
    # a module is never a bool, whatever the flag
    "module-truth": """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.skip = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.skip:
            x = x * 2
        return x
""",
    "int-called": """
class M(nn.Module):
    def __init__(self, pool: int = 2):
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)
""",
    "final-flag": """
class M(nn.Module):
    use_bias: Final[bool]

    def __init__(self, use_bias: bool = False):
        super().__init__()
        self.use_bias = use_bias
        if use_bias:
            self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_bias:
            x = x + self.bias
        return x
""",
    # the loop over an empty ModuleList is unrolled to nothing: its body is never compiled
    "empty-module-loop": """
class M(nn.Module):
    def __init__(self, project: bool = False):
        super().__init__()
        self.blocks = nn.ModuleList()
        if project:
            self.proj = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = self.proj(block(x))
        return x
""",
    # set through super().__init__ with an argument: the subclass's value counts
    "base-configured-by-subclass": """
class Base(nn.Module):
    def __init__(self, act=None):
        super().__init__()
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x)


class WithAct(Base):
    def __init__(self):
        super().__init__(nn.ReLU())
""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_errors_agree_with_compiler(name, engine, tmp_path):
    code = textwrap.dedent(HEAD + CASES[name]).lstrip("\n")
    findings = [d for d in engine.check("m.py", code).diagnostics if d.code in ERRORS]
    err = compiler_error(code, tmp_path)
    assert (err is None) == (findings == []), (err, findings)
    if err is not None:  # it fails where a finding says
        assert_fails_where_flagged(err, findings)
        assert any(d.message.split('the compiler says "')[1][:20] in err.message for d in findings), (
            err.message,
            findings,
        )


def test_warnings_where_other_arguments_fail(engine):
    code = textwrap.dedent(HEAD + CASES["flag-on-by-default"]).lstrip("\n")
    codes = [d.code for d in engine.check("m.py", code).diagnostics]
    assert codes == ["TS701"]
    code = textwrap.dedent(HEAD + CASES["empty-module-loop"]).lstrip("\n")
    assert [d.code for d in engine.check("m.py", code).diagnostics] == ["TS701"]


def test_may_fail_band_is_opt_in(rules, tmp_path):
    """TS7xx is selected by `TS7` or a code, never by `TS` alone; the CLI says the same."""
    import subprocess
    import sys

    from tsscan.engine import Engine

    code = textwrap.dedent(HEAD + CASES["flag-on-by-default"]).lstrip("\n")
    assert [d.code for d in Engine(rules, "2.13.0").check("m.py", code).diagnostics] == []
    for select in (("TS", "TS7"), ("TS701",), ("TS70",)):
        assert [d.code for d in Engine(rules, "2.13.0", select=select).check("m.py", code).diagnostics] == ["TS701"]
    assert Engine(rules, "2.13.0", select=("TS", "TS7"), ignore=("TS701",)).check("m.py", code).diagnostics == []
    (tmp_path / "m.py").write_text(code, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n", encoding="utf-8")
    cli = [sys.executable, "-m", "tsscan", "check", "--no-cache", "--target-version", "2.13", "m.py"]
    quiet = subprocess.run(cli, cwd=tmp_path, capture_output=True, text=True)
    loud = subprocess.run([*cli, "--extend-select", "TS7"], cwd=tmp_path, capture_output=True, text=True)
    assert quiet.returncode == 0 and "TS701" not in quiet.stdout, quiet.stdout + quiet.stderr
    assert loud.returncode == 1 and "m.py:" in loud.stdout and " TS701 " in loud.stdout, loud.stdout + loud.stderr


def _conf(src: str, cls: str, mode: str) -> C.Config:
    mod = module_facts(ast.parse(textwrap.dedent(src)))
    return C.configuration(mod.classes[cls], mod, mode)


def test_configuration_follows_defaults_and_bases():
    src = """
import torch.nn as nn

class Base(nn.Module):
    def __init__(self, kind="plain", norm=None, depth: int = 2):
        super().__init__()
        self.norm = norm
        self.deep = depth > 1
        if kind == "proj":
            self.proj = nn.Linear(1, 1)
        self._build(depth)

    def _build(self, depth):
        if depth > 3:
            self.extra = nn.Linear(1, 1)

class Proj(Base):
    def __init__(self):
        super().__init__(kind="proj", norm=nn.LayerNorm(1))
"""
    base = _conf(src, "Base", C.DEFAULTS)
    assert base.state("norm") == {C.lit(None)}
    assert base.state("deep") == {C.lit(True)}
    assert base.state("proj") == {C.ABSENT}
    assert base.state("extra") == {C.ABSENT}
    anyargs = _conf(src, "Base", C.ANY)
    assert C.ABSENT in anyargs.state("proj") and len(anyargs.state("proj")) == 2
    assert C.TOP in anyargs.state("norm")
    proj = _conf(src, "Proj", C.DEFAULTS)
    assert C.ABSENT not in proj.state("proj")
    assert {C.kind_of(p) for p in proj.state("norm")} == {"module"}


def test_unknown_base_gives_no_answer():
    src = """
import torch.nn as nn
from .blocks import Block

class M(Block):
    def __init__(self):
        super().__init__()
        self.a = None
"""
    assert _conf(src, "M", C.DEFAULTS).opaque


def test_type_at_defaults():
    src = """
import torch.nn as nn

class M(nn.Module):
    def __init__(self, scale=None, dim: int = 4, norm: bool = True):
        super().__init__()
        self.scale = scale
        self.dim = dim
        self.norm = nn.LayerNorm(dim) if norm else None
        if dim > 8:
            self.extra = 1
"""
    mod = module_facts(ast.parse(textwrap.dedent(src)))
    cls = mod.classes["M"]
    assert C.type_at_defaults(cls, mod, "scale").kind == "none"
    assert C.type_at_defaults(cls, mod, "dim").ts == "int"
    assert C.type_at_defaults(cls, mod, "norm").kind == "module"
    assert C.type_at_defaults(cls, mod, "extra") is None
