from tsscan.rule import Example, Rule

import libcst as cst


class AnnotationWithoutValue(Rule):
    """A local variable annotation without a value (`y: int`) in compiled code.

    What it does:
        Flags annotated assignments that assign nothing, in code that `torch.jit.script`
        compiles.

    Why is this bad:
        The frontend stops with "annotated assignments without assigned value aren't
        supported". Python accepts the bare declaration (it does nothing at run time).

    Example:
        best: int
        if bool(x.sum() > 0):
            best = 1
        else:
            best = 0

    Use instead:
        Give the declaration an initial value (`best: int = 0`), or drop it and let the
        assignments type the variable.
    """

    code = "TS129"
    name = "annotation-without-value"
    message = "an annotation without a value is not supported by TorchScript; give it an initial value"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def sign(x: torch.Tensor) -> int:
    best: int
    if bool(x.sum() > 0):
        best = 1
    else:
        best = 0
    return best
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def sign(x: torch.Tensor) -> int:
    best: int = 0
    if bool(x.sum() > 0):
        best = 1
    return best
"""
        ),
    ]

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            self.report(node)
