from collections.abc import Sequence

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Replacement, Rule
from tsscan.semantic.callees import operator_overloads
from tsscan.semantic.knowledge import Signature
from tsscan.semantic.types import in_quiet_arm, walk_expr


def _powers(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The `a ** b` operations and `pow(a, b)` calls inside ``node``."""
    out: list[cst.BaseExpression] = []
    for sub in walk_expr(node):
        if isinstance(sub, cst.BinaryOperation) and isinstance(sub.operator, cst.Power):
            out.append(sub)
        elif isinstance(sub, cst.Call) and isinstance(sub.func, cst.Name) and sub.func.value == "pow":
            out.append(sub)
    return out


class PowerIsFloat(Rule):
    """`a ** b` (a float in TorchScript) where an int is needed: a size, a `range` bound, a slice.

    What it does:
        Flags an argument built with `**` (or `pow()`) on numbers, which the compiler types
        `float`, where the call needs an int: a torch operator or Tensor method none of whose
        overloads, from the generated table, takes a float there (`x.view(n, c // (bs ** 2))`,
        `x.repeat(1, 1, p ** 2 * 3)`, `torch.zeros(n ** 2)`), a `range()` bound, or a bound
        of a slice. A base `self.<attr>` whose type is not known (set from a constructor
        argument or a config value) counts as a number: a tensor attribute is registered as
        a buffer or parameter, or built from a torch call, and then its type is known.

    Why is this bad:
        Python's `int ** int` is an int; TorchScript's `aten::pow.int` returns a float, and a
        float does not convert to an int implicitly: "Arguments for call are not valid",
        "all inputs of range must be ints, found float".

    Example:
        x = x.view(n, c // (self.bs ** 2), h, w)

    Use instead:
        x = x.view(n, c // (self.bs * self.bs), h, w)

    Fix:
        `a ** 2` and `a ** 3`, with `a` an int literal, or a name or an attribute known to be an int, become
        `a * a` and `a * a * a`. SAFE: int multiplication gives exactly the int Python's `**`
        gives. `self.<attr> ** 2` with an attribute of unknown type (timm's `DepthToSpace`:
        `self.bs = block_size`, a required argument) becomes `self.<attr> * self.<attr>`,
        SAFE too: for an int the same int, for a float the same float (`x ** 2` and `x * x`
        are both the correctly rounded square). Other powers are left to you (`int(a ** b)`
        is exact only below 2**53).
    """

    code = "TS422"
    needs = Needs(nodes={"Pow"}, calls={"pow"})
    name = "power-is-float"
    message = (
        "`**` gives a float in TorchScript, and this needs an int{where}; multiply (`a * a`) or wrap it in `int(...)`"
    )
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


class SpaceToDepth(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bs = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.size()
        return x.view(n, c // (self.bs ** 2), h * self.bs, w * self.bs)
""",
            fixed="""
import torch


class SpaceToDepth(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bs = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.size()
        return x.view(n, c // (self.bs * self.bs), h * self.bs, w * self.bs)
""",
            inputs="[(torch.randn(2, 8, 3, 5),), (torch.arange(16.0).reshape(1, 4, 2, 2),), (torch.randn(1, 3, 2, 2),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


class SpaceToDepth(torch.nn.Module):
    def __init__(self, block_size=2):
        super().__init__()
        self.bs = block_size

    def forward(self, x):
        n, c, h, w = x.size()
        return x.view(n, c // (self.bs ** 2), h * self.bs, w * self.bs)
""",
            fixed="""
import torch


class SpaceToDepth(torch.nn.Module):
    def __init__(self, block_size=2):
        super().__init__()
        self.bs = block_size

    def forward(self, x):
        n, c, h, w = x.size()
        return x.view(n, c // (self.bs * self.bs), h * self.bs, w * self.bs)
""",
            inputs="[(torch.randn(2, 8, 3, 5),), (torch.arange(16.0).reshape(1, 4, 2, 2),)]",
            fix=SAFE,
            note="`self.bs` holds the default `2`, an int, when the module is built with its defaults",
        ),
        Example(
            """
import torch


class DepthToSpace(torch.nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.bs = options.get("block_size", 2)

    def forward(self, x):
        n, c, h, w = x.size()
        x = x.view(n, self.bs, self.bs, c // (self.bs ** 2), h, w)
        return x.permute(0, 3, 4, 1, 5, 2).reshape(n, c // (self.bs ** 2), h * self.bs, w * self.bs)

""",
            fixed="""
import torch


class DepthToSpace(torch.nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.bs = options.get("block_size", 2)

    def forward(self, x):
        n, c, h, w = x.size()
        x = x.view(n, self.bs, self.bs, c // (self.bs * self.bs), h, w)
        return x.permute(0, 3, 4, 1, 5, 2).reshape(n, c // (self.bs * self.bs), h * self.bs, w * self.bs)

""",
            inputs="[(torch.randn(2, 8, 3, 5),), (torch.arange(16.0).reshape(1, 4, 2, 2),)]",
            fix=SAFE,
            note="`self.bs` comes from `options`: its type is not known",
        ),
        Example(
            """
import torch


class Tile(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        for _ in range(2 ** k):
            x = x + 1
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


class Tile(torch.nn.Module):
    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        for _ in range(int(k ** 2)):
            x = x * k ** 2
        return x.view(k * k, -1)[: k * k]
"""
        ),
    ]

    def _type(self, node: cst.BaseExpression) -> str | None:
        return self.ctx.types.type_at(node)

    def _number_type(self, node: cst.BaseExpression) -> str | None:
        """The type of ``node``; where that is unknown only because ``self.<attr> ** <int>``
        has a base of unknown type (a constructor argument, a config value), the type it has
        when that base is a number (an attribute set from an argument is a Python value,
        not a tensor)."""
        known = self._type(node)
        if known is not None:
            return known
        unknown = [p for p in _powers(node) if self._type(p) is None and self._attribute_power(p)]
        if not unknown:
            return None
        assumed = node
        for p in unknown:
            assumed = assumed.deep_replace(p, cst.Float("1.0", lpar=p.lpar, rpar=p.rpar))
        return self.ctx.types.type_at(node, assumed)

    def _attribute_power(self, node: cst.CSTNode) -> bool:
        return (
            isinstance(node, cst.BinaryOperation)
            and isinstance(node.right, cst.Integer)
            and self.ctx.self_attr(node.left) is not None
            and self.ctx.self_attr(node.left) != "training"
        )

    def visit_Call(self, node: cst.Call) -> None:
        if any(a.star for a in node.args):
            return
        suspects = [a for a in node.args if _powers(a.value)]
        if not suspects:
            return
        func = node.func
        if isinstance(func, cst.Name) and func.value == "range" and not self.ctx.is_shadowed("range"):
            for a in suspects:
                if self._number_type(a.value) == "float":
                    self._report(a.value, " (a `range()` bound)")
            return
        overloads = operator_overloads(self.ctx, func, self._type)
        if not overloads:
            return
        args = [a for a in node.args if a.keyword is None]
        types = {id(a): (self._number_type(a.value) if a in suspects else self._type(a.value)) for a in node.args}
        for a in suspects:
            if types[id(a)] != "float":
                continue
            if self._binds(overloads, args, node.args, types) or not self._binds(
                overloads, args, node.args, {**types, id(a): "int"}
            ):
                continue
            self._report(a.value, "")

    def visit_Slice(self, node: cst.Slice) -> None:
        for bound in (node.lower, node.upper, node.step):
            if bound is not None and _powers(bound) and self._number_type(bound) == "float":
                self._report(bound, " (a slice bound)")

    @staticmethod
    def _binds(
        overloads: list[Signature],
        positional: Sequence[cst.Arg],
        every: Sequence[cst.Arg],
        types: dict[int, str | None],
    ) -> bool:
        args = [types[id(a)] for a in positional]
        keywords = {a.keyword.value: types[id(a)] for a in every if a.keyword is not None}
        return any(sig.binds(args, keywords) for sig in overloads)

    def _report(self, node: cst.BaseExpression, where: str) -> None:
        if in_quiet_arm(self.ctx, node):
            return
        powers = _powers(node)
        replacements: list[tuple[cst.CSTNode, Replacement]] = [
            r for r in (self._square(p, p is node) for p in powers) if r is not None
        ]
        fix = None
        if powers and len(replacements) == len(powers):
            fix = Fix(replacements=replacements, description="multiply instead of `**`")
        self.report(node, self.message.format(where=where), fix)

    def _square(self, node: cst.CSTNode, whole: bool) -> tuple[cst.CSTNode, cst.CSTNode] | None:
        """``a * a`` for ``a ** 2``; ``whole``: the power is the entire argument (needs no parentheses)."""
        if not isinstance(node, cst.BinaryOperation) or not isinstance(node.right, cst.Integer):
            return None
        times = {"2": 2, "3": 3}.get(node.right.value)
        base = node.left
        if times is None or not isinstance(base, (cst.Name, cst.Attribute, cst.Integer)):
            return None
        base_type = self._type(base)
        # a `self.<attr>` of unknown type is a number (see _number_type): squared, an int or a
        # float gives exactly what `**` gives (both correctly rounded); a cube only for an int
        if base_type != "int" and not (times == 2 and base_type is None and self._attribute_power(node)):
            return None
        text = cst.Module(body=[]).code_for_node(base)
        new = cst.parse_expression(" * ".join([text] * times))
        lpar, rpar = (node.lpar, node.rpar) if node.lpar or whole else ([cst.LeftParen()], [cst.RightParen()])
        return node, new.with_changes(lpar=lpar, rpar=rpar)
