import libcst as cst

from tsscan.rule import Example, Rule


class SetDisplay(Rule):
    """Set literals `{a, b}` and set comprehensions `{f(a) for a in xs}` in compiled code.

    What it does:
        Flags set displays and set comprehensions in code that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript has no set type. The frontend stops with "Set aren't supported" or
        "SetComp aren't supported", even inside an `if not torch.jit.is_scripting():` branch.

    Example:
        special = {0, 2}
        keep = [i for i in ids if i not in special]

    Use instead:
        A list (`[0, 2]`; `in` works on lists) or a `Dict[int, bool]` for large lookups.
        When the set was used to de-duplicate, build a list with `if v not in out:
        out.append(v)` and sort it if the original relied on `sorted(set(...))`.
    """

    code = "TS105"
    name = "set-display"
    message = "set {kind} are not supported by TorchScript; use a list (or a dict for lookups)"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def drop_special(ids: List[int]) -> List[int]:
    special = {0, 2}
    out: List[int] = []
    for i in ids:
        if i not in special:
            out.append(i)
    return out
"""
        ),
        Example(
            """
from typing import List

import torch


@torch.jit.script
def residues(xs: List[int]) -> int:
    return len({a % 3 for a in xs})
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def drop_special(ids: List[int]) -> List[int]:
    special = [0, 2]
    table = {0: True, 2: True}
    out: List[int] = []
    for i in ids:
        if i not in special and i not in table:
            out.append(i)
    return out
"""
        ),
    ]

    def visit_Set(self, node: cst.Set) -> None:
        self.report(node, self.message.format(kind="literals"))

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self.report(node, self.message.format(kind="comprehensions"))
