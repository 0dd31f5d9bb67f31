import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class MixedTupleMembership(Rule):
    """`v in (a, b)` over a tuple whose items have different types.

    What it does:
        Flags `in` / `not in` tests whose right side is a tuple display with items of
        different TorchScript types (`(1, "a")`, `(1, 2.0)`, `("a", None)`, `(1, True)`).

    Why is this bad:
        TorchScript's `in` over a tuple needs one item type: "Arguments for call are not
        valid" (`aten::__contains__` has no overload for a mixed tuple).

    Example:
        if mode in (0, "none"):
            ...

    Use instead:
        Compare with each value of the right type (`mode == 0`), or keep the values in one
        type.
    """

    code = "TS514"
    name = "mixed-tuple-membership"
    message = "`in` over a tuple of {types} is not supported by TorchScript; the items must have one type"
    level = "type"

    invalid = [
        Example(
            """
import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        if k in (1, "a"):
            return x
        return x + 1
"""
        ),
        Example(
            """
import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        if k not in (1, 2.5):
            return x
        return x + 1
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


class Gate(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int, s: str) -> torch.Tensor:
        if k in (1, 2) and s in ("a", "b") and k in [3, 4]:
            return x
        return x + 1
"""
        ),
    ]

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for target in node.comparisons:
            if not isinstance(target.operator, (cst.In, cst.NotIn)):
                continue
            tup = target.comparator
            if not isinstance(tup, cst.Tuple) or len(tup.elements) < 2:
                continue
            if any(isinstance(e, cst.StarredElement) for e in tup.elements):
                continue
            types = [self.ctx.types.type_of(e.value) for e in tup.elements]
            if None in types or len(set(types)) < 2:
                continue
            if in_quiet_arm(self.ctx, node):
                continue
            shown = ", ".join(dict.fromkeys(t for t in types if t is not None))
            self.report(tup, self.message.format(types=shown))
