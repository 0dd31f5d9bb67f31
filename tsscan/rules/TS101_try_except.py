import libcst as cst

from tsscan.rule import Example, Rule


class TryExcept(Rule):
    """`try`/`except` (and `try`/`finally`) in compiled code.

    What it does:
        Flags every `try` statement in code that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript has no exception handling: the frontend stops with
        "try blocks aren't supported". Code in `__init__` or in `@torch.jit.ignore`
        methods may use `try` freely.

    Example:
        def forward(self, x):
            try:
                y = x / x.sum()
            except RuntimeError:
                y = x
            return y

    Use instead:
        Make the guarded condition explicit with `if`, or move the Python-only part into
        `__init__` or a `@torch.jit.ignore` method.
    """

    code = "TS101"
    name = "try-except"
    message = "try/except is not supported by TorchScript; check the condition with `if` instead"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def normalize(x: torch.Tensor) -> torch.Tensor:
    try:
        y = x / x.sum()
    except RuntimeError:
        y = x
    return y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def normalize(x: torch.Tensor) -> torch.Tensor:
    s = x.sum()
    if bool(s == 0):
        return x
    return x / s
"""
        ),
    ]

    def visit_Try(self, node: cst.Try) -> None:
        self.report(node)

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self.report(node)
