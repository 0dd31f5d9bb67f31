import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule


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
        `v = next(iter(xs))` (also `return next(iter(xs))`), with `xs` a name or an attribute
        known to be a list or a tensor, becomes `if len(xs) == 0: raise
        StopIteration(...)` followed by `v = xs[0]`. SAFE: the same first element, and the
        same exception for an empty `xs` (StopIteration) or a 0-d tensor (TypeError, from
        `len`). Elsewhere (`x * next(iter(xs))`, where a check placed before the statement
        could run before other parts of it) `next(iter(xs))` becomes `xs[0]` alone, UNSAFE:
        an empty `xs` then raises IndexError instead of StopIteration.
    """

    code = "TS124"
    needs = Needs(calls={"next", "iter", "__next__", "__iter__"})
    name = "iterator-protocol"
    message = "`{what}` is not supported by TorchScript; index the sequence or use a for loop"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = SAFE  # UNSAFE where no check can go before the statement

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first_scale(scales: List[float], x: torch.Tensor) -> torch.Tensor:
    s = next(iter(scales))
    first = next(iter(x))
    return x * s + first
""",
            fixed="""
from typing import List

import torch


@torch.jit.script
def first_scale(scales: List[float], x: torch.Tensor) -> torch.Tensor:
    if len(scales) == 0:
        raise StopIteration("next() of an empty sequence")
    s = scales[0]
    if len(x) == 0:
        raise StopIteration("next() of an empty sequence")
    first = x[0]
    return x * s + first
""",
            inputs=(
                "[([2.0, 3.0], torch.tensor([1.0, float('nan')])), ([-0.5], torch.tensor([[1, 2], [3, 4]])), "
                "([], torch.ones(2)), ([1.0], torch.zeros(0)), ([1.0], torch.tensor(2.0))]"
            ),
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first_scale(scales: List[float], x: torch.Tensor) -> torch.Tensor:
    return x * next(iter(scales))
""",
            fix=UNSAFE,
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
        self._inner: set[int] = set()
        self._line: cst.SimpleStatementLine | None = None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = None

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
                    t = self.ctx.eager_types.type_at(seq.value)
                    if t == "Tensor" or (t or "").startswith("List["):
                        fix = self._first_fix(node, seq.value)
            self.report(node, self.message.format(what="next()"), fix)
        elif self._builtin(func, "iter"):
            self.report(node, self.message.format(what="iter()"))
        elif isinstance(func, cst.Attribute) and func.attr.value in ("__next__", "__iter__") and not node.args:
            self.report(node, self.message.format(what=f".{func.attr.value}()"))

    def _first_fix(self, node: cst.Call, value: cst.BaseExpression) -> Fix:
        """``next(iter(xs))`` -> ``xs[0]``, after ``if len(xs) == 0: raise StopIteration(...)``
        when the call is a statement's whole value and ``xs`` a name or attribute (SAFE: the
        same value, the same exception type); otherwise ``xs[0]`` alone (UNSAFE: an empty
        ``xs`` raises IndexError instead of StopIteration)."""
        new = cst.Subscript(
            value=value,
            slice=[cst.SubscriptElement(slice=cst.Index(value=cst.Integer("0")))],
            lpar=node.lpar,
            rpar=node.rpar,
        )
        if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) and not value.lpar:
            new = new.with_changes(value=value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        line = self._line
        small = line.body[0] if line is not None and len(line.body) == 1 else None
        whole = isinstance(small, (cst.Assign, cst.AnnAssign, cst.Return, cst.Expr)) and small.value is node
        if line is None or small is None or not whole or not _plain(value):
            return Fix(
                replacements=[(node, new)],
                safety=UNSAFE,
                description="index the first element (an empty sequence raises IndexError)",
            )
        seq = cst.Module(body=[]).code_for_node(value)
        guard = cst.parse_statement(f'if len({seq}) == 0:\n    raise StopIteration("next() of an empty sequence")\n')
        guard = guard.with_changes(leading_lines=line.leading_lines)
        rest = line.with_changes(body=[small.with_changes(value=new)], leading_lines=[])
        return Fix(
            replacements=[(line, cst.FlattenSentinel([guard, rest]))],
            description="index the first element, raising StopIteration when there is none",
        )


def _plain(node: cst.BaseExpression) -> bool:
    """A name or an attribute chain on a name: read twice, it gives the same value."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)
