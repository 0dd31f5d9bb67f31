import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic import attributes as A


class ModuleDictVariableKey(Rule):
    """An `nn.ModuleDict` indexed with a key that is not a string literal (`self.heads[name]`).

    What it does:
        Flags `self.d[key]` in compiled code when `d` is an `nn.ModuleDict` and `key` is not
        a string literal.

    Why is this bad:
        Like a ModuleList, a ModuleDict is unrolled when compiled, so the key must be known
        then: "Unable to extract string literal index. ModuleDict indexing is only supported
        with string literals". Iterating `.items()`, `.keys()`, `.values()` and `"a" in d`
        work. A variable annotated with a `@torch.jit.interface` class may take an item
        with any key (`cell: CellInterface = self.cells[key]`, then `cell.forward(x)`).

    Example:
        return self.heads[task](x)

    Use instead:
        out = x
        for name, head in self.heads.items():
            if name == task:
                out = head(x)
        return out
        (decide what an unknown key should do: the loop does not raise KeyError)
    """

    code = "TS312"
    name = "module-dict-variable-key"
    message = "`self.{name}[...]`: TorchScript indexes a ModuleDict only with a string literal; iterate `self.{name}.items()` and compare the key"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 1)})

    def forward(self, x: torch.Tensor, task: str) -> torch.Tensor:
        return self.heads[task](x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Final


class MultiTask(nn.Module):
    default: Final[str] = "reg"

    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 1)})

    def forward(self, x: torch.Tensor, task: str) -> torch.Tensor:
        out = self.heads["cls"](x) + self.heads[self.default](x).mean()
        for name, head in self.heads.items():
            if name == task:
                out = head(x)
        return out
"""
        ),
        Example(
            """
import torch
from torch import nn


@torch.jit.interface
class HeadInterface(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:  # the parameter names of nn.Linear
        pass


class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 3)})

    def forward(self, x: torch.Tensor, task: str) -> torch.Tensor:
        head: HeadInterface = self.heads[task]
        return head.forward(x)
"""
        ),
    ]

    def visit_Subscript(self, node: cst.Subscript) -> None:
        name = self.ctx.self_attr(node.value)
        cls = self.ctx.cls
        if name is None or cls is None or not cls.is_module or len(node.slice) != 1 or self.ctx.interface_typed(node):
            return
        if not isinstance(node.slice[0].slice, cst.Index):
            return
        if A.attribute_type(cls, name, self.ctx.module).kind != A.MODULEDICT:
            return
        key = node.slice[0].slice.value
        if _string_literal(key):
            return
        const = self.ctx.self_attr(key)
        if const is not None and A.is_constant(cls, const):  # key: Final[str] = "a"
            return
        self.report(node, self.message.format(name=name))


def _string_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.SimpleString):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _string_literal(node.left) and _string_literal(node.right)
    return False
