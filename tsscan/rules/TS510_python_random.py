import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class PythonRandom(Rule):
    """Python's `random` module in compiled code.

    What it does:
        Flags calls of functions from the standard `random` module (`random.random()`,
        `random.randint(a, b)`, `from random import uniform`).

    Why is this bad:
        "Python builtin <built-in method random of Random object> is currently not supported
        in Torchscript".

    Example:
        scale = random.random()

    Use instead:
        scale = float(torch.rand(1))           # torch's generator; seeded by torch.manual_seed
        k = int(torch.randint(a, b + 1, [1]))  # random.randint includes b
    """

    code = "TS510"
    needs = Needs(imports={"random"})
    name = "python-random"
    message = "the `random` module is not supported by TorchScript: `{func}`; use torch.rand / torch.randint"
    level = "type"

    invalid = [
        Example(
            """
import random

import torch


@torch.jit.script
def jitter(x: torch.Tensor) -> torch.Tensor:
    return x * random.random()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def jitter(x: torch.Tensor) -> torch.Tensor:
    return x * float(torch.rand(1))
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        head = node.func
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value in self.ctx.local_names:
            return
        origin = self.ctx.module.aliases.get(head.value, "")
        if origin == "random" or origin.startswith("random."):
            self.report(node, self.message.format(func=self.ctx.qualname(node.func)))
