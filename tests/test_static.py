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
    # ``self.x = x`` with ``x=None``: the attribute is None when built with the defaults, so
    # the compiler drops the arm, and a None local given a value only there stays None
    # (monai's FocalLoss)
    "none-default-parameter-attribute": """
class M(nn.Module):
    def __init__(self, ignore_index=None):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = None
        if self.ignore_index is not None:
            mask = x != self.ignore_index
        if mask is not None:
            return x * mask / torch.finfo(x.dtype).eps
        return x
""",
    # the arm the defaults keep is compiled: what fails there is reported
    "none-default-parameter-live-arm": """
class M(nn.Module):
    def __init__(self, seed=None):
        super().__init__()
        self.seed = seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.seed is None:
            return x + torch.iinfo(torch.int64).max
        return x
""",
    # ... and what follows an arm the defaults build leaves at is not compiled by that build
    "none-default-parameter-early-return": """
class M(nn.Module):
    def __init__(self, scale=None):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale is None:
            return x
        return x.numpy()
""",
    # a private torch base (``_Loss``) declares only its own attributes
    "none-default-parameter-private-torch-base": """
from torch.nn.modules.loss import _Loss


class M(_Loss):
    def __init__(self, ignore_index=None):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.ignore_index is not None:
            return x / torch.finfo(x.dtype).eps
        return x
""",
    # a local of ``__init__`` that is None unless an argument is given (monai's SegResNetDS)
    "none-local-of-init": """
class M(nn.Module):
    def __init__(self, resolution=None):
        super().__init__()
        scales = None
        if resolution is not None:
            scales = [2, 2]
        self.scales = scales

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scales is None:
            return x
        else:
            return x.numpy()
""",
    # an annotation in ``__init__`` does not type the attribute (the compiler ignores it and
    # types it from the value), and a run-time test ``and`` a static one is folded in the builds
    # where the static one is False (monai's MILModel)
    "annotated-none-attribute-in-init": """
from typing import Optional


class M(nn.Module):
    def __init__(self, mode: str = "att"):
        super().__init__()
        self.mode = mode
        self.transformer: Optional[nn.Module] = None
        if mode == "trans":
            self.transformer = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "trans" and self.transformer is not None:
            return x.numpy()
        return x
""",
    # an unannotated parameter is a Tensor, never None: ``if bias is not None: raise`` is
    # always taken and the rest is not compiled (kornia's MemEffAttention)
    "unannotated-parameter-is-never-none": """
class Base(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


class M(Base):
    def forward(self, x: torch.Tensor, bias):
        if bias is not None:
            raise NotImplementedError("bias")
        return super().forward(x)
""",
    # so is one annotated with a type that has no None in it
    "tensor-parameter-is-never-none": """
class M(nn.Module):
    def forward(self, x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        if scale is None:
            return x.numpy()
        return x * scale
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
