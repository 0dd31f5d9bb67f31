"""Static conditions: tsscan agrees with the compiler on code it drops while compiling.

Each case is a module; tsscan must report nothing exactly when torch.jit.script accepts it.
"""

import textwrap

import pytest
from harness import assert_fails_where_flagged, compiler_error, script_all

HEAD = """
import torch
from torch import nn
"""

CASES = {
    "after-is_scripting-raise": """
class M(nn.Module):
    def helper(self, x: torch.Tensor) -> torch.Tensor:
        return x.numpy()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_scripting():
            raise RuntimeError("eager only")
        return self.helper(x)
""",
    "final-bool-false": """
class M(nn.Module):
    fork: torch.jit.Final[bool]

    def __init__(self):
        super().__init__()
        self.fork = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fork:
            return x.numpy()
        return x
""",
    "and-not-is_scripting": """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.flag = True

    def helper(self, x: torch.Tensor) -> torch.Tensor:
        return x.numpy()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.flag and not torch.jit.is_scripting():
            return self.helper(x)
        return x
""",
    "none-attribute": """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.down is not None:
            return x.numpy()
        return x
""",
    "submodule-is-none": """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv is None:
            return x.numpy()
        return x
""",
    "early-return-when-none": """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.down is None:
            return x
        return x.numpy()
""",
    "is_scripting-or": """
class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_scripting() or bool(x.sum() > 0):
            return x
        return x.numpy()
""",
    # not static: a plain bool attribute is a run-time value, both branches compile
    "plain-bool-attribute": """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.fork = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fork:
            return x.numpy()
        return x
""",
    # not static: a Final int is not a condition the compiler folds
    "final-int": """
class M(nn.Module):
    k: torch.jit.Final[int]

    def __init__(self):
        super().__init__()
        self.k = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.k:
            return x.numpy()
        return x
""",
    # syntax-level problems fail even in a dead branch (the frontend parses it all)
    "syntax-in-dead-branch": """
class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            y = [v for v in x if bool(v > 0)]
        return x
""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tsscan_agrees_with_compiler(name, engine, tmp_path):
    code = textwrap.dedent(HEAD + CASES[name]).lstrip("\n")
    findings = engine.check("m.py", code).diagnostics
    err = compiler_error(code, tmp_path)
    assert (err is None) == (findings == []), (err, findings)
    if err is not None:  # it fails where a finding says
        assert_fails_where_flagged(err, findings)


def test_prepare_scriptable_hook_replaces_the_module(engine, tmp_path):
    """A module with __prepare_scriptable__ is never compiled itself: the compiler scripts what
    the hook returns (torchvision's v2 transforms hand over their v1 equivalent)."""
    code = textwrap.dedent(
        HEAD
        + """
class Plain(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1


class Fancy(nn.Module):
    def __prepare_scriptable__(self):
        return Plain()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.numpy()
"""
    ).lstrip("\n")
    assert engine.check("m.py", code).diagnostics == []
    assert script_all(code, tmp_path)
