import libcst as cst

from tsscan.rule import Example, Rule


class Walrus(Rule):
    """Assignment expressions (`:=`) in compiled code.

    What it does:
        Flags the walrus operator in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "NamedExpr aren't supported".

    Example:
        if (n := x.numel()) > 2:
            return n

    Use instead:
        Assign first, then test: `n = x.numel()` followed by `if n > 2:`.
    """

    code = "TS113"
    name = "walrus"
    message = "assignment expressions (:=) are not supported by TorchScript; assign on a separate line"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def big(x: torch.Tensor) -> int:
    if (n := x.numel()) > 2:
        return n
    return 0
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def big(x: torch.Tensor) -> int:
    n = x.numel()
    if n > 2:
        return n
    return 0
"""
        ),
    ]

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.report(node)
