import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import Example, Rule
from tsscan.semantic import attributes as A


class UnconvertibleAttribute(Rule):
    """A module attribute holding a Python object TorchScript cannot convert, used in compiled code.

    What it does:
        Flags uses, in compiled code, of an attribute that `__init__` sets to a value
        `torch.jit.script` cannot type: a `SimpleNamespace` / `argparse.Namespace` config, a
        numpy array, a lambda, a plain list or dict of modules, an instance of a plain
        Python class.

    Why is this bad:
        Such attributes are silently dropped when the module is scripted ("failed to convert
        Python type: 'types.SimpleNamespace' to a TorchScript type"), so the first use in
        compiled code fails.

    Example:
        self.cfg = SimpleNamespace(scale=2.0)
        ...
        return x * self.cfg.scale

    Use instead:
        Copy what compiled code needs into typed attributes in `__init__`
        (`self.scale = cfg.scale`), use `torch.tensor` / `register_buffer` for arrays,
        `nn.ModuleList` / `nn.ModuleDict` for modules, and `def` functions for callables.
    """

    code = "TS313"
    needs = HOOKS
    name = "unconvertible-attribute"
    message = "`self.{name}` holds {what}, which TorchScript cannot convert: the attribute is dropped when scripting"
    level = "type"

    invalid = [
        Example(
            """
import types

import torch
from torch import nn


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.cfg = types.SimpleNamespace(scale=2.0, bias=0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.cfg.scale + self.cfg.bias
"""
        ),
        Example(
            """
import torch
from torch import nn


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
"""
        ),
        Example(
            """
import torch
from torch import nn


class Pyramid(nn.Module):
    def __init__(self, levels: int = 3):
        super().__init__()
        self.stages = []
        for _ in range(levels):
            self.stages.append(nn.Conv2d(4, 4, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            x = stage(x)
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
import types

import torch
from torch import nn


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = types.SimpleNamespace(scale=2.0, bias=0.5)
        self.cfg = cfg
        self.scale = cfg.scale
        self.bias = cfg.bias
        self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x * self.scale + self.bias
"""
        ),
    ]

    def on_function(self) -> None:
        self._seen: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = self.ctx.self_attr(node)
        cls = self.ctx.cls
        if name is None or cls is None or not A.plain_module(cls) or name in self._seen or not A.fully_known(cls):
            return
        t = A.attribute_type(cls, name, self.ctx.module)
        if t.kind != A.PYOBJECT or t.annotated or t.origin != "init":
            return
        self._seen.add(name)
        self.report(node, self.message.format(name=name, what=t.detail or "a Python object"))
