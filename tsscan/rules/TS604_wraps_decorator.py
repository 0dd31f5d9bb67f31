import ast

import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic import astwalk


def uses_wraps(fn, module) -> bool:
    for n in astwalk.walk(fn):
        if isinstance(n, ast.Call):
            target = n.func
            if module.resolve_node(target) == "functools.wraps":
                return True
    return False


class WrapsDecoratorDropped(Rule):
    """A `functools.wraps` decorator on compiled code is silently dropped.

    What it does:
        Flags decorators of compiled functions that are defined in the same file and use
        `functools.wraps`.

    Why is this bad:
        TorchScript reads source with `inspect`, which follows `__wrapped__` to the
        undecorated function: the scripted code runs without the decorator, with no error.
        A decorator that scales, logs or validates is lost once scripted.

    Example:
        @scaled          # functools.wraps wrapper that multiplies the result by 10
        def helper(x: torch.Tensor) -> torch.Tensor:
            return x * 2

    Use instead:
        Put the decorator's effect in the function body, or keep the decorated function out
        of compiled code (`@torch.jit.ignore`).
    """

    code = "TS604"
    name = "wraps-decorator-dropped"
    message = (
        "decorator `{name}` uses functools.wraps: TorchScript compiles the undecorated function and drops its effect"
    )

    invalid = [
        Example(
            """
import functools

import torch


def scaled(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return fn(x) * 10
    return wrapper


@scaled
def helper(x: torch.Tensor) -> torch.Tensor:
    return x * 2


@torch.jit.script
def run(x: torch.Tensor) -> torch.Tensor:
    return helper(x)
""",
            inputs="[(torch.tensor([1.0, -2.0]),)]",
        ),
    ]
    valid = [
        Example(
            """
import torch


def helper(x: torch.Tensor) -> torch.Tensor:
    return x * 2 * 10


@torch.jit.script
def run(x: torch.Tensor) -> torch.Tensor:
    return helper(x)
"""
        ),
    ]

    def visit_Decorator(self, node: cst.Decorator) -> None:
        target = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        if not isinstance(target, cst.Name):
            return
        fn = self.ctx.module.functions.get(target.value)
        if fn is not None and uses_wraps(fn, self.ctx.module):
            self.report(node, self.message.format(name=target.value))
