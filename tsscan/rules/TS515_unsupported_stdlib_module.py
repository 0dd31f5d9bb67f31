import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule

# measured with torch 2.13: a call of every public callable of these modules fails to compile
# (the C functions as "Python builtin <built-in function index> is currently not supported",
# itertools' classes as "product(Tensor 0, Tensor 1) -> Tensor 0", the Python ones on their
# own bodies); `itertools.count()` as a `for` iterable compiled once and is left alone
_MODULES = ("itertools", "operator", "functools", "copy")
_NOT_MEASURED = {"itertools.count"}
_HINTS = {
    "operator.index": "use `int(v)`",
    "itertools.product": "nest two `for` loops",
    "itertools.chain": "concatenate the lists with `+`",
    "functools.reduce": "accumulate in a loop",
    "copy.deepcopy": "use `x.clone()` for a tensor",
    "copy.copy": "use `x.clone()` for a tensor, `list(xs)` for a list",
}


class UnsupportedStdlibModule(Rule):
    """A call into `itertools`, `operator`, `functools` or `copy` in compiled code.

    What it does:
        Flags calls of functions of the standard modules `itertools` (`product`, `chain`,
        `accumulate`, ...), `operator` (`index`, `mul`, `getitem`, ...), `functools`
        (`reduce`, `partial`, ...) and `copy` (`copy`, `deepcopy`), however they are imported.

    Why is this bad:
        TorchScript compiles none of them: "Python builtin <built-in function index> is
        currently not supported in Torchscript", "product(Tensor 0, Tensor 1) -> Tensor 0"
        for the `itertools` iterators.

    Example:
        for i, j in itertools.product(range(h), range(w)):
            ...

    Use instead:
        Nested `for` loops, plain operators (`a * b`, `xs[i]`, `int(v)`), `x.clone()`.
    """

    code = "TS515"
    needs = Needs(nodes={"Call"})
    name = "unsupported-stdlib-module"
    message = "`{name}()` is not supported by TorchScript"
    level = "type"

    invalid = [
        Example(
            """
import itertools

import torch


class Grid(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, j in itertools.product([0, 1], [0, 1]):
            x = x + i * j
        return x
"""
        ),
        Example(
            """
from operator import index

import torch


class Scale(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        return x * index(k)
"""
        ),
    ]
    valid = [
        Example(
            """
import itertools
import operator

import torch


def index(v: int) -> int:
    return v


class Grid(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        for i in [0, 1]:
            for j in [0, 1]:
                x = x + i * j
        return x * index(k) * int(k)
"""
        ),
    ]

    def on_function(self) -> None:
        self._decorators = 0

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._decorators += 1

    def leave_Decorator(self, node: cst.Decorator) -> None:
        self._decorators -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if self._decorators:
            return
        qual = self.ctx.qualname(node.func) or ""
        module, _, member = qual.partition(".")
        if module not in _MODULES or not member or "." in member or qual in _NOT_MEASURED:
            return
        head = node.func
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value not in self.ctx.module.aliases:
            return  # not an import (a local or a parameter of that name)
        if head.value in self.ctx.local_names:
            return
        message = self.message.format(name=qual)
        if qual in _HINTS:
            message += f"; {_HINTS[qual]}"
        self.report(node, message)
