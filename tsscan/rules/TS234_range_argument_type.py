import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class RangeArgumentType(Rule):
    """`range()` given a Tensor or a bool (`range(n)` with `n = torch.randint(...)`).

    What it does:
        Flags an argument of `range(...)` that the compiler types as `Tensor` or `bool`:
        a Tensor local or expression (`x.sum()`), or a `bool` (an `a or b` of ints is a
        bool in TorchScript). Parameters without annotation are TS228's.

    Why is this bad:
        Python calls `__index__`; TorchScript's `range` takes ints only: "all inputs of
        range must be ints, found Tensor in argument 0". `a or b` is a bool in TorchScript
        whatever `a` and `b` are, so `chunk = self.chunk_size or n` then
        `range(0, n, chunk)` fails too ("found bool in argument 2").

    Example:
        n = torch.randint(1, 4, (1,))
        for i in range(n):
            x = x + i

    Use instead:
        Convert it: `range(int(n))`; pick the int explicitly: `chunk if chunk != 0 else n`.
    """

    code = "TS234"
    needs = Needs(calls={"range"})
    name = "range-argument-type"
    message = "`{arg}` is a `{type}` to TorchScript and `range()` takes ints only; {hint}"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def repeat(x: torch.Tensor) -> torch.Tensor:
    n = torch.randint(1, 4, (1,))
    for _ in range(n):
        x = x + 1
    return x
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def chunked(x: torch.Tensor, chunk: int) -> torch.Tensor:
    size = chunk or x.size(0)
    for start in range(0, x.size(0), size):
        x = x + start
    return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def repeat(x: torch.Tensor) -> torch.Tensor:
    n = torch.randint(1, 4, (1,))
    for _ in range(int(n)):
        x = x + 1
    for i in range(0, x.size(0), 2):
        x = x + i
    return x
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "range"):
            return
        types = self.ctx.types
        if self.ctx.types.type_at(node.func) is not None:
            return  # a local named range
        for a in node.args:
            v = a.value
            if isinstance(v, cst.Name) and v.value in types.params and v.value not in types.declared:
                continue  # an unannotated parameter: TS228
            t = self.ctx.types.type_at(v)
            if t in ("Tensor", "bool") and not in_quiet_arm(self.ctx, node):
                hint = (
                    "convert it with `int(...)`"
                    if t == "Tensor"
                    else "`a or b` is a bool in TorchScript, write `a if a != 0 else b`"
                )
                self.report(v, self.message.format(arg=cst.Module(body=[]).code_for_node(v), type=t, hint=hint))
