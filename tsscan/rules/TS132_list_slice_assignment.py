import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class ListSliceAssignment(Rule):
    """Assignment to a slice of a list (`items[:n] = other`).

    What it does:
        Flags an assignment whose target is a slice (`a[i:j] = ...`) of a value the compiler
        types as a `List`. (Slices of Tensors may be assigned.)

    Why is this bad:
        TorchScript lists support item assignment only: "Sliced expression not yet
        supported for subscripted assignment. File a bug if you want this".

    Example:
        sizes = [1, 2, 3]
        sizes[1:] = [4, 5]

    Use instead:
        Build a new list (`sizes = sizes[:1] + [4, 5]`), or assign item by item.
    """

    code = "TS132"
    name = "list-slice-assignment"
    message = "`{target}` is a `{type}`, whose slices TorchScript cannot assign; build a new list instead"
    level = "type"

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def pad_sizes(sizes: List[int], n: int) -> List[int]:
    sizes[:n] = [0] * n
    return sizes
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def pad_sizes(sizes: List[int], n: int, x: torch.Tensor) -> List[int]:
    padded = [0] * n + sizes[n:]
    padded[0] = 1
    y = x.clone()
    y[:n] = 0
    return padded
"""
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            target = t.target
            if not isinstance(target, cst.Subscript) or not any(isinstance(e.slice, cst.Slice) for e in target.slice):
                continue
            ty = self.ctx.types.type_at(target.value)
            if ty is not None and ty.startswith("List[") and not in_quiet_arm(self.ctx, node):
                text = cst.Module(body=[]).code_for_node(target.value)
                self.report(target, self.message.format(target=text, type=ty))
