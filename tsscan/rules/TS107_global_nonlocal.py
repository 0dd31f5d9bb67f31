import libcst as cst

from tsscan.rule import Example, Rule


class GlobalNonlocal(Rule):
    """`global` / `nonlocal` statements in compiled code.

    What it does:
        Flags `global` and `nonlocal` statements in code that `torch.jit.script` compiles.

    Why is this bad:
        TorchScript functions cannot rebind names outside themselves: "global variables
        aren't supported". Reading a mutable module-level variable does not work either
        ("python value of type 'int' cannot be used as a value"); only constants such as
        `math.pi` resolve.

    Example:
        STEP = 0

        @torch.jit.script
        def tick(x: torch.Tensor) -> torch.Tensor:
            global STEP
            STEP += 1
            return x + STEP

    Use instead:
        Pass the value in as an argument (with a default) and return the new value, or keep
        the state in a module attribute or buffer.
    """

    code = "TS107"
    name = "global-nonlocal"
    message = "`{kind}` is not supported by TorchScript; pass the value as an argument instead"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch

STEP = 0


@torch.jit.script
def tick(x: torch.Tensor) -> torch.Tensor:
    global STEP
    STEP += 1
    return x + STEP
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Tuple

import torch


@torch.jit.script
def tick(x: torch.Tensor, step: int = 0) -> Tuple[torch.Tensor, int]:
    step += 1
    return x + step, step
"""
        ),
    ]

    def visit_Global(self, node: cst.Global) -> None:
        self.report(node, self.message.format(kind="global"))

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.report(node, self.message.format(kind="nonlocal"))
