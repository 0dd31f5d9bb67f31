import libcst as cst

from tsscan.rule import Example, Rule


class FStringFormatSpec(Rule):
    """An f-string placeholder with a format spec (`f"{v:.2f}"`) in compiled code.

    What it does:
        Flags f-string replacement fields that carry a format spec after `:`, in code that
        `torch.jit.script` compiles.

    Why is this bad:
        TorchScript's f-strings only concatenate `str()` of the values: the frontend stops
        with "Don't support formatting in JoinedStr". `"{:.2f}".format(v)` is no way out: it
        compiles but returns the template unchanged ("{:.2f}"), and `"%.2f" % v` compiles
        but fails at run time.

    Example:
        print(f"loss {loss.item():.4f}")

    Use instead:
        Plain `f"{v}"` when the exact digits do not matter, or do the formatting outside
        compiled code (in a `@torch.jit.ignore` method). There is no faithful rewrite inside
        TorchScript: rounding by hand gives different digits (trailing zeros, float repr).
    """

    code = "TS120"
    name = "fstring-format-spec"
    message = "format specs in f-strings are not supported by TorchScript; format outside compiled code"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def describe(x: torch.Tensor) -> str:
    return f"mean={x.mean().item():.3f}"
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def describe(x: torch.Tensor) -> str:
    return f"mean={x.mean().item()} n={x.numel()}"
"""
        ),
    ]

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        if node.format_spec is not None:
            self.report(node)
