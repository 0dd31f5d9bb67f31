import libcst as cst

from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.walk import children


class LoopElse(Rule):
    """`for ... else` and `while ... else` in compiled code.

    What it does:
        Flags loops with an `else` clause in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "else branches of for loops aren't supported" (for `for`)
        or with an internal `TypeError` that names no line at all (for `while`).

    Example:
        for i in range(x.numel()):
            if bool(x[i] < 0):
                first = i
                break
        else:
            first = -1

    Use instead:
        Set the "not found" value before the loop and let `break` skip it, or keep a flag
        variable that `break` sets.

    Fix:
        When the loop has no `break` of its own, its `else` block always runs after the
        loop, so the block is moved after the loop (SAFE). Loops with `break` are not
        changed.
    """

    code = "TS115"
    name = "loop-else"
    message = "`else` on a {kind} loop is not supported by TorchScript; use a flag variable set before `break`"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def first_negative(x: torch.Tensor) -> int:
    for i in range(x.numel()):
        if bool(x[i] < 0):
            first = i
            break
    else:
        first = -1
    return first
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def halvings(n: int) -> int:
    steps = 0
    while n > 1:
        n = n // 2
        steps += 1
    # one more step for the remainder
    else:
        steps += 100
    return steps
""",
            fixed="""
import torch


@torch.jit.script
def halvings(n: int) -> int:
    steps = 0
    while n > 1:
        n = n // 2
        steps += 1
    # one more step for the remainder
    steps += 100
    return steps
""",
            inputs="[(0,), (1,), (37,), (-4,)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def first_negative(x: torch.Tensor) -> int:
    first = -1
    for i in range(x.numel()):
        if bool(x[i] < 0):
            first = i
            break
    return first
"""
        ),
    ]

    def visit_For(self, node: cst.For) -> None:
        if node.orelse is not None:
            # the compiler points at the `for`
            self.report(node, self.message.format(kind="for"), _fix(node))

    def visit_While(self, node: cst.While) -> None:
        if node.orelse is not None:
            # the compiler names no line; the `else` is what has to go
            self.report(node.orelse, self.message.format(kind="while"), _fix(node))


def _has_own_break(node: cst.CSTNode) -> bool:
    for child in children(node):
        if isinstance(child, cst.Break):
            return True
        if isinstance(child, (cst.For, cst.While)):
            # a nested loop's break is its own; its else block belongs to us
            if child.orelse is not None and _has_own_break(child.orelse):
                return True
            continue
        if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if _has_own_break(child):
            return True
    return False


def _fix(loop):
    orelse = loop.orelse
    block = orelse.body
    if (
        _has_own_break(loop.body)
        or not isinstance(block, cst.IndentedBlock)
        or block.header.comment is not None
        or any(line.comment is not None for line in block.footer)
        or getattr(loop, "asynchronous", None) is not None
    ):
        return None
    moved = list(block.body)
    first = moved[0]
    if not isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):  # libcst has no other
        return None
    moved[0] = first.with_changes(leading_lines=list(orelse.leading_lines) + list(first.leading_lines))
    return Fix(
        replacements=[(loop, cst.FlattenSentinel([loop.with_changes(orelse=None)] + moved))],
        description="no `break`: the else block always runs, move it after the loop",
    )
