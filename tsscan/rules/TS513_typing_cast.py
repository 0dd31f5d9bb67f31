import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.rules._bare import BareExpressions


class TypingCast(BareExpressions, Rule):
    """`typing.cast(T, v)` in compiled code.

    What it does:
        Flags calls of `typing.cast` (also imported as `cast`) in code that
        `torch.jit.script` compiles.

    Why is this bad:
        TorchScript does not know `typing.cast`: "builtin cannot be used as a value"
        (`__int__ cannot be used as a value` for `cast(int, v)`).

    Example:
        h = cast(torch.Tensor, self.head(x))

    Use instead:
        h = self.head(x)

        To narrow an `Optional`, test it: `assert v is not None`.

    Fix:
        `cast(T, v)` becomes `v`. SAFE: `typing.cast` returns its second argument unchanged.
    """

    code = "TS513"
    needs = Needs(calls={"cast"})
    name = "typing-cast"
    message = "`typing.cast()` is not supported by TorchScript; use the value itself (`assert v is not None` narrows an Optional)"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import cast

import torch


class Head(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = cast(torch.Tensor, x * 2)
        return y + 1
""",
            fixed="""
from typing import cast

import torch


class Head(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * 2
        return y + 1
""",
            inputs="[(torch.tensor([1.0, -2.0]),), (torch.zeros(2, 3),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
from typing import Optional

import torch


def cast(t: torch.Tensor) -> torch.Tensor:
    return t.float()


class Head(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        assert y is not None
        return cast(x) + y
"""
        ),
    ]

    def on_function(self) -> None:
        self.reset_bare()

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualname(node.func) not in ("typing.cast", "typing_extensions.cast"):
            return
        head = node.func
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value in self.ctx.local_names:
            return
        fix = None
        args = node.args
        if len(args) == 2 and all(a.keyword is None and not a.star for a in args):
            value = args[1].value
            if node.lpar and not value.lpar:
                value = value.with_changes(lpar=node.lpar, rpar=node.rpar)
            elif (
                id(node) not in self.bare
                and not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))
                and not value.lpar
            ):
                value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            fix = Fix(replacements=[(node, value)], description="use the value itself")
        self.report(node, fix=fix)
