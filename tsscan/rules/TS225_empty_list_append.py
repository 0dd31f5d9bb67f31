import re

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.types import in_quiet_arm


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

    Fix:
        Annotates the empty list with the type of what is appended (`out: List[int] = []`)
        when every append adds the same known type. Annotations change nothing eagerly, and
        the unannotated code never compiled.
    """

    code = "TS225"
    needs = Needs(calls={"append"})
    name = "empty-list-append"
    message = "`{var} = []` is `List[Tensor]` in TorchScript, so it cannot take `{elem}`; annotate it `{var}: List[{elem}] = []`"
    level = "type"
    fix_safety = SAFE

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
""",
            fixed="""
import torch
from typing import List


@torch.jit.script
def sizes(x: torch.Tensor) -> List[int]:
    out: List[int] = []
    for d in range(x.dim()):
        out.append(x.size(d))
    return out
""",
            inputs="[(torch.zeros(2, 3),), (torch.tensor(1.0),), (torch.zeros(0, 4, dtype=torch.int64),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def pairs(x: torch.Tensor):
    out = []
    for t in x.unbind(0):
        out.append((t.sum(), t.max()))
    return out
""",
            fixed="""
import torch
from typing import List, Tuple


@torch.jit.script
def pairs(x: torch.Tensor):
    out: List[Tuple[torch.Tensor, torch.Tensor]] = []
    for t in x.unbind(0):
        out.append((t.sum(), t.max()))
    return out
""",
            inputs="[(torch.tensor([[1.0, -2.0], [float('nan'), 3.0]]),), (torch.tensor([[1, 2]]),)]",
            fix=SAFE,
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
        if node is not self.ctx.node:
            return
        types = self.ctx.types
        elems: dict = {}
        for _call, var, elem, _current in types.appends:
            elems.setdefault(var, set()).add(elem)
        for call, var, elem, current in types.appends:
            if var not in types.empty_list_vars or var in types.declared or current != "List[Tensor]":
                continue
            if elem is None or elem in ("Tensor", "Any", "None") or elem.startswith(("Optional", "Union")):
                continue
            fix = None
            assign = types.empty_list_assigns.get(var)
            if assign is not None and elems[var] == {elem} and "..." not in elem:
                text = "List[" + re.sub(r"\bTensor\b", "torch.Tensor", elem) + "]"
                imports = ["from typing import List"]
                if "Tuple[" in text:
                    imports.append("from typing import Tuple")
                if "torch.Tensor" in text:
                    imports.append("import torch")
                new = cst.AnnAssign(
                    target=assign.targets[0].target,
                    annotation=cst.Annotation(cst.parse_expression(text)),
                    value=assign.value,
                )
                fix = Fix(replacements=[(assign, new)], imports=imports, description=f"annotate `{var}: {text}`")
            if not in_quiet_arm(self.ctx, call):
                self.report(call, self.message.format(var=var, elem=elem), fix)
            return
