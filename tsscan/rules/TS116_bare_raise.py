import libcst as cst

from tsscan.rule import Example, Rule


class BareRaise(Rule):
    """A bare `raise` (re-raise) in compiled code.

    What it does:
        Flags `raise` without an exception in code that `torch.jit.script` compiles.

    Why is this bad:
        There is nothing to re-raise in TorchScript (it has no `except`), and the frontend
        crashes on it with an `AttributeError` ("'NoneType' object has no attribute
        'lineno'") that names no line of your code.

    Example:
        if x.numel() == 0:
            raise

    Use instead:
        Raise a builtin exception with a message: `raise ValueError("empty input")`.
    """

    code = "TS116"
    name = "bare-raise"
    message = "bare `raise` is not supported by TorchScript; raise a builtin exception with a message"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def checked(x: torch.Tensor) -> torch.Tensor:
    if x.numel() == 0:
        raise
    return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def checked(x: torch.Tensor) -> torch.Tensor:
    if x.numel() == 0:
        raise ValueError("empty input")
    return x
"""
        ),
    ]

    def visit_Raise(self, node: cst.Raise) -> None:
        if node.exc is None:
            self.report(node)
