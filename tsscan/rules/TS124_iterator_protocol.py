import libcst as cst

from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.rules import _ts1_support


class IteratorProtocol(Rule):
    """`iter()`, `next()`, `.__iter__()` and `.__next__()` in compiled code.

    What it does:
        Flags explicit use of the iterator protocol in code that `torch.jit.script`
        compiles.

    Why is this bad:
        TorchScript iterates only in `for` loops and comprehensions: "Python builtin
        <built-in function iter> is currently not supported", and `enumerate(xs).__next__()`
        fails with "attribute lookup is not defined on iterabletree". (`for ... in
        enumerate(xs)` itself is fine.)

    Example:
        it = enumerate(scores)
        _, first = it.__next__()
        for i, s in it:
            ...

    Use instead:
        Index directly (`first = scores[0]`) and start the loop at 1
        (`for i in range(1, len(scores))`).

    Fix:
        `next(iter(xs))` becomes `xs[0]` when `xs` is known to be a list or a tensor. SAFE:
        the same first element, and an empty `xs` raises in both versions (StopIteration
        before, IndexError after).
    """

    code = "TS124"
    name = "iterator-protocol"
    message = "`{what}` is not supported by TorchScript; index the sequence or use a for loop"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first_scale(scales: List[float], x: torch.Tensor) -> torch.Tensor:
    return x * next(iter(scales)) + next(iter(x))
""",
            fixed="""
from typing import List

import torch


@torch.jit.script
def first_scale(scales: List[float], x: torch.Tensor) -> torch.Tensor:
    return x * scales[0] + x[0]
""",
            inputs="[([2.0, 3.0], torch.tensor([1.0, float('nan')])), ([-0.5], torch.tensor([[1, 2], [3, 4]])), ([], torch.ones(2)), ([1.0], torch.zeros(0))]",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first_and_rest(xs: List[int]) -> int:
    it = iter(xs)
    total = next(it)
    for v in it:
        total -= v
    return total
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def best(scores: torch.Tensor) -> torch.Tensor:
    seq = enumerate(scores)
    _, top = seq.__next__()
    for _, s in seq:
        top = torch.maximum(top, s)
    return top
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first_and_rest(xs: List[int]) -> int:
    total = xs[0]
    for i in range(1, len(xs)):
        total -= xs[i]
    return total


@torch.jit.script
def best(scores: torch.Tensor) -> torch.Tensor:
    top = scores[0]
    for i, s in enumerate(scores):
        if i > 0:
            top = torch.maximum(top, s)
    return top
"""
        ),
    ]

    def on_function(self) -> None:
        self._types: _ts1_support.LocalTypes | None = None
        self._inner: set[int] = set()

    def _builtin(self, func: cst.BaseExpression, name: str) -> bool:
        mod = self.ctx.module
        return (
            isinstance(func, cst.Name) and func.value == name and name not in mod.functions and name not in mod.aliases
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if id(node) in self._inner:
            return  # the iter() of next(iter(xs)): one finding for the pair
        if self._builtin(func, "next"):
            fix = None
            arg = (
                node.args[0].value
                if len(node.args) == 1 and not node.args[0].star and node.args[0].keyword is None
                else None
            )
            if isinstance(arg, cst.Call) and self._builtin(arg.func, "iter") and len(arg.args) == 1:
                self._inner.add(id(arg))
                seq = arg.args[0]
                if not seq.star and seq.keyword is None:
                    if self._types is None:
                        self._types = _ts1_support.local_types(self.ctx)
                    t = self._types.expr(seq.value)
                    if t == "Tensor" or (t or "").startswith("List["):
                        value = seq.value
                        new = cst.Subscript(
                            value=value,
                            slice=[cst.SubscriptElement(slice=cst.Index(value=cst.Integer("0")))],
                            lpar=node.lpar,
                            rpar=node.rpar,
                        )
                        if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) and not value.lpar:
                            new = new.with_changes(
                                value=value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
                            )
                        fix = Fix(replacements=[(node, new)], description="index the first element")
            self.report(node, self.message.format(what="next()"), fix)
        elif self._builtin(func, "iter"):
            self.report(node, self.message.format(what="iter()"))
        elif isinstance(func, cst.Attribute) and func.attr.value in ("__next__", "__iter__") and not node.args:
            self.report(node, self.message.format(what=f".{func.attr.value}()"))
