import libcst as cst

from tsscan.rule import Example, Rule


class BytesLiteral(Rule):
    """`bytes` literals (`b"..."`) in compiled code.

    What it does:
        Flags `b"..."` string literals in code that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript has no bytes type: the frontend stops with "Unknown Constant expression
        type", even inside an `if not torch.jit.is_scripting():` branch.

    Example:
        MAGIC = b"TSv1"   # inside forward

    Use instead:
        A `str`, or a tensor of `torch.uint8` values built outside compiled code.
    """

    code = "TS131"
    name = "bytes-literal"
    message = "bytes literals are not supported by TorchScript; use a str or a uint8 tensor"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def header(x: torch.Tensor) -> int:
    magic = b"TSv1"
    return len(magic) + x.numel()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def header(x: torch.Tensor) -> int:
    magic = "TSv1"
    return len(magic) + x.numel()
"""
        ),
    ]

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "b" in node.prefix.lower():
            self.report(node)
