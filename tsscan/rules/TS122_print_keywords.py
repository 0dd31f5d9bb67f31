import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class PrintKeywords(Rule):
    """`print(...)` with keyword arguments (`file=`, `sep=`, `end=`, `flush=`) in compiled code.

    What it does:
        Flags calls of the builtin `print` that pass keyword arguments, in code that
        `torch.jit.script` compiles.

    Why is this bad:
        TorchScript's `print` takes positional values only: "print doesn't accept any
        keyword arguments". With `file=sys.stderr` the compiler fails even earlier, on the
        module-level `sys.stderr` object.

    Example:
        print("shape", x.shape, file=sys.stderr)

    Use instead:
        `print("shape", x.shape)` (TorchScript prints to stdout, values separated by one
        space, ending with a newline); build the string yourself for another separator.
    """

    code = "TS122"
    needs = Needs(calls={"print"})
    name = "print-keywords"
    message = "print() accepts no keyword arguments in TorchScript (`{kw}=`); pass positional values only"
    fails_in = ">=1.0"
    level = "type"

    invalid = [
        Example(
            """
import sys

import torch


@torch.jit.script
def trace_shape(x: torch.Tensor) -> torch.Tensor:
    print("shape", x.shape, file=sys.stderr)
    return x
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def trace_shape(x: torch.Tensor) -> torch.Tensor:
    print("rows", x.shape[0], sep="=", end="")
    return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def trace_shape(x: torch.Tensor) -> torch.Tensor:
    print("shape", x.shape)
    print("rows=" + str(x.shape[0]))
    return x
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Name) and func.value == "print"):
            return
        mod = self.ctx.module
        if "print" in mod.functions or "print" in mod.aliases:
            return
        for arg in node.args:
            if arg.keyword is not None:
                self.report(arg, self.message.format(kw=arg.keyword.value))
                return
