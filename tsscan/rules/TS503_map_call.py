from typing import TypeGuard

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.walk import walk


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


class MapCall(Rule):
    """`map(f, xs)` in compiled code.

    What it does:
        Flags calls of the builtin `map`.

    Why is this bad:
        TorchScript does not implement `map`; it treats it as an unknown class and rejects the
        function argument: "function cannot be used as a value" (or "__int__ cannot be used as
        a value" for `map(int, xs)`).

    Example:
        ys = list(map(int, xs))

    Use instead:
        ys = [int(v) for v in xs]

    Fix:
        `list(map(f, xs))` with one iterable and `f` a name or attribute becomes
        `[f(v) for v in xs]`: the same calls in the same order.
    """

    code = "TS503"
    needs = Needs(calls={"map"})
    name = "map-call"
    message = "`map()` is not supported by TorchScript; use a list comprehension"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def truncate(xs: List[float]) -> List[int]:
    return list(map(int, xs))
""",
            fixed="""
import torch
from typing import List


@torch.jit.script
def truncate(xs: List[float]) -> List[int]:
    return [int(v) for v in xs]
""",
            inputs="[([1.5, -2.5, 0.0],), ([],), ([-0.0, 7.9],)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def truncate(xs: List[float]) -> List[int]:
    return [int(v) for v in xs]
"""
        ),
    ]

    def on_function(self) -> None:
        self._done: set[int] = set()

    def _is_map(self, node: cst.BaseExpression) -> TypeGuard[cst.Call]:
        return (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "map"
            and not self.ctx.is_shadowed("map")
        )

    def visit_Call(self, node: cst.Call) -> None:
        if (
            isinstance(node.func, cst.Name)
            and node.func.value == "list"
            and not self.ctx.is_shadowed("list")
            and len(node.args) == 1
            and node.args[0].keyword is None
            and node.args[0].star == ""
            and self._is_map(node.args[0].value)
        ):
            inner = node.args[0].value
            args = inner.args
            if (
                len(args) == 2
                and all(a.keyword is None and a.star == "" for a in args)
                and isinstance(args[0].value, (cst.Name, cst.Attribute))
            ):
                v = _Names()
                walk(self.ctx.function_node, v)
                used = v.names | set(self.ctx.module.globals) | set(self.ctx.module.aliases)
                var = next(n for n in ("v", "item", "x_", "v_", "_v", "elem") if n not in used)
                code = cst.Module(body=[]).code_for_node
                new = cst.parse_expression(f"[{code(args[0].value)}({var}) for {var} in {code(args[1].value)}]")
                self._done.add(id(inner))
                self.report(inner, fix=Fix(replacements=[(node, new)], description="use a list comprehension"))
                return
        if self._is_map(node) and id(node) not in self._done:
            self.report(node)
