import libcst as cst

from tsscan.rule import SAFE, Example, Fix, Rule


class FStringConversion(Rule):
    """An f-string placeholder with a conversion (`!r`, `!s`, `!a`) or `=` in compiled code.

    What it does:
        Flags f-string replacement fields with a `!r`/`!s`/`!a` conversion or the
        self-documenting `=` form (`f"{x=}"`, which implies `!r`), in code that
        `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "Don't support conversion in JoinedStr".

    Example:
        raise ValueError(f"bad mode {mode!r}")

    Use instead:
        `f"{mode}"`; for strings, add the quotes yourself: `f"bad mode '{mode}'"`.

    Fix:
        `{v!s}` becomes `{v}` (an f-string already formats with `str()`), and `{n!r}` /
        `{n!a}` become `{n}` when `n` is known to be an `int` or `bool`, whose `repr` is
        their `str`. SAFE: the same text for every value. Fields with a format spec (TS120),
        `=`, or a conversion of other values (strings: `repr` adds quotes) are not changed.
    """

    code = "TS121"
    name = "fstring-conversion"
    message = "conversions (`!r`, `!s`, `!a`, `=`) in f-strings are not supported by TorchScript"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def describe(x: torch.Tensor, name: str) -> str:
    return f"{name!s}: {x.dim()!r} dims"
""",
            fixed="""
import torch


@torch.jit.script
def describe(x: torch.Tensor, name: str) -> str:
    return f"{name}: {x.dim()} dims"
""",
            inputs="[(torch.zeros(2, 3), 'feat'), (torch.zeros(0), ''), (torch.tensor(1), 'é')]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def check(mode: str) -> str:
    if mode not in ["sum", "mean"]:
        raise ValueError(f"bad mode {mode!r}")
    return mode
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def check(mode: str) -> str:
    if mode not in ["sum", "mean"]:
        raise ValueError(f"bad mode '{mode}'")
    return mode
"""
        ),
    ]

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        if node.conversion is None and node.equal is None:
            return
        fix = None
        if node.equal is None and node.format_spec is None:
            ok = node.conversion == "s"
            if not ok:
                ok = self.ctx.eager_types.type_at(node.expression) in ("int", "bool")
            if ok:
                fix = Fix(
                    replacements=[(node, node.with_changes(conversion=None))],
                    description=f"drop !{node.conversion}",
                )
        self.report(node, fix=fix)
