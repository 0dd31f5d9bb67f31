import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.rules._bare import BareExpressions

_HINTS = {
    "log2": "use `math.log(v, 2)` (may differ in the last bit) or `torch.log2`",
    "trunc": "use `int(v)` (truncates toward zero)",
    "prod": "multiply in a loop",
    "isclose": "spell out the comparison",
    "hypot": "use `math.sqrt(a * a + b * b)` (may overflow sooner)",
}


def _operand(node: cst.BaseExpression) -> str | None:
    """Source of an argument that may be evaluated several times (names, attributes, numbers)."""
    inner = node
    if isinstance(inner, cst.UnaryOperation) and isinstance(inner.operator, cst.Minus):
        inner = inner.expression
    if isinstance(inner, (cst.Integer, cst.Float)):
        return cst.Module(body=[]).code_for_node(node)
    while isinstance(inner, cst.Attribute):
        inner = inner.value
    if isinstance(inner, cst.Name) and node is not inner or isinstance(node, cst.Name):
        return cst.Module(body=[]).code_for_node(node)
    return None


class UnsupportedMath(BareExpressions, Rule):
    """A `math` function that TorchScript does not support (`math.isclose`, `math.log2`, ...).

    What it does:
        Flags uses of `math` members that the target torch's TorchScript rejects, from the
        generated table: in torch 2.13 `isclose`, `log2`, `prod`, `trunc`, `comb`, `perm`,
        `isqrt`, `lcm`, `hypot`, `dist`, `fsum`, `cbrt`, `exp2`, `nextafter`, `ulp`.
        `math.sqrt`, `floor`, `ceil`, `log`, `exp`, `isnan`, `gcd`, `pi`, `inf` and the other
        supported ones are fine.

    Why is this bad:
        "Python builtin <built-in function isclose> is currently not supported in Torchscript".

    Example:
        same = math.isclose(a, b)

    Use instead:
        same = a == b or (abs(a - b) <= 1e-09 * max(abs(a), abs(b)) and abs(a - b) < math.inf)

    Fix:
        `math.isclose(a, b)` with the default tolerances (`rel_tol=1e-09`, `abs_tol=0.0`),
        where `a` and `b` are names, attributes or numbers, becomes the formula above. It is
        `math.isclose` spelled out: equal values (infinities included) are close, an infinite
        or NaN difference is not, otherwise the relative test. The shorter
        `abs(a - b) <= 1e-09 * max(abs(a), abs(b))` is wrong for `inf` against a finite value.
    """

    code = "TS506"
    needs = Needs(imports={"math"}, names={"math"})
    name = "unsupported-math"
    message = "`math.{name}` is not supported by TorchScript"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import math

import torch


@torch.jit.script
def same(a: float, b: float) -> bool:
    return math.isclose(a, b)
""",
            fixed="""
import math

import torch


@torch.jit.script
def same(a: float, b: float) -> bool:
    return a == b or (abs(a - b) <= 1e-09 * max(abs(a), abs(b)) and abs(a - b) < math.inf)
""",
            inputs=(
                "[(1.0, 1.0 + 1e-12), (1.0, 1.1), (0.0, -0.0), (float('inf'), float('inf')), "
                "(float('inf'), 1.0), (float('-inf'), float('inf')), (float('nan'), float('nan')), "
                "(1e308, -1e308), (-2.5, -2.5000000001), (1e-320, 0.0)]"
            ),
            fix=SAFE,
        ),
        Example(
            """
import math

import torch


@torch.jit.script
def bits(v: float) -> float:
    return math.log2(v)
"""
        ),
    ]
    valid = [
        Example(
            """
import math

import torch


@torch.jit.script
def bits(v: float) -> float:
    return math.log(v) / math.log(2.0) + math.sqrt(abs(v)) + math.pi
"""
        ),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._reported.add(id(node.attr))  # `obj.isclose` is not `from math import isclose`
        self._check(node)

    def visit_Name(self, node: cst.Name) -> None:
        # from math import isclose
        if self.ctx.module.aliases.get(node.value, "").startswith("math.") and node.value not in self.ctx.local_names:
            self._check(node)

    def visit_Call(self, node: cst.Call) -> None:
        qual = self._qual(node.func)
        if qual != "math.isclose":
            return
        fix = self._isclose_fix(node)
        self._reported.add(id(node.func))
        self.report(node.func, self.message.format(name="isclose") + f"; {_HINTS['isclose']}", fix)

    def on_function(self) -> None:
        self._reported: set[int] = set()
        self.reset_bare()  # where an `or` needs no parentheses

    def _qual(self, node: cst.BaseExpression) -> str | None:
        if not (self.ctx.qualname(node) or "").startswith("math."):
            return None
        if isinstance(node, cst.Name) and node.value in self.ctx.local_names:
            return None
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value in self.ctx.local_names
        ):
            return None
        qual = self.ctx.qualname(node)
        if not qual or not qual.startswith("math.") or qual.count(".") != 1:
            return None
        head = (
            node.value.value
            if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
            else (node.value if isinstance(node, cst.Name) else None)
        )
        if head is None or head not in self.ctx.module.aliases:
            return None
        return qual

    def _check(self, node: cst.BaseExpression) -> None:
        if id(node) in self._reported:
            return
        qual = self._qual(node)
        if qual is None:
            return
        name = qual.split(".", 1)[1]
        if name not in self.ctx.knowledge.math_unsupported:
            return
        if name == "isclose":
            return  # reported from visit_Call (with its fix) when called
        message = self.message.format(name=name)
        if name in _HINTS:
            message += f"; {_HINTS[name]}"
        self.report(node, message)

    def _isclose_fix(self, node: cst.Call) -> Fix | None:
        args = node.args
        if len(args) != 2 or any(a.keyword is not None or a.star for a in args):
            return None
        a, b = _operand(args[0].value), _operand(args[1].value)
        if a is None or b is None:
            return None
        math_name = next((k for k, v in self.ctx.module.aliases.items() if v == "math"), None)
        imports = []
        if math_name is None or math_name in self.ctx.local_names:
            math_name, imports = "math", ["import math"]
        text = f"{a} == {b} or (abs({a} - {b}) <= 1e-09 * max(abs({a}), abs({b})) and abs({a} - {b}) < {math_name}.inf)"
        new = cst.parse_expression(text)
        if id(node) not in self.bare and not node.lpar:
            new = new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        else:
            new = new.with_changes(lpar=node.lpar, rpar=node.rpar)
        return Fix(replacements=[(node, new)], imports=imports, description="spell out math.isclose")

    def visit_Arg(self, node: cst.Arg) -> None:
        super().visit_Arg(node)
        if node.keyword is not None:
            self._reported.add(id(node.keyword))
