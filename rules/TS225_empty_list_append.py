import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.typemodel import RootOnly, analyse


def _bindings(fn: cst.FunctionDef, name: str):
    out = []

    class V(cst.CSTVisitor):
        def visit_Assign(self, n: cst.Assign) -> None:
            for t in n.targets:
                if isinstance(t.target, cst.Name) and t.target.value == name:
                    out.append(n.value)
                elif not isinstance(t.target, (cst.Attribute, cst.Subscript)):
                    out.append(None)  # unpacking: unsure

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            if isinstance(n.target, cst.Name) and n.target.value == name:
                out.append(None)

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            if isinstance(n.target, cst.Name) and n.target.value == name:
                out.append(None)

        def visit_For(self, n: cst.For) -> None:
            out.append(None) if any(
                isinstance(s, cst.Name) and s.value == name for s in _names(n.target)
            ) else None

    fn.body.visit(V())
    return out


def _names(t):
    if isinstance(t, cst.Name):
        return [t]
    if isinstance(t, (cst.Tuple, cst.List)):
        return [x for el in t.elements for x in _names(el.value)]
    return []


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
        for call, var, elem in types.appends:
            if var not in types.empty_list_vars or var in types.declared or var in types.params:
                continue
            if elem is None or elem in ("Tensor", "Any", "None") or elem.startswith(("Optional", "Union")):
                continue
            binds = _bindings(node, var)
            if not all(isinstance(b, cst.List) and not b.elements for b in binds):
                continue
            self.report(call, self.message.format(var=var, elem=elem))
            return
