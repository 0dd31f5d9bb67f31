import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import UNSAFE, Example, Fix, Rule


class WarningCategory(Rule):
    """`warnings.warn(msg, Category)` in compiled code.

    What it does:
        Flags `warnings.warn` calls that pass a warning category, as the second argument or
        as `category=`.

    Why is this bad:
        TorchScript compiles `warnings.warn(msg)` (and `stacklevel=`), but an exception class
        is not a value it knows: "Python exception cannot be used as a value".

    Example:
        warnings.warn("mask is ignored", UserWarning)

    Use instead:
        warnings.warn("mask is ignored")

    Fix:
        Drops the category. UNSAFE: the warning is then a `UserWarning`, which filters on
        the category (and tests that expect it) see differently.
    """

    code = "TS516"
    needs = Needs(calls={"warn"})
    name = "warning-category"
    message = "TorchScript cannot pass a warning category to `warnings.warn`; drop it"
    level = "type"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import warnings

import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() == 0:
            warnings.warn("empty input", RuntimeWarning, stacklevel=2)
        return x + 1
""",
            fixed="""
import warnings

import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() == 0:
            warnings.warn("empty input", stacklevel=2)
        return x + 1
""",
            inputs="[(torch.zeros(0),), (torch.ones(2),)]",
            fix=UNSAFE,
        ),
        Example(
            """
from warnings import warn

import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        warn("deprecated", category=FutureWarning)
        return x + 1
""",
            fixed="""
from warnings import warn

import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        warn("deprecated")
        return x + 1
""",
            inputs="[(torch.ones(2),)]",
            fix=UNSAFE,
        ),
    ]
    valid = [
        Example(
            """
import warnings

import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        warnings.warn("deprecated", stacklevel=2)
        return x + 1
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualname(node.func) != "warnings.warn" or any(a.star for a in node.args):
            return
        positional = [a for a in node.args if a.keyword is None]
        category = next((a for a in node.args if a.keyword is not None and a.keyword.value == "category"), None)
        if category is None and len(positional) >= 2:
            category = positional[1]
        if category is None:
            return
        fix = None
        if category.keyword is not None or positional[-1] is category:  # `stacklevel` would take its place
            kept = [a for a in node.args if a is not category]
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            fix = Fix(
                replacements=[(node, node.with_changes(args=kept))], safety=UNSAFE, description="drop the category"
            )
        self.report(category, fix=fix)
