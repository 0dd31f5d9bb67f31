import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class RangeFloat(Rule):
    """`range()` with a float argument.

    What it does:
        Flags `range(...)` calls with an argument that is certainly a float: a float
        literal, a true division `a / b`, `float(...)`, or a name annotated `float` (or
        only ever assigned such values).

    Why is this bad:
        "all inputs of range must be ints, found float in argument 0". Eager Python raises
        a TypeError too, so the code was never run this way, or `/` was meant as `//`.

    Example:
        for i in range(n / 2):

    Use instead:
        for i in range(n // 2):      # or range(int(v)) for a float v: check the rounding
    """

    code = "TS508"
    needs = Needs(calls={"range"})
    name = "range-float"
    message = "`range()` needs ints in TorchScript; this argument is a float"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def total(n: float) -> int:
    s = 0
    for i in range(n):
        s += i
    return s
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def half(n: int) -> int:
    s = 0
    for i in range(n / 2):
        s += i
    return s
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def half(n: int, v: float) -> int:
    s = 0
    for i in range(n // 2, int(v)):
        s += i
    return s
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "range" and not self.ctx.is_shadowed("range")):
            return
        for a in node.args:
            if a.keyword is None and not a.star and self._is_float(a.value, set()):
                self.report(a.value)
                return

    def _is_float(self, node: cst.BaseExpression, seen: set[str]) -> bool:
        if isinstance(node, cst.Float):
            return True
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
            return self._is_float(node.expression, seen)
        if isinstance(node, cst.BinaryOperation):
            if isinstance(node.operator, cst.Divide):
                return True
            if isinstance(node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo)):
                return self._is_float(node.left, seen) or self._is_float(node.right, seen)
            return False
        if isinstance(node, cst.Call):
            return isinstance(node.func, cst.Name) and node.func.value == "float" and not self.ctx.is_shadowed("float")
        if isinstance(node, cst.Name):
            return self._name_is_float(node.value, seen)
        return False

    def _name_is_float(self, name: str, seen: set[str]) -> bool:
        if name in seen:
            return False
        seen = seen | {name}
        b = self.ctx.bindings
        annotations = []
        ps = self.ctx.function_node.params
        for p in [*ps.posonly_params, *ps.params, *ps.kwonly_params]:
            if p.name.value == name:
                annotations.append(p.annotation.annotation if p.annotation else None)
        if name in b.annotated:
            return False  # locals annotated float are rare; stay quiet unless simple
        values = b.assigned.get(name, [])
        if annotations:
            ann = annotations[0]
            if not (isinstance(ann, cst.Name) and ann.value == "float"):
                return False
            return all(v is not None and self._is_float(v, seen) for v in values)
        if name not in b.local_names or not values:
            return False
        return all(v is not None and self._is_float(v, seen) for v in values)
