import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.typemodel import RootOnly, analyse


class EmptyListAppend(Rule):
    """`out = []` without annotation, then `out.append(<not a Tensor>)`.

    What it does:
        Flags `append` of an int, float, bool, str, list or tuple to a local that was
        created as an unannotated empty list.

    Why is this bad:
        TorchScript types an unannotated `[]` as `List[Tensor]`, so appending anything
        else fails: "aten::append.t(t[](a!) self, t(c -> *) el) -> t[](a!): Could not
        match type int to Tensor".

    Example:
        out = []
        for i in range(3):
            out.append(i)

    Use instead:
        out: List[int] = []
    """

    code = "TS225"
    name = "empty-list-append"
    message = "`{var} = []` is `List[Tensor]` in TorchScript, so it cannot take `{elem}`; annotate it `{var}: List[{elem}] = []`"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def sizes(x: torch.Tensor) -> List[int]:
    out = []
    for d in range(x.dim()):
        out.append(x.size(d))
    return out
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def sizes(x: torch.Tensor) -> List[int]:
    out: List[int] = []
    parts = []
    for d in range(x.dim()):
        out.append(x.size(d))
        parts.append(x.sum(d))
    return out
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not RootOnly.is_root(self, node):
            return
        types = analyse(node, self.ctx)
        for call, var, elem, current in types.appends:
            if var not in types.empty_list_vars or var in types.declared or current != "List[Tensor]":
                continue
            if elem is None or elem in ("Tensor", "Any", "None") or elem.startswith(("Optional", "Union")):
                continue
            self.report(call, self.message.format(var=var, elem=elem))
            return
