import ast

import libcst as cst

from tsscan.rule import Example, Rule


def _is_dataclass(cls_node: ast.ClassDef, module) -> bool:
    for d in cls_node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        name = module.resolve_node(target) or ""
        if name in ("dataclasses.dataclass", "dataclass") or name.endswith(".dataclass"):
            return True
    return False


class DataclassInScript(Rule):
    """A `@dataclass` instance built or used in compiled code.

    What it does:
        Flags calls of classes of this file decorated `@dataclasses.dataclass`, and
        annotations naming them, inside compiled code.

    Why is this bad:
        TorchScript compiles a class from its source, and a dataclass's generated
        `__init__` has none: "Failed to get source for <function Cfg.__init__> using
        inspect.getsource". The message names no line of your file.

    Example:
        @dataclass
        class Cfg:
            k: int

        @torch.jit.script
        def f(x: torch.Tensor) -> int:
            return Cfg(x.numel()).k

    Use instead:
        A `typing.NamedTuple` (scripts), or plain values / module attributes.
    """

    code = "TS217"
    name = "dataclass-in-script"
    message = "`{name}` is a dataclass; TorchScript cannot compile its generated `__init__` (use a NamedTuple or plain values)"
    level = "type"

    invalid = [
        Example(
            """
import dataclasses

import torch


@dataclasses.dataclass
class Box:
    w: int
    h: int


@torch.jit.script
def area(x: torch.Tensor) -> int:
    b = Box(x.size(0), x.size(1))
    return b.w * b.h
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import NamedTuple

import torch


class Box(NamedTuple):
    w: int
    h: int


@torch.jit.script
def area(x: torch.Tensor) -> int:
    b = Box(x.size(0), x.size(1))
    return b.w * b.h
"""
        ),
    ]

    def _dataclass(self, node: cst.BaseExpression):
        if not isinstance(node, cst.Name):
            return None
        info = self.ctx.module.classes.get(node.value)
        if info is None or not _is_dataclass(info.node, self.ctx.module):
            return None
        return node.value

    def visit_Call(self, node: cst.Call) -> None:
        name = self._dataclass(node.func)
        if name:
            self.report(node, self.message.format(name=name))

    def visit_Annotation(self, node: cst.Annotation) -> None:
        for sub in _names(node.annotation):
            name = self._dataclass(sub)
            if name:
                self.report(sub, self.message.format(name=name))


def _names(node):
    out = []

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out.append(n)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            return False

    node.visit(V())
    return out
