import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic import attributes as A


def assigned_self_attrs(node, ctx) -> list[cst.Attribute]:
    """The ``self.x`` targets of an Assign / AugAssign / AnnAssign statement."""
    if isinstance(node, cst.Assign):
        targets = [t.target for t in node.targets]
    else:
        targets = [node.target]
    out: list[cst.Attribute] = []
    for t in targets:
        elts = [e.value for e in t.elements] if isinstance(t, (cst.Tuple, cst.List)) else [t]
        for e in elts:
            if isinstance(e, cst.Attribute) and ctx.self_attr(e) is not None:
                out.append(e)
    return out


class ConstantAttributeAssignment(Rule):
    """Assigning to a `Final` / `__constants__` attribute in compiled code.

    What it does:
        Flags `self.k = ...` (and `self.k += ...`) in compiled code when the class declares
        `k` as a constant: `k: Final[int]` or `__constants__ = ["k"]`.

    Why is this bad:
        A constant is folded into the compiled code and is not a module attribute, so the
        assignment fails with "Tried to set nonexistent attribute: k. Did you forget to
        initialize it in __init__()?".

    Example:
        k: Final[int]
        ...
        def forward(self, x):
            self.k = 3

    Use instead:
        Drop `Final` (and the `__constants__` entry) if the value changes, or use a local
        variable in `forward`.
    """

    code = "TS302"
    name = "constant-attribute-assignment"
    message = "`self.{name}` is a constant (Final / __constants__): compiled code cannot assign it"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn
from typing import Final


class Scaler(nn.Module):
    factor: Final[int]

    def __init__(self):
        super().__init__()
        self.factor = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() == 0:
            self.factor = 1
        return x * self.factor
"""
        ),
        Example(
            """
import torch
from torch import nn


class Counter(nn.Module):
    __constants__ = ["step"]

    def __init__(self):
        super().__init__()
        self.step = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.step += 1
        return x + self.step
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Final


class Scaler(nn.Module):
    factor: Final[int]

    def __init__(self):
        super().__init__()
        self.factor = 2
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls = self.calls + 1
        return x * self.factor
"""
        ),
    ]

    def _check(self, node) -> None:
        cls = self.ctx.cls
        if cls is None or not A.plain_module(cls):
            return
        for t in assigned_self_attrs(node, self.ctx):
            name = self.ctx.self_attr(t)
            assert name is not None, "assigned_self_attrs returns only self.X targets"
            if A.is_constant(cls, name):
                self.report(node, self.message.format(name=name))
                return

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check(node)
