import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import Example, Rule
from tsscan.semantic.callgraph import Callee, cycle_path, recursive_functions


class RecursiveCall(Rule):
    """A compiled function that calls itself, directly or through other functions or methods.

    What it does:
        Flags calls, in compiled code, of a function of the same file (or a method of the same
        class, `self(...)` included) that can call itself again: `fact(n - 1)` inside `fact`,
        `self.forward(x[0])` inside `forward`, `a` calling `b` calling `a`. Functions decorated
        `@torch.jit.ignore` or `@torch.jit.unused` are not compiled and break the cycle.

    Why is this bad:
        "function 'fact' is called recursively. Recursive calls are not supported"; the
        compiler names the call through which compiled code first enters the cycle. Two free
        functions calling each other make the scripter itself overflow the Python stack.

    Example:
        def depth(n: int) -> int:
            return 0 if n <= 1 else 1 + depth(n // 2)

    Use instead:
        A loop: `d = 0` / `while n > 1: n //= 2; d += 1`.
    """

    code = "TS137"
    needs = HOOKS
    name = "recursive-call"
    message = "`{name}` calls itself ({path}); TorchScript does not support recursive calls, write a loop"
    level = "type"

    invalid = [
        Example(
            """
import torch


def depth(n: int) -> int:
    if n <= 1:
        return 0
    return 1 + depth(n // 2)


class Pyramid(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * depth(x.size(0))
"""
        ),
        Example(
            """
import torch


class Squeeze(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() > 2:
            return self.flat(x[0])
        return x

    def flat(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.ignore
def depth(n: int) -> int:
    if n <= 1:
        return 0
    return 1 + depth(n // 2)


def levels(n: int) -> int:
    d = 0
    while n > 1:
        n = n // 2
        d += 1
    return d


class Pyramid(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * depth(x.size(0)) * levels(x.size(0))
"""
        ),
    ]

    def on_function(self) -> None:
        fn = self.ctx.function
        start: Callee = ("m" if fn.cls is not None else "f", fn.node.name)
        self._on_cycle = recursive_functions(self.ctx.module, fn.cls, start)

    def visit_Call(self, node: cst.Call) -> None:
        if not self._on_cycle:
            return
        key = self._callee(node.func)
        if key is None or key not in self._on_cycle:
            return
        path = cycle_path(self.ctx.module, self.ctx.cls, key)
        shown = " -> ".join(self._spell(k) for k in path)
        self.report(node, self.message.format(name=self._spell(key), path=shown))

    def _callee(self, func: cst.BaseExpression) -> Callee | None:
        me = self.ctx.self_name
        local = self.ctx.local_names
        if isinstance(func, cst.Name):
            if me is not None and func.value == me:
                return ("m", "forward")
            if func.value in self.ctx.module.functions and func.value not in local:
                return ("f", func.value)
            return None
        name = self.ctx.self_attr(func)
        if name is not None and self.ctx.cls is not None and self.ctx.cls.find_method(name) is not None:
            return ("m", name)
        return None

    def _spell(self, key: Callee) -> str:
        return key[1] if key[0] == "f" else f"self.{key[1]}"
