import libcst as cst

from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.rules import _ts1_support


class AugAssignMatmul(Rule):
    """Augmented matrix multiplication `x @= w` in compiled code.

    What it does:
        Flags `@=` in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "unsupported kind of augmented assignment: MatMult",
        although `x @ w` works.

    Example:
        x @= self.proj

    Use instead:
        `x = x @ self.proj`.

    Fix:
        `t @= w` becomes `t = t @ w`. SAFE: `torch.Tensor` has no in-place `__imatmul__`, so
        Python already runs `x @= w` as `x = x @ w` (a new tensor, the old one untouched).
        Only offered when the target is a name, or an attribute/subscript made of names and
        constants (evaluating it twice is then harmless).
    """

    code = "TS126"
    name = "augassign-matmul"
    message = "`@=` is not supported by TorchScript; write `x = x @ w`"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def project(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = x
    y @= w
    return y + x
""",
            fixed="""
import torch


@torch.jit.script
def project(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = x
    y = y @ w
    return y + x
""",
            inputs="[(torch.randn(2, 3), torch.randn(3, 3)), (torch.zeros(0, 2), torch.ones(2, 2)), (torch.tensor([[1, -2]]), torch.tensor([[3, 0], [1, 1]]))]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def project(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    x = x @ w
    x += 1
    return x
"""
        ),
    ]

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not isinstance(node.operator, cst.MatrixMultiplyAssign):
            return
        fix = None
        if _ts1_support.simple_target(node.target):
            new = cst.Assign(
                targets=[cst.AssignTarget(target=node.target)],
                value=cst.BinaryOperation(
                    left=node.target.with_changes(lpar=[], rpar=[]),
                    operator=cst.MatrixMultiply(),
                    right=_paren_if_needed(node.value),
                ),
            )
            fix = Fix(replacements=[(node, new)], description="spell out x = x @ w")
        self.report(node, fix=fix)


def _paren_if_needed(e: cst.BaseExpression) -> cst.BaseExpression:
    # `x @= a + b` means x @ (a + b)
    if (
        isinstance(
            e, (cst.BinaryOperation, cst.BooleanOperation, cst.Comparison, cst.IfExp, cst.UnaryOperation, cst.Lambda)
        )
        and not e.lpar
    ):
        return e.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return e
