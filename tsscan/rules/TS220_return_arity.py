import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import split_type_args


def arity(ret: cst.Return, t: str | None) -> int | None:
    if ret.value is None or t == "None":
        return None
    if isinstance(ret.value, cst.Tuple):
        return len(ret.value.elements)
    if t is None:
        return None
    if t.startswith("Tuple["):
        parts = split_type_args(t)
        return None if parts is None or "..." in parts else len(parts)
    return 1


class ReturnArity(Rule):
    """Returns of different arity (`return x` here, `return x, y` there).

    What it does:
        Flags a `return` whose number of values differs from an earlier `return` of the
        same compiled function (returns of `None` excepted).

    Why is this bad:
        A TorchScript function has one return type: "Previous return statement returned a
        value of type Tensor but this return statement returns a value of type
        Tuple[Tensor, Tensor]".

    Example:
        if flag == 0:
            return x
        return x, x.sum()

    Use instead:
        Always return the same tuple, with `Optional` elements where a value may be
        missing: `-> Tuple[Tensor, Optional[Tensor]]` and `return x, None`.
    """

    code = "TS220"
    needs = Needs(nodes={"MultipleReturns"})
    name = "return-arity"
    message = (
        "this return gives {n} value(s) where an earlier return gives {m}; TorchScript functions have one return type"
    )
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def split(x: torch.Tensor, flag: int):
    if flag == 0:
        return x
    return x, x.sum()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import Optional, Tuple


@torch.jit.script
def split(x: torch.Tensor, flag: int) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    if flag == 0:
        return x, None
    return x, x.sum()
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        first = None
        for r in self.ctx.types.returns:
            n = arity(r.node, r.type)
            if n is None:
                continue
            if first is None:
                first = n
            elif n != first:
                self.report(r.node, self.message.format(n=n, m=first))
                return
