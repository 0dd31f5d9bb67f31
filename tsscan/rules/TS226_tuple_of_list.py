import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class TupleOfList(Rule):
    """`tuple(...)` of a generator, a comprehension or a list.

    What it does:
        Flags `tuple(t * 2 for t in xs)`, `tuple([...])` and `tuple(xs)` with `xs` a list.

    Why is this bad:
        A TorchScript tuple has a length known at compile time, and a list's is not:
        "cannot statically infer the expected size of a list in this context".

    Example:
        return torch.cat(tuple(t * 2 for t in xs))

    Use instead:
        return torch.cat([t * 2 for t in xs])
    """

    code = "TS226"
    name = "tuple-of-list"
    message = "`tuple()` of a list or generator has no length TorchScript can know; pass the list itself"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def join(xs: List[torch.Tensor]) -> torch.Tensor:
    return torch.cat(tuple(t * 2 for t in xs))
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def join(xs: List[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t * 2 for t in xs]) + sum([t.numel() for t in xs])
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "tuple" and len(node.args) == 1):
            return
        types = self.ctx.types
        if "tuple" in types.params or "tuple" in types.declared:
            return
        arg = node.args[0]
        if arg.star:
            return
        v = arg.value
        if isinstance(v, (cst.GeneratorExp, cst.ListComp)):
            if not in_quiet_arm(self.ctx, node):
                self.report(node)
            return
        t = types.type_of(v)
        if t is not None and t.startswith("List["):
            if not in_quiet_arm(self.ctx, node):
                self.report(node)
