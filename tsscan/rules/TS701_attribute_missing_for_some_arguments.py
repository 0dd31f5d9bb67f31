from tsscan.prefilter import Needs
from tsscan.rule import Example
from tsscan.rules._config_support import ConfigRule


class AttributeMissingForSomeArguments(ConfigRule):
    """May fail: compiled code reads an attribute that `__init__` sets only for some arguments.

    What it does:
        Like TS320, but the attribute exists when the class is built with its defaults: it is
        missing only when a constructor argument takes another value (a subclass or a caller
        passing `use_rel_pos=False`). A "may fail" warning (TS7xx band): the module scripts as
        built with its defaults.

    Why is this bad:
        The compiler compiles both arms of `if self.use_rel_pos:`, so a module built with the flag
        off fails: "Module 'Attention' has no attribute 'rel_pos'".

    Example:
        def __init__(self, use_rel_pos: bool = True):
            ...
            if use_rel_pos:
                self.rel_pos = nn.Parameter(torch.zeros(dim))

    Use instead:
        Declare the flag `Final` (`use_rel_pos: Final[bool]`), test `hasattr(self, "rel_pos")`,
        or set the attribute in every case.
    """

    code = "TS701"
    needs = Needs(nodes={"Attribute", "Import", "ImportFrom"})
    name = "attribute-missing-for-some-arguments"
    message = "`self.x` does not exist for some constructor arguments"
    band = "maybe"
    missing = True

    invalid = [
        Example(
            """
import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim: int = 8, use_rel_pos: bool = True):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rel_pos:
            x = x + self.rel_pos
        return self.proj(x)


class PlainAttention(Attention):
    def __init__(self):
        super().__init__(use_rel_pos=False)
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

    def __init__(self, dim: int = 8, use_rel_pos: bool = True):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_rel_pos:
            x = x + self.rel_pos
        return self.proj(x)


class PlainAttention(Attention):
    def __init__(self):
        super().__init__(use_rel_pos=False)
"""
        ),
    ]
