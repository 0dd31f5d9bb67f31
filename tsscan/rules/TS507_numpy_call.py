import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class NumpyCall(Rule):
    """A numpy function called in compiled code.

    What it does:
        Flags calls of anything imported from `numpy` (`np.exp(x)`, `np.arange(n)`,
        `np.float32(v)`, `from numpy import exp`). Constants such as `np.pi` are fine.

    Why is this bad:
        TorchScript cannot compile numpy: ufuncs fail with "cannot create weak reference to
        'numpy.ufunc' object" (no line number), other functions with "Python builtin
        <built-in function arange> is currently not supported in Torchscript".

    Example:
        y = 1 / (1 + np.exp(-x))

    Use instead:
        y = torch.sigmoid(x)      # torch has an equivalent for most numpy functions
    """

    code = "TS507"
    needs = Needs(imports={"numpy"})
    name = "numpy-call"
    message = "numpy is not supported by TorchScript: `{func}`; use the torch equivalent"
    level = "type"

    invalid = [
        Example(
            """
import numpy as np
import torch


@torch.jit.script
def gate(x: torch.Tensor) -> torch.Tensor:
    return 1 / (1 + np.exp(-x))
"""
        ),
    ]
    valid = [
        Example(
            """
import numpy as np
import torch


@torch.jit.script
def gate(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x) * np.pi
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        head = func
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value in self.ctx.local_names:
            return
        origin = self.ctx.module.aliases.get(head.value, "")
        if origin != "numpy" and not origin.startswith("numpy."):
            return
        self.report(node, self.message.format(func=self.ctx.qualname(func) or origin))
