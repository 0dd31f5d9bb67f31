from typing import TypeGuard

import libcst as cst

from tsscan.context import cst_dotted
from tsscan.rule import Example, Rule
from tsscan.semantic import attributes as A

_CONTAINERS = {A.MODULELIST, A.SEQUENTIAL, A.MODULEDICT}


class ModuleContainerZip(Rule):
    """`zip` of a `ModuleList` / `Sequential` / `ModuleDict` with a list, a `range` or a Tensor.

    What it does:
        Flags `for` loops and comprehensions over `zip(...)` (or `enumerate(zip(...))`) when one
        argument is a module container attribute (`self.blocks`, `self.heads.values()`) and
        another is certainly of run-time length: a list (a `List[...]` parameter or local, a
        list display, a list attribute), a `range(...)` or a Tensor. Zipping module containers
        with each other or with tuples compiles and is left alone.

    Why is this bad:
        A loop over a module container is unrolled at compile time, one copy of the body per
        module, so every sequence zipped with it must have a length known when compiling: "Can
        not iterate over a module list or tuple with a value that does not have a statically
        determinable length".

    Example:
        for block, feature in zip(self.blocks, features):
            out.append(block(feature))

    Use instead:
        Enumerate the container and index the list:

            for i, block in enumerate(self.blocks):
                out.append(block(features[i]))
    """

    code = "TS315"
    name = "module-container-zip"
    message = "`zip` of module container `self.{name}` with {what}: TorchScript unrolls the loop and needs every length at compile time; iterate `self.{name}` alone (with `enumerate`) and index the other sequence"
    fails_in = ">=1.0"
    level = "type"

    invalid = [
        Example(
            """
from typing import List

import torch
from torch import nn


class Heads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 2)])

    def forward(self, features: List[torch.Tensor]) -> List[torch.Tensor]:
        out: List[torch.Tensor] = []
        for head, f in zip(self.heads, features):
            out.append(head(f))
        return out
"""
        ),
        Example(
            """
import torch
from torch import nn


class Scaled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(nn.ReLU(), nn.ReLU())
        self.scales = [1.0, 0.5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (block, s) in enumerate(zip(self.blocks, self.scales)):
            x = block(x) * s + i
        return x
"""
        ),
        Example(
            """
import torch
from torch import nn


class Steps(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.ReLU(), nn.ReLU()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ys = [b(x) * k for b, k in zip(self.blocks, range(2))]
        return ys[0] + ys[1]
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List, Tuple

import torch
from torch import nn


class Heads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 2)])
        self.norms = nn.ModuleList([nn.Identity(), nn.Identity()])
        self.scales = (1.0, 0.5)

    def forward(self, features: List[torch.Tensor], pair: Tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        out = features[0].new_zeros(2)
        for i, head in enumerate(self.heads):
            out = out + head(features[i]).sum(0)
        for head, norm, s in zip(self.heads, self.norms, self.scales):
            out = out + norm(head(pair[0])).sum(0) * s
        for head, p in zip(self.heads, pair):
            out = out + head(p).sum(0)
        for a, b in zip(features, features):
            out = out + (a - b).sum()
        return out
"""
        ),
    ]

    def visit_For(self, node: cst.For) -> None:
        self._check(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._check(node.iter)

    def _builtin(self, call: cst.BaseExpression, name: str) -> TypeGuard[cst.Call]:
        return (
            isinstance(call, cst.Call)
            and cst_dotted(call.func) == name
            and name not in self.ctx.module.aliases
            and name not in self.ctx.module.functions
            and name not in self.ctx.module.classes
        )

    def _check(self, it: cst.BaseExpression) -> None:
        if self._builtin(it, "enumerate") and it.args:
            it = it.args[0].value
        if not self._builtin(it, "zip"):
            return
        args = it.args
        if any(a.keyword is not None or a.star for a in args):
            return
        container = next((c for c in (self._container(a.value) for a in args) if c), None)
        if container is None:
            return
        for a in args:
            what = self._dynamic(a.value)
            if what:
                self.report(a.value, self.message.format(name=container, what=what))
                return

    def _container(self, e: cst.BaseExpression) -> str | None:
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute) and not e.args:
            if e.func.attr.value in ("values", "items", "keys"):
                name = self._attr(e.func.value)
                return name if name and self._kind(name) == A.MODULEDICT else None
            return None
        name = self._attr(e)
        return name if name and self._kind(name) in _CONTAINERS else None

    def _attr(self, e: cst.BaseExpression) -> str | None:
        cls = self.ctx.cls
        if cls is None or not cls.is_module:
            return None
        return self.ctx.self_attr(e)

    def _kind(self, name: str) -> str:
        cls = self.ctx.cls
        assert cls is not None, "_kind is asked only about a name _attr found on the class"
        return A.attribute_type(cls, name, self.ctx.module).kind

    def _dynamic(self, e: cst.BaseExpression) -> str | None:
        """What ``e`` is when its length is not static, else None."""
        if self._builtin(e, "range"):
            return "a `range`"
        if isinstance(e, (cst.List, cst.ListComp)):
            return "a list"
        name = self._attr(e)
        if name is not None:
            return f"list attribute `self.{name}`" if self._kind(name) == A.LIST else None
        t = self.ctx.types.type_at(e)
        if t and t.startswith("List["):
            return f"a list (`{t}`)"
        if t == "Tensor":
            return "a Tensor"
        return None
