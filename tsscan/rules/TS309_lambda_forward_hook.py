import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule

_HOOKS = {"register_forward_hook", "register_forward_pre_hook"}


class LambdaForwardHook(Rule):
    """A forward hook or pre-hook registered with a `lambda` or `functools.partial`.

    What it does:
        Flags `module.register_forward_hook(lambda ...)` and
        `register_forward_pre_hook(...)` with a lambda or a `functools.partial`, in
        `__init__` of a module or in a function that builds modules.

    Why is this bad:
        `torch.jit.script` compiles the forward hooks of every module it scripts, and a
        hook must be a plain function: a lambda fails with "Expected a single top-level
        function" (no line in the message), a partial with an AttributeError. A hook
        defined with `def` (module level or nested) scripts.

    Example:
        self.proj.register_forward_hook(lambda mod, inp, out: out * 0.5)

    Use instead:
        def halve(mod: nn.Module, inp: Tuple[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
            return out * 0.5

        self.proj.register_forward_hook(halve)
    """

    code = "TS309"
    needs = Needs(calls=_HOOKS)
    name = "lambda-forward-hook"
    message = "forward hooks are compiled with the module: a {what} hook cannot be scripted; define it with `def` and type its arguments"
    sees_init = True
    init_calls = frozenset(_HOOKS)

    invalid = [
        Example(
            """
import torch
from torch import nn


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.proj.register_forward_hook(lambda mod, inp, out: out * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Tuple


def halve(mod: nn.Module, inp: Tuple[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
    return out * 0.5


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.proj.register_forward_hook(halve)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.proj(x))
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.function.why not in ("__init__", "builder"):
            return
        f = node.func
        if not (isinstance(f, cst.Attribute) and f.attr.value in _HOOKS and node.args):
            return
        hook = node.args[0].value
        if isinstance(hook, cst.Lambda):
            self.report(node, self.message.format(what="lambda"))
        elif isinstance(hook, cst.Call) and self.ctx.qualname(hook.func) == "functools.partial":
            self.report(node, self.message.format(what="functools.partial"))
