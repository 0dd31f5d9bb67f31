import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.walk import walk


class TolistTypeHint(Rule):
    """`x.tolist()` whose result type TorchScript cannot know.

    What it does:
        Flags `.tolist()` calls on tensors that are neither the value of an annotated
        assignment (`v: List[float] = x.tolist()`), nor returned from a function with a return
        annotation, nor wrapped in `torch.jit.annotate(T, x.tolist())`.

    Why is this bad:
        The element type and nesting of `tolist()` depend on the tensor's dtype and rank,
        which TorchScript does not track: "Expected type hint for result of tolist()".

    Example:
        v = x.tolist()

    Use instead:
        v: List[float] = x.tolist()

    Notes:
        The annotation is checked at run time: `List[float]` raises for an int64 or 2-D
        tensor. Annotate what the tensor really holds (`List[int]`, `List[List[float]]`).
    """

    code = "TS407"
    needs = Needs(calls={"tolist"})
    name = "tolist-type-hint"
    message = "`.tolist()` needs a type hint in TorchScript: `v: List[float] = x.tolist()`"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def count(x: torch.Tensor) -> int:
    v = x.tolist()
    return len(v)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def count(x: torch.Tensor) -> int:
    v: List[float] = x.tolist()
    w = torch.jit.annotate(List[float], x.tolist())
    return len(v) + len(w) + len("a b".split())


@torch.jit.script
def values(x: torch.Tensor) -> List[float]:
    return x.tolist()
"""
        ),
    ]

    def on_function(self) -> None:
        self._hinted: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is self.ctx.node and node.returns is not None:
            for ret in _returns(node.body):
                if ret.value is not None:
                    self._hinted.add(id(ret.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._hinted.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.ctx.qualname(func) == "torch.jit.annotate" and len(node.args) == 2:
            self._hinted.add(id(node.args[1].value))
            return
        if not (isinstance(func, cst.Attribute) and func.attr.value == "tolist" and not node.args):
            return
        if id(node) in self._hinted or not self.ctx.kinds.can_be_tensor(func.value):
            return
        self.report(node)


class _Returns(cst.CSTVisitor):
    # at module level: walk() looks the hooks of a visitor class up once per class
    def __init__(self) -> None:
        self.found: list = []

    def visit_Return(self, node: cst.Return) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _returns(body: cst.CSTNode):
    v = _Returns()
    walk(body, v)
    return v.found
