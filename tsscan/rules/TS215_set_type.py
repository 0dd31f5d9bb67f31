import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import annotation_head, walk_expr


class SetType(Rule):
    """`Set[...]` in an annotation.

    What it does:
        Flags `Set`, `FrozenSet`, `set[...]` in the annotations of compiled code.

    Why is this bad:
        TorchScript has no set type: "Unknown type constructor typing.Set".

    Example:
        def count(labels: Set[int]) -> int: ...

    Use instead:
        Pass a `List[int]` (deduplicated by the caller) or a `Dict[int, bool]`.
    """

    code = "TS215"
    needs = Needs(nodes={"Annotation"})
    name = "set-type"
    message = "TorchScript has no set type; use `List[...]` or `Dict[..., bool]`"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import Set


@torch.jit.script
def count(x: torch.Tensor, labels: Set[int]) -> int:
    return len(labels) + x.numel()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import Dict


@torch.jit.script
def count(x: torch.Tensor, labels: Dict[int, bool]) -> int:
    return len(labels) + x.numel()
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for ann, _, _ in self.ctx.annotations:
            for sub in walk_expr(ann):
                if (
                    isinstance(sub, (cst.Subscript, cst.Name, cst.Attribute))
                    and annotation_head(sub, self.ctx) == "Set"
                ):
                    if isinstance(sub, cst.Subscript) or not _inside_subscript_base(ann, sub):
                        self.report(sub)
                        return


def _inside_subscript_base(ann: cst.CSTNode, node: cst.CSTNode) -> bool:
    for sub in walk_expr(ann):
        if isinstance(sub, cst.Subscript) and (sub.value is node or any(n is node for n in walk_expr(sub.value))):
            return True
    return False
