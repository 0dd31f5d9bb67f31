import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule

_NAMES = ("set", "frozenset")


class SetCall(Rule):
    """`set(...)` / `frozenset(...)` in compiled code.

    What it does:
        Flags calls of the builtins `set` and `frozenset` in code that `torch.jit.script`
        compiles.

    Why is this bad:
        TorchScript has no set type; the call fails to resolve ("set(Tensor 0) -> Tensor 0").

    Example:
        def unique_ids(ids: List[int]) -> List[int]:
            return sorted(set(ids))

    Use instead:
        De-duplicate into a list (`if v not in out: out.append(v)`), then `out.sort()` if the
        original relied on sorted output (Python's set order is not insertion order), or use
        `torch.unique` on tensors.
    """

    code = "TS106"
    needs = Needs(calls=_NAMES)
    name = "set-call"
    message = "`{name}()` is not supported by TorchScript (there is no set type); de-duplicate into a list"
    fails_in = ">=1.0"
    level = "type"

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def unique_ids(ids: List[int]) -> List[int]:
    return sorted(set(ids))
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def unique_ids(ids: List[int]) -> List[int]:
    out: List[int] = []
    for v in ids:
        if v not in out:
            out.append(v)
    out.sort()
    return out
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Name) and func.value in _NAMES):
            return
        mod = self.ctx.module
        if func.value in mod.functions or func.value in mod.aliases or func.value in mod.classes:
            return  # the file's own `set`
        self.report(node, self.message.format(name=func.value))
