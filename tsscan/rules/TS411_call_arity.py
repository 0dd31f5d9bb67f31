from tsscan.prefilter import Needs
from tsscan.rule import Example
from tsscan.rules._calls_support import CallCheckRule
from tsscan.semantic.calls import Callee, Verdict

# a submodule whose class a constructor argument picks (the examples of the defaults case)
_CONDITIONED = """
from typing import Optional

import torch
from torch import nn


class CondNorm(nn.Module):
    def __init__(self, channels: int = 8, cond_channels: int = 3) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(4, channels)
        self.proj = nn.Conv2d(cond_channels, channels, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * self.proj(cond)


class Block(nn.Module):
    def __init__(self, channels: int = 8, cond_channels: Optional[int] = None) -> None:
        super().__init__()
        if cond_channels is None:
            self.norm = nn.GroupNorm(4, channels)
        else:
            self.norm = CondNorm(channels, cond_channels)
"""


class CallArity(CallCheckRule):
    """A call with more positional arguments than the callee takes, or missing one it needs.

    What it does:
        Counts the arguments of calls in compiled code against the callee's TorchScript
        signature: functions of the same file, methods of the class, the `forward` of
        submodules whose class is in the file, the same from other files of the package
        (through the package index: imported functions, submodules of imported classes,
        methods of base classes of other files), and `torch.*` / `torch.nn.functional.*`
        functions and Tensor methods when no overload takes that many positional arguments.
        Unknown keywords of torch functions are TS408's.

    Why is this bad:
        Eager Python fails too, but only when the line runs: a branch taken for one
        configuration (`h = self.norm(h, zq)` when the norm is a plain `nn.GroupNorm`) never
        runs in a test. The compiler compiles every branch and stops: "Expected at most 2
        arguments but found 3 positional arguments", "Argument y not provided".

    Example:
        def forward(self, x, cond):
            return self.proj(x, cond)  # self.proj's forward takes (x)

    Use instead:
        Call the submodule with the arguments its `forward` takes, or give the other
        configuration's module the same signature.
    """

    code = "TS411"
    needs = Needs(nodes={"Call"})
    name = "call-arity"
    message = "the callee does not take this many arguments in TorchScript"
    level = "type"
    verdict_kind = "arity"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Proj(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = Proj()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.proj(x, cond)
"""
        ),
        Example(
            """
import torch


def blend(a: torch.Tensor, b: torch.Tensor, w: float) -> torch.Tensor:
    return a * w + b * (1.0 - w)


@torch.jit.script
def mix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return blend(a, b)
"""
        ),
        Example(
            _CONDITIONED
            + """
    def forward(self, x: torch.Tensor, cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        if cond is None:
            return self.norm(x)
        return self.norm(x, cond)
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Optional

import torch
from torch import nn


def blend(a: torch.Tensor, b: torch.Tensor, w: float = 0.5) -> torch.Tensor:
    return a * w + b * (1.0 - w)


class Proj(nn.Module):
    def forward(self, x: torch.Tensor, cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        return x


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = Proj()

    @staticmethod
    def twice(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.proj(x, cond) + self.proj(x) + blend(x, cond) + blend(x, cond, w=0.1) + self.twice(x)
"""
        ),
        Example(
            _CONDITIONED
            + """
    def forward(self, x: torch.Tensor, cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        if isinstance(self.norm, CondNorm):
            assert cond is not None
            return self.norm(x, cond)
        return self.norm(x)
"""
        ),
    ]

    def wanted(self, verdict: Verdict, callee: Callee) -> bool:
        # unknown keywords of torch functions are TS408's
        return callee.user or not any(f.text.startswith("Keyword argument") for f in verdict.failures)
