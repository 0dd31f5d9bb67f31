import libcst as cst

from tsscan.rule import Example, Rule

_DUNDERS = {"__dict__", "__class__", "__module__", "__doc__", "__weakref__", "__annotations__"}


class ModuleDunderAttribute(Rule):
    """`self.__dict__` / `self.__class__` in compiled code (often in a `@property`).

    What it does:
        Flags reads of Python object internals such as `self.__dict__` and
        `self.__class__` in code `torch.jit.script` compiles, properties included.

    Why is this bad:
        A scripted module has no `__dict__` or `__class__` ("Module 'Model' has no attribute
        '__dict__'"). Every `@property` of a module is compiled, even one `forward` never
        uses, so a debugging property such as `info` breaks scripting of the whole module.

    Example:
        @property
        def info(self):
            return {k: type(v) for k, v in self.__dict__.items()}

    Use instead:
        List Python-only properties in `__jit_unused_properties__ = ["info"]`, and move
        Python-only logic of methods into `@torch.jit.ignore` methods.
    """

    code = "TS307"
    name = "module-dunder-attribute"
    message = "`self.{attr}` does not exist on a scripted module"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    @property
    def summary(self) -> str:
        return str(sorted(self.__dict__))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Block(nn.Module):
    __jit_unused_properties__ = ["summary"]

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    @property
    def summary(self) -> str:
        return str(sorted(self.__dict__))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)
"""
        ),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = self.ctx.self_attr(node)
        if attr not in _DUNDERS or self.ctx.cls is None or not self.ctx.cls.is_module:
            return
        msg = self.message.format(attr=attr)
        if self.ctx.function.why == "property":
            msg += f"; properties are compiled even when unused: list `{self.ctx.function.node.name}` in `__jit_unused_properties__`"
        self.report(node, msg)
