import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm

# values of these types are not objects with settable attributes in TorchScript
_VALUES = ("Tensor", "int", "float", "bool", "str", "complex", "None")
_CONTAINERS = ("List[", "Tuple[", "Dict[", "Optional[")


class AttributeSetOnValue(Rule):
    """An attribute set on a Tensor or another value (`x.requires_grad = True`).

    What it does:
        Flags an assignment to an attribute of a value that the compiler types as a Tensor,
        a number, a string, a container or an Optional (`hidden.requires_grad = True`,
        `x.data = y`).

    Why is this bad:
        Only objects of classes have attributes that compiled code may set: "Tried to set
        an attribute: requires_grad on a non-class: Tensor".

    Example:
        def forward(self, hidden: torch.Tensor) -> torch.Tensor:
            hidden.requires_grad = True
            return hidden * 2

    Use instead:
        Call the method: `hidden.requires_grad_(True)`, or keep such code out of the
        compiled path (`if not torch.jit.is_scripting():`).
    """

    code = "TS230"
    name = "attribute-set-on-value"
    message = "`{value}` is a `{type}` to TorchScript, whose attributes cannot be set{hint}"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Encoder(nn.Module):
    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if self.training:
            hidden.requires_grad = True
        return hidden * 2
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if self.training:
            hidden.requires_grad_(True)
            self.steps = self.steps + 1
        return hidden * 2
"""
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            target = t.target
            if not isinstance(target, cst.Attribute) or self.ctx.self_attr(target) is not None:
                continue
            ty = self.ctx.types.type_at(target.value)
            if ty is None or not (ty in _VALUES or ty.startswith(_CONTAINERS)):
                continue
            if in_quiet_arm(self.ctx, node):
                continue
            hint = "; use `.requires_grad_(...)`" if ty == "Tensor" and target.attr.value == "requires_grad" else ""
            value = cst.Module(body=[]).code_for_node(target.value)
            self.report(target, self.message.format(value=value, type=ty, hint=hint))
