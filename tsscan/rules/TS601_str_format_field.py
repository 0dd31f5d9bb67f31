import re

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule

_FIELD = re.compile(r"\{([^{}]*)\}")


def format_fields(text: str):
    """The non-empty replacement fields of a ``str.format`` template (``{:.3f}``, ``{0}``)."""
    return [m.group(0) for m in _FIELD.finditer(text.replace("{{", "").replace("}}", "")) if m.group(1)]


class StrFormatField(Rule):
    """`str.format` with a format spec or field name (`'{:.3f}'.format(v)`).

    What it does:
        Flags `"...".format(...)` on a string literal whose replacement fields are not all
        plain `{}`: `{:.3f}`, `{0}`, `{name}`, `{!r}`.

    Why is this bad:
        It scripts, but TorchScript's `str.format` only fills plain `{}` fields; any other
        field is returned as written. `'{:.3f}'.format(3.14159)` is `'3.142'` in Python and
        `'{:.3f}'` once scripted. Nothing fails, the text is just wrong.

    Example:
        label = "{:.2f}".format(score)

    Use instead:
        Plain `{}` fields (`"{}".format(score)`), with rounding done on the value, or
        string concatenation.
    """

    code = "TS601"
    needs = Needs(calls={"format"})
    name = "str-format-field"
    message = "TorchScript's str.format fills only plain `{{}}` fields; `{field}` is returned unchanged once scripted"
    level = "type"  # silent where is_scripting() guards make the code eager-only

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def label(score: float) -> str:
    return "score={:.2f}".format(score)
""",
            inputs="[(0.12345,), (2.0,)]",
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def label(count: int, name: str) -> str:
    return "{}: count={}".format(name, count)
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if not (isinstance(f, cst.Attribute) and f.attr.value == "format"):
            return
        base = f.value
        if not isinstance(base, (cst.SimpleString, cst.ConcatenatedString)):
            return
        text = base.evaluated_value
        if not isinstance(text, str):
            return
        fields = format_fields(text)
        if fields:
            self.report(node, self.message.format(field=fields[0]))
