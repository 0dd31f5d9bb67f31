import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic import attributes as A

# attribute kinds and how typemodel spells the same type
_KINDS = {A.INT: "int", A.FLOAT: "float", A.BOOL: "bool", A.STR: "str", A.TENSOR: "Tensor", A.NONE: "None"}


class AttributeRetyped(Rule):
    """Compiled code assigns a module attribute a value of another type.

    What it does:
        Flags `self.x = value` in compiled code when `__init__` gave `x` one of int, float,
        bool, str, Tensor or None (without a class-level annotation) and `value` certainly
        has another of these types: `self.scale = 0.5` for `self.scale = 1`,
        `self.cache = x` for `self.cache = None`.

    Why is this bad:
        The attribute's type is fixed from its value when the module is scripted: "Wrong
        type for attribute assignment. Expected int but got float". TorchScript does not
        widen int to float, and an attribute that starts as `None` has type `NoneType`.

    Example:
        self.scale = 1          # __init__
        self.scale = 0.5        # forward

    Use instead:
        Start with a value of the final type (`self.scale = 1.0`), or declare
        `cache: Optional[torch.Tensor]` in the class body for a value that starts as None.
    """

    code = "TS305"
    name = "attribute-retyped"
    message = "`self.{name}` is `{old}` (from its value in `__init__`) but is assigned `{new}` here; TorchScript attributes keep one type"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Warmup(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() > 4:
            self.scale = 0.5
        return x * self.scale
"""
        ),
        Example(
            """
import torch
from torch import nn


class Cache(nn.Module):
    def __init__(self):
        super().__init__()
        self.last = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.relu()
        self.last = y
        return y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Optional


class Cache(nn.Module):
    last: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.last = None
        self.scale = 1.0
        self.count = 0
        self.register_buffer("total", torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last = x
        self.scale = 0.5
        self.count = x.numel()
        self.total = x.sum().reshape(1)
        return x * self.scale
"""
        ),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        cls = self.ctx.cls
        if (
            cls is None
            or not A.plain_module(cls)
            or self.ctx.node is None
            or len(node.targets) != 1
            or not A.fully_known(cls)
        ):
            return
        if self.ctx.function.node.name == "__setstate__":  # its argument is typed by __getstate__
            return
        name = self.ctx.self_attr(node.targets[0].target)
        if name is None:
            return
        t = A.attribute_type(cls, name, self.ctx.module)
        if (
            t.annotated
            or t.constant
            or t.kind not in _KINDS
            or t.origin not in ("init", "buffer", "parameter", "builtin")
        ):
            return
        old = _KINDS[t.kind]
        types = self.ctx.types
        value = node.value
        if isinstance(value, cst.Name) and value.value not in types.params:
            # a local bound exactly once (`y = x * 2` ... `self.state = y`) has its value's type
            bound = A.single_bindings(self.ctx.node).get(value.value)
            if not isinstance(bound, cst.BaseExpression):  # not bound once (None)
                return
            value = bound
        new = types.type_of(value)
        if new not in _KINDS.values() or new == old:
            return
        self.report(node, self.message.format(name=name, old=old, new=new))
