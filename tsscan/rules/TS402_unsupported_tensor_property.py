import libcst as cst

from tsscan.rule import Example, Rule


class UnsupportedTensorProperty(Rule):
    """A Tensor attribute that TorchScript's Tensor type does not have (`.grad_fn`, ...).

    What it does:
        Flags reads of Tensor properties that the target torch's TorchScript does not know,
        from the generated table: `x.grad_fn`, `x.volatile`, `x.grad_dtype` in torch 2.13.
        Values that cannot be Tensors (`self`, submodules, lists, modules) are left alone.

    Why is this bad:
        `torch.jit.script` stops with "'Tensor' object has no attribute or method 'grad_fn'".
        `x.grad`, `x.is_leaf` and `x.requires_grad` do work.

    Example:
        if x.grad_fn is None:
            ...

    Use instead:
        Decide outside the compiled code, or test `x.requires_grad` / `x.is_leaf`, which
        answer a different question: check that it is the one you need.
    """

    code = "TS402"
    name = "unsupported-tensor-property"
    message = "`.{attr}` is not a TorchScript Tensor attribute"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def is_input(x: torch.Tensor) -> bool:
    return x.grad_fn is None
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def is_input(x: torch.Tensor) -> bool:
    return x.is_leaf and not x.requires_grad
"""
        ),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr not in self.ctx.knowledge.unsupported_tensor_properties:
            return
        if not self.ctx.kinds.can_be_tensor(node.value):
            return
        self.report(node, self.message.format(attr=attr))
