import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


def _has_fields(text: str) -> bool:
    """True when a ``str.format`` template has a field other than plain ``{}``."""
    cleaned = text.replace("{{", "").replace("}}", "")
    return any(part.split("}", 1)[0] for part in cleaned.split("{")[1:])


class FloatToStr(Rule):
    """A float turned into text (`str(v)`, `f"{v}"`, `"{}".format(v)`).

    What it does:
        Flags `str(v)`, f-string fields `{v}` and `"{}".format(v)` where `v` is a `float`
        (not in the messages of `raise` and `assert`).

    Why is this bad:
        It scripts, but TorchScript prints floats its own way: `str(2.0)` is `'2.'` and
        `str(0.1)` is `'0.10000000000000001'` once scripted (`'2.0'` and `'0.1'` in Python).
        Labels, keys and log lines built this way change silently.

    Example:
        key = "scale_" + str(scale)

    Use instead:
        Format an int (`str(int(scale * 100))`) or keep the number as a number.
    """

    code = "TS606"
    needs = Needs(calls={"str", "format"}, nodes={"FormattedValue"})
    name = "float-to-str"
    message = (
        "a float turned into text prints differently once scripted (`'2.'` for 2.0, `'0.10000000000000001'` for 0.1)"
    )
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def key(scale: int) -> str:
    ratio = scale / 4
    return "ratio_" + str(ratio)
""",
            inputs="[(8,), (1,)]",
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def key(scale: float, n: int) -> str:
    return "scale_" + str(int(scale * 100)) + f"_{n}"
"""
        ),
    ]

    def on_function(self) -> None:
        self._in_error = 0

    # error messages (`raise ValueError(f"bad lr {lr}")`, `assert ..., msg`) are not results
    def visit_Raise(self, node: cst.Raise) -> None:
        self._in_error += 1

    def leave_Raise(self, original_node: cst.Raise) -> None:
        self._in_error -= 1

    def visit_Assert(self, node: cst.Assert) -> None:
        self._in_error += 1

    def leave_Assert(self, original_node: cst.Assert) -> None:
        self._in_error -= 1

    def _is_float(self, expr: cst.BaseExpression) -> bool:
        return not self._in_error and self.ctx.types.type_at(expr) == "float"

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if isinstance(f, cst.Name) and f.value == "str" and len(node.args) == 1:
            if self._is_float(node.args[0].value):
                if not in_quiet_arm(self.ctx, node):
                    self.report(node)
        elif (
            isinstance(f, cst.Attribute)
            and f.attr.value == "format"
            and isinstance(f.value, (cst.SimpleString, cst.ConcatenatedString))
        ):
            text = f.value.evaluated_value
            if not isinstance(text, str) or _has_fields(text):
                return  # TS601's business: such templates are returned unchanged
            if any(self._is_float(a.value) for a in node.args if a.keyword is None and not a.star):
                if not in_quiet_arm(self.ctx, node):
                    self.report(node)

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        if node.format_spec is None and node.conversion is None and self._is_float(node.expression):
            if not in_quiet_arm(self.ctx, node):
                self.report(node)
