import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.receivers import MODULE


class SortingKeyword(Rule):
    """`key=` in `sorted`/`min`/`max`/`list.sort`, or `reverse=` in `sorted`.

    What it does:
        Flags `sorted(xs, key=...)`, `sorted(xs, reverse=...)`, `min(xs, key=...)`,
        `max(xs, key=...)` and `xs.sort(key=...)`. Plain `sorted(xs)` and
        `xs.sort(reverse=True)` are fine.

    Why is this bad:
        TorchScript's `sorted`, `min` and `max` take no keyword arguments ("Arguments for call
        are not valid"), and a function passed as a value is rejected ("function cannot be
        used as a value"), so `key=` cannot work at all.

    Example:
        ys = sorted(xs, key=score)
        zs = sorted(xs, reverse=True)

    Use instead:
        Sort (value, index) pairs or a list of keys; for `reverse=True` use
        `zs = sorted(xs)` then `zs.reverse()`, or `zs = list(xs); zs.sort(reverse=True)`.
    """

    code = "TS502"
    needs = Needs(nodes={"keyword"})
    name = "sorting-keyword"
    message = "`{call}({kw}=...)` is not supported by TorchScript"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import List


def _neg(v: int) -> int:
    return -v


@torch.jit.script
def largest_first(xs: List[int]) -> List[int]:
    return sorted(xs, key=_neg)
"""
        ),
        Example(
            """
import torch
from typing import List


@torch.jit.script
def largest_first(xs: List[float]) -> List[float]:
    return sorted(xs, reverse=True)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def largest_first(xs: List[float]) -> List[float]:
    ys = sorted(xs)
    ys.sort(reverse=True)
    return ys
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        kws = [a.keyword.value for a in node.args if a.keyword is not None]
        if not kws:
            return
        if isinstance(func, cst.Name):
            name = func.value
            if name not in ("sorted", "min", "max") or self.ctx.is_shadowed(name):
                return
            bad = [k for k in kws if k == "key" or (name == "sorted" and k == "reverse")]
            if bad:
                self.report(node, self.message.format(call=name, kw=bad[0]))
        elif isinstance(func, cst.Attribute) and func.attr.value == "sort" and "key" in kws:
            if self.ctx.kinds.kind(func.value) != MODULE:
                self.report(node, self.message.format(call=".sort", kw="key"))
