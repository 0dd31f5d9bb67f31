from tsscan.rule import Example, Rule

import libcst as cst


class StarredAssignment(Rule):
    """Starred assignment targets (`first, *rest = xs`) in compiled code.

    What it does:
        Flags `*name` in the targets of assignments and `for` loops in code that
        `torch.jit.script` compiles.

    Why is this bad:
        TorchScript unpacks only sequences of a length it knows at compile time: "cannot
        statically infer the expected size of a list in this context".

    Example:
        head, *tail = sizes

    Use instead:
        Index and slice: `head = sizes[0]` and `tail = sizes[1:]`.
    """

    code = "TS128"
    name = "starred-assignment"
    message = "starred assignment targets are not supported by TorchScript; index and slice instead"
    fails_in = ">=1.0"
    level = "type"

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def split_head(sizes: List[int]) -> List[int]:
    head, *tail = sizes
    return tail + [head]
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def split_head(sizes: List[int]) -> List[int]:
    head = sizes[0]
    tail = sizes[1:]
    a, b = head, len(tail)
    return tail + [a, b]
"""
        ),
    ]

    def _check(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                if isinstance(el, cst.StarredElement):
                    self.report(el)
                    return
                self._check(el.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._check(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._check(node.target)
