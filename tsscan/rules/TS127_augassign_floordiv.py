import libcst as cst

from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule
from tsscan.rules import _ts1_support


class AugAssignFloorDiv(Rule):
    """Augmented floor division `n //= k` in compiled code.

    What it does:
        Flags `//=` in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "unsupported kind of augmented assignment: FloorDiv",
        although `n // k` works.

    Example:
        stride //= 2

    Use instead:
        `stride = stride // 2`.

    Fix:
        `n //= k` becomes `n = n // k`. SAFE when `n` is known to be an `int` or `float`
        (immutable: both spellings bind a new value). UNSAFE otherwise: on a tensor `//=`
        works in place, so other references to the same tensor (the caller's argument, a
        view) see the change in eager, but not after the rewrite.
    """

    code = "TS127"
    name = "augassign-floordiv"
    message = "`//=` is not supported by TorchScript; write `n = n // k`"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def pooled_size(x: torch.Tensor, levels: int) -> int:
    n = x.shape[-1]
    for _ in range(levels):
        n //= 2
    return n
""",
            fixed="""
import torch


@torch.jit.script
def pooled_size(x: torch.Tensor, levels: int) -> int:
    n = x.shape[-1]
    for _ in range(levels):
        n = n // 2
    return n
""",
            inputs="[(torch.zeros(2, 17), 2), (torch.zeros(0), 3), (torch.zeros(5), 0)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def halve(x: torch.Tensor) -> torch.Tensor:
    x //= 2
    return x
""",
            fix=UNSAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def pooled_size(x: torch.Tensor, levels: int) -> int:
    n = x.shape[-1]
    for _ in range(levels):
        n = n // 2
    n -= 1
    return n
"""
        ),
    ]

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not isinstance(node.operator, cst.FloorDivideAssign):
            return
        fix = None
        if _ts1_support.simple_target(node.target):
            t = self.ctx.eager_types.type_at(node.target)
            safe = t in ("int", "float")
            value = node.value
            if (
                isinstance(
                    value, (cst.BinaryOperation, cst.BooleanOperation, cst.Comparison, cst.IfExp, cst.UnaryOperation)
                )
                and not value.lpar
            ):
                value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            new = cst.Assign(
                targets=[cst.AssignTarget(target=node.target)],
                value=cst.BinaryOperation(
                    left=node.target.with_changes(lpar=[], rpar=[]), operator=cst.FloorDivide(), right=value
                ),
            )
            fix = Fix(
                replacements=[(node, new)],
                safety=SAFE if safe else UNSAFE,
                description="spell out n = n // k"
                + ("" if safe else " (UNSAFE: on a tensor `//=` is in place; the rewrite makes a new tensor)"),
            )
        self.report(node, fix=fix)
