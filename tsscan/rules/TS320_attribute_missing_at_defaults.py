import libcst as cst

from tsscan.context import FunctionContext
from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example
from tsscan.rules._config_support import ConfigRule, describe
from tsscan.rules._final_flag import final_flag_fix, flag_arms


class AttributeMissingAtDefaults(ConfigRule):
    """Compiled code reads an attribute that the module built with its defaults does not have.

    What it does:
        Runs `__init__` at its defaults (following `if` tests on parameters with literal
        defaults, `super().__init__(...)` into bases of the file and `self.method(...)` calls) and
        flags `self.x` in compiled code when `x` is not set then: set only under a flag
        (`if use_rel_pos: self.rel_pos = ...`), only by subclasses (a base class whose
        `forward` uses what subclasses build), or set only on paths the defaults do not take
        whatever the arguments. Uses under `if hasattr(self, "x")`, a `Final` bool flag, or
        `if self.y is None` tests the compiler decides are followed as the compiler does.

    Why is this bad:
        The compiler compiles both arms of `if self.use_rel_pos:` (a plain attribute is not a
        constant), so the read fails even when the flag is off: "Module 'Attention' has no
        attribute 'rel_pos'".

    Example:
        if use_rel_pos:
            self.rel_pos = nn.Parameter(torch.zeros(dim))
        ...
        if self.use_rel_pos:
            x = x + self.rel_pos

    Use instead:
        Declare the flag `Final` (`use_rel_pos: Final[bool]` in the class body), so that the
        compiler drops the arm, or set the attribute in every case (`self.rel_pos = None`, with
        `rel_pos: Optional[torch.Tensor]` declared and checked with `is not None`).

    Fix:
        When the read lies in the arm of `if self.flag:` and the class's own `__init__` sets
        `self.flag` once, to a bool (a literal, a `bool` parameter, `x is None`, `not p`), and
        no other method assigns it, the flag is declared `flag: Final[bool]` in the class
        body (after its docstring): the compiler then drops the arm when the flag is off.
        SAFE: a class annotation does not change what eager code does; the scripted module
        keeps the flag's value at scripting time (it could not script before).
    """

    code = "TS320"
    needs = Needs(nodes={"Attribute", "Import", "ImportFrom"})
    name = "attribute-missing-at-defaults"
    message = "`self.x` does not exist when the module is built with its defaults"
    band = "error"
    missing = True
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim: int = 8, use_rel_pos: bool = False):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rel_pos:
            x = x + self.rel_pos
        return self.proj(x)
""",
            fixed="""
import torch
from torch import nn
from typing import Final


class Attention(nn.Module):
    use_rel_pos: Final[bool]

    def __init__(self, dim: int = 8, use_rel_pos: bool = False):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rel_pos:
            x = x + self.rel_pos
        return self.proj(x)
""",
            inputs="[(torch.randn(2, 8),), (torch.tensor([[1.0, float('nan'), -2.0, 0.0, 3.0, -1.0, 0.5, 2.0]]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Bottleneck(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1(x) + x


class ConvBottleneck(Bottleneck):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 3, 1)
"""
        ),
        Example(
            """
import torch
from torch import nn


class DualPath(nn.Module):
    def __init__(self, block_type: str = "normal"):
        super().__init__()
        self.key_stride = 2 if block_type == "down" else 1
        if self.key_stride == 2:
            self.proj_s2 = nn.Linear(4, 4)
        else:
            self.proj_s1 = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.key_stride == 2:
            return self.proj_s2(x)
        return self.proj_s1(x)
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Final

import torch
from torch import nn


class Attention(nn.Module):
    use_rel_pos: Final[bool]

    def __init__(self, dim: int = 8, use_rel_pos: bool = False):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rel_pos:
            x = x + self.rel_pos
        return self.proj(x)
"""
        ),
        Example(
            """
import torch
from torch import nn


class Shift(nn.Module):
    def __init__(self, shift: bool = False):
        super().__init__()
        if shift:
            self.offset = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "offset"):
            return x + self.offset
        return x
"""
        ),
    ]

    def __init__(self, ctx: FunctionContext) -> None:
        super().__init__(ctx)
        self._declared: set[tuple[str, str]] = set()  # (class, flag) given a fix in this file

    def visit_Attribute(self, node: cst.Attribute) -> None:
        v = self._found.get(id(node))
        if v is None:
            return
        fix = None
        flag = flag_arms(self.ctx).get(id(node))
        cls = self.ctx.cls
        if flag is not None and cls is not None and (cls.name, flag) not in self._declared:
            fix = final_flag_fix(cls, flag)
            if fix is not None:
                self._declared.add((cls.name, flag))
        self.report(node, describe(v), fix)
