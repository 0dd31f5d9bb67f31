from typing import ClassVar

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.wrappers import Wrapper


def where(wrapper: Wrapper) -> str:
    """``torch.utils._contextlib`` / ``pkg.utils (pkg/utils.py:12)``: the wrapper's module."""
    return f"`{wrapper.module}` ({wrapper.where})" if wrapper.where else f"`{wrapper.module}`"


_ANNOTATION_MESSAGE = (
    "the compiler will say \"Unknown type name '{name}'\": `@{decorator}` wraps this function in {module}, and"
    " TorchScript resolves the names of its annotations there, where `{name}` is not defined; write the type"
    " out (`Optional[Tensor]`) or move the decorator off the compiled function"
)


class WrapperNameRule(Rule):
    """TS250 and TS251: the global names a decorated compiled function reads, resolved in its
    outermost wrapper's module (:attr:`FunctionContext.wrapped_bad_reads`)."""

    # True: the names that module lacks; False: those it binds to a value that is not a module
    missing: ClassVar[bool] = True
    # only a decorated function (or a method of a decorated class) has a wrapper
    needs = Needs(nodes={"Decorator"})

    def on_function(self) -> None:
        wrapper = self.ctx.wrapper
        if wrapper is None:
            return
        for bad in self.ctx.wrapped_bad_reads:
            if (bad.bound is None) == self.missing:
                template = _ANNOTATION_MESSAGE if bad.annotation else self.message
                text = template.format(name=bad.name, decorator=wrapper.decorator, module=where(wrapper))
                self.report(bad.node, text)


class WrapperUndefinedName(WrapperNameRule):
    """A decorated compiled function reads a global name its wrapper's module does not have.

    What it does:
        Flags, in a compiled function under a wrapping decorator (`@torch.no_grad()`,
        `@torch.inference_mode()`, `contextlib` decorators, or a `functools.wraps` decorator
        defined in another file of the package), each statement that reads a global name
        that the wrapper's module does not define, and each name an annotation of the
        function reads (a type alias such as `OptTensor = Optional[Tensor]` imported from
        another module) that is neither there nor a type name the compiler knows (`Tensor`,
        `typing`'s names, builtins): "Unknown type name 'OptTensor'".

    Why is this bad:
        TorchScript reads the source of the undecorated function, but resolves the global
        names it reads in the module of the outermost wrapper (its `__globals__`, then
        `typing` and builtins). `torch.no_grad()` wraps in `torch.utils._contextlib`, which
        has no `torch`: "undefined value torch". Builtins and `self.method(...)` are fine.

    Example:
        class Embed(nn.Module):
            @torch.no_grad()
            def forward(self, x):
                return torch.relu(x)

    Use instead:
        Use the context manager inside the body (`with torch.no_grad():`), or move the
        decorator off the compiled function.
    """

    code = "TS250"
    name = "wrapper-undefined-name"
    message = (
        "undefined value `{name}`: `@{decorator}` wraps this function in {module}, and TorchScript"
        " resolves its global names there, where `{name}` is not defined"
    )
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Embed(nn.Module):
    @torch.no_grad()
    def forward(self, x):
        return torch.relu(x)
"""
        ),
        Example(
            """
import math

import torch
from torch import nn


def double(x):
    return x * 2


class Scaled(nn.Module):
    @torch.inference_mode()
    def forward(self, x):
        return double(x) * math.pi
"""
        ),
        Example(
            """
from typing import Optional

import torch
from torch import Tensor, nn

OptTensor = Optional[Tensor]


class Scale(nn.Module):
    @torch.no_grad()
    def forward(self, x: Tensor, weight: OptTensor = None) -> Tensor:
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Embed(nn.Module):
    @torch.no_grad()
    def forward(self, x):
        return self.shift(x) + len(x.shape)

    def shift(self, x):
        return torch.relu(x) + 1
"""
        ),
        Example(
            """
import torch
from torch import nn


class Embed(nn.Module):
    def forward(self, x):
        with torch.no_grad():
            return torch.relu(x)
"""
        ),
        Example(
            """
from typing import List, Optional

import torch
from torch import Tensor, nn


class Scale(nn.Module):
    @torch.no_grad()
    def forward(self, x: Tensor, weight: Optional[torch.Tensor] = None, dims: Optional[List[int]] = None) -> Tensor:
        y: Tensor = x
        return y
"""
        ),
    ]
