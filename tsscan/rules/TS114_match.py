import libcst as cst

from tsscan.rule import Example, Rule


class MatchStatement(Rule):
    """`match` statements in compiled code.

    What it does:
        Flags structural pattern matching (`match`/`case`, Python 3.10+) in code that
        `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "Match aren't supported".

    Example:
        match mode:
            case 0:
                return x
            case _:
                return x * mode

    Use instead:
        An `if`/`elif`/`else` chain.
    """

    code = "TS114"
    name = "match"
    message = "match statements are not supported by TorchScript; use if/elif/else"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def pick(x: torch.Tensor, mode: int) -> torch.Tensor:
    match mode:
        case 0:
            return x
        case _:
            return x * mode
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def pick(x: torch.Tensor, mode: int) -> torch.Tensor:
    if mode == 0:
        return x
    return x * mode
"""
        ),
    ]

    def visit_Match(self, node: cst.Match) -> None:
        self.report(node)
