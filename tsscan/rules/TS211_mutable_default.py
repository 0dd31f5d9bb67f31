import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import param_list

_MUTABLE_CALLS = ("list", "dict", "set")


class MutableDefault(Rule):
    """Mutable default argument (`xs: List[int] = [1, 2]`).

    What it does:
        Flags parameters of compiled functions whose default is a list, dict or set
        (a literal or a `list()`/`dict()`/`set()` call).

    Why is this bad:
        The compiler refuses them: "Mutable default parameters are not supported because
        Python binds them to the function and they persist across function calls". (They
        would also behave differently: Python shares one list across calls, TorchScript
        would build a new one per call.)

    Example:
        def forward(self, x: torch.Tensor, dims: List[int] = [0, 1]) -> torch.Tensor:
            ...

    Use instead:
        A tuple default (`dims: Tuple[int, int] = (0, 1)`), or `Optional[List[int]] = None`
        refined with `if dims is None: dims = [0, 1]`.
    """

    code = "TS211"
    needs = Needs(nodes={"Default"})
    name = "mutable-default"
    message = (
        "mutable default argument: TorchScript rejects list/dict/set defaults; use a tuple or `Optional[...] = None`"
    )
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def total(x: torch.Tensor, dims: List[int] = [0]) -> torch.Tensor:
    return x.sum(dims)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List, Optional


@torch.jit.script
def total(x: torch.Tensor, dims: Optional[List[int]] = None) -> torch.Tensor:
    if dims is None:
        dims = [0]
    return x.sum(dims)
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for p in param_list(node):
            d = p.default
            if d is None:
                continue
            if isinstance(d, (cst.List, cst.Dict, cst.Set)) or (
                isinstance(d, cst.Call) and isinstance(d.func, cst.Name) and d.func.value in _MUTABLE_CALLS
            ):
                self.report(d)
