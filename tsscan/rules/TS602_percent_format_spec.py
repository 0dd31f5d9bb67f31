import re

import libcst as cst

from tsscan.rule import Example, Rule

_CONV = re.compile(r"%(\([^)]*\))?([-+ #0]*)(\d+|\*)?(\.(?:\d+|\*)?)?[a-zA-Z]")


def spec_conversions(text: str):
    """``%`` conversions with flags, width or precision (``%.2f``, ``%5d``)."""
    out = []
    for m in _CONV.finditer(text.replace("%%", "")):
        if m.group(2) or m.group(3) or m.group(4):
            out.append(m.group(0))
    return out


class PercentFormatSpec(Rule):
    """`%` formatting with width or precision (`'%.2f' % v`).

    What it does:
        Flags `"..." % values` on a string literal whose conversions carry flags, a width
        or a precision (`%.2f`, `%5d`, `%-8s`).

    Why is this bad:
        It scripts, but TorchScript's `%` supports only bare conversions (`%d`, `%s`, `%f`):
        the scripted code raises at run time where Python formats the value.

    Example:
        return "%.2f" % v

    Use instead:
        A bare conversion on a rounded value, or `str()` and concatenation.
    """

    code = "TS602"
    name = "percent-format-spec"
    message = "TorchScript's `%` formatting has no width/precision/flags: `{conv}` raises at run time once scripted"
    level = "type"  # silent where is_scripting() guards make the code eager-only

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def show(v: float) -> str:
    return "loss %.3f" % v
""",
            inputs="[(3.14159,), (-0.5,)]",
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def show(v: float, n: int) -> str:
    return "loss %f after %d steps (100%%)" % (v, n)
"""
        ),
    ]

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, cst.Modulo):
            return
        left = node.left
        if not isinstance(left, (cst.SimpleString, cst.ConcatenatedString)):
            return
        text = left.evaluated_value
        if not isinstance(text, str):
            return
        convs = spec_conversions(text)
        if convs:
            self.report(node, self.message.format(conv=convs[0]))
