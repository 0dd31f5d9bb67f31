import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import (
    annotation_head,
    annotation_type,
    subscript_items,
    walk_expr,
)

_KEYS = ("int", "float", "complex", "Tensor", "str", "bool", "Device", "Any")


class DictKeyType(Rule):
    """Dict whose key type TorchScript cannot hash (`Dict[Tuple[int, int], int]`).

    What it does:
        Flags `Dict[K, V]` annotations in compiled code whose key type is a tuple, list,
        dict or Optional.

    Why is this bad:
        "Cannot create dict for key type '(int, int)', only int, float, complex, Tensor,
        device and string keys are supported" (bool works too). The message names no line.

    Example:
        def lookup(table: Dict[Tuple[int, int], int]) -> int: ...

    Use instead:
        Encode the key: `Dict[str, int]` with `f"{a},{b}"`, or an int `a * K + b`.
    """

    code = "TS216"
    needs = Needs(nodes={"Annotation"})
    name = "dict-key-type"
    message = "TorchScript dict keys must be int, float, complex, bool, str, Tensor or device, not `{key}`; encode the key as str or int"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import Dict, Tuple


@torch.jit.script
def lookup(x: torch.Tensor, table: Dict[Tuple[int, int], int]) -> int:
    return table[(x.dim(), 0)]
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import Dict


@torch.jit.script
def lookup(x: torch.Tensor, table: Dict[str, int]) -> int:
    return table[str(x.dim()) + ",0"]
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for ann, _, _ in self.ctx.annotations:
            for sub in walk_expr(ann):
                if isinstance(sub, cst.Subscript) and annotation_head(sub, self.ctx) == "Dict":
                    items = subscript_items(sub)
                    if len(items) != 2:
                        continue
                    key = annotation_type(items[0], self.ctx)
                    if (
                        key is not None
                        and key not in _KEYS
                        and key.split("[")[0] in ("Tuple", "List", "Dict", "Optional")
                    ):
                        self.report(items[0], self.message.format(key=key))
