import libcst as cst

from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.receivers import torch_prefix

# unsupported Tensor method -> (replacement method, its argument): exact equivalents
_RENAMES = {
    "bool": ("to", "torch.bool"),
    "bfloat16": ("to", "torch.bfloat16"),
    "ndimension": ("dim", None),
    "nelement": ("numel", None),
}
_HINTS = {
    "numpy": "stay in torch (TorchScript has no numpy)",
    "unique": "use `torch.unique(x, ...)`",
    "new_tensor": "use `torch.tensor(data, dtype=x.dtype, device=x.device)`",
    "new": "use `x.new_empty(size)` or `torch.empty(size, dtype=x.dtype, device=x.device)`",
    "register_hook": "register hooks outside the compiled code",
    "data_ptr": "compiled code cannot see storage addresses",
    "storage": "compiled code cannot see storages",
    "untyped_storage": "compiled code cannot see storages",
}


def _simple(node: cst.BaseExpression) -> bool:
    """Evaluating it twice is the same as once: a name or a chain of attributes of one."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _data_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _data_literal(node.expression)
    if isinstance(node, cst.Name):
        return node.value in ("True", "False")
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(isinstance(e, cst.Element) and _data_literal(e.value) for e in node.elements)
    return False


class UnsupportedTensorMethod(Rule):
    """A Tensor method that TorchScript's Tensor type does not have (`.bool()`, `.numpy()`, ...).

    What it does:
        Flags calls of Tensor methods that the target torch's TorchScript does not know, from
        the generated table (`tsscan/data/torch-X.Y.json`, measured by compiling `x.NAME()`):
        `.bool()`, `.bfloat16()`, `.ndimension()`, `.nelement()`, `.unique()`, `.numpy()`,
        `.new_tensor()`, `.register_hook()`, `.data_ptr()`, `.storage()` and the rest. Calls on
        values that cannot be Tensors (`self`, submodules, strings, lists, imported modules)
        are left alone.

    Why is this bad:
        `torch.jit.script` stops with "'Tensor' object has no attribute or method 'bool'",
        although the other dtype shortcuts (`.float()`, `.long()`, `.half()`) work.

    Example:
        mask = x.bool()
        n = x.nelement()

    Use instead:
        mask = x.to(torch.bool)
        n = x.numel()

    Fix:
        Only where an exact equivalent exists: `.bool()` -> `.to(torch.bool)`, `.bfloat16()` ->
        `.to(torch.bfloat16)`, `.ndimension()` -> `.dim()`, `.nelement()` -> `.numel()`,
        `x.unique(...)` -> `torch.unique(x, ...)` (same parameters and defaults), and
        `x.new_tensor(<literal data>)` -> `torch.tensor(<data>, dtype=x.dtype, device=x.device)`
        when `x` is a plain name. The often-quoted `x > 0` for `.bool()` is *not* equivalent:
        it maps negatives and NaN to False.
    """

    code = "TS401"
    name = "unsupported-tensor-method"
    message = "`.{method}()` is not a TorchScript Tensor method"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Masker(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
""",
            fixed="""
import torch
from torch import nn


class Masker(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bool)
""",
            inputs="[(torch.tensor([-1.0, 0.0, 2.0, float('nan'), -0.0]),), (torch.zeros(0),), (torch.tensor([0, 3, -2]),), (torch.tensor([True, False]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def half_precision(x: torch.Tensor) -> torch.Tensor:
    return x.bfloat16() * 2
""",
            fixed="""
import torch


@torch.jit.script
def half_precision(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.bfloat16) * 2
""",
            inputs="[(torch.tensor([1.0, 2.5, -3.0, float('nan')]),), (torch.zeros(0),), (torch.tensor([1, 2]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Flatten(nn.Module):
    def forward(self, x):
        if x.ndimension() > 2 and x.nelement() > 0:
            return x.flatten(1)
        return x
""",
            fixed="""
import torch
from torch import nn


class Flatten(nn.Module):
    def forward(self, x):
        if x.dim() > 2 and x.numel() > 0:
            return x.flatten(1)
        return x
""",
            inputs="[(torch.zeros(2, 3, 4),), (torch.zeros(0, 3, 4),), (torch.tensor([1, -2]),), (torch.tensor(5.0),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from typing import Tuple


@torch.jit.script
def labels(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    return x.unique(return_inverse=True)
""",
            fixed="""
import torch
from typing import Tuple


@torch.jit.script
def labels(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    return torch.unique(x, return_inverse=True)
""",
            inputs="[(torch.tensor([3, 1, 3, -2]),), (torch.tensor([float('nan'), 1.0, 1.0, -0.0, 0.0]),), (torch.zeros(0),), (torch.tensor([True, False, True]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Offsets(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + x.new_tensor([1, -2, 0])
""",
            fixed="""
import torch
from torch import nn


class Offsets(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.tensor([1, -2, 0], dtype=x.dtype, device=x.device)
""",
            inputs="[(torch.tensor([0.5, float('nan'), -1.0]),), (torch.tensor([1, 2, 3]),), (torch.tensor([True, False, True]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def total(x: torch.Tensor) -> float:
    return float(x.numpy().sum())
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Masker(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.names = ["a", "b"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        label = "yes".upper()
        y = x.float().to(torch.bool) | (x != 0)
        return y[: x.dim() + x.numel() + len(label) + len(self.names)]
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method not in self.ctx.knowledge.unsupported_tensor_methods:
            return
        if not self.ctx.kinds.can_be_tensor(func.value):
            return
        message = self.message.format(method=method)
        fix = None
        if method in _RENAMES and not node.args:
            new_method, arg = _RENAMES[method]
            torch_name = self._torch_name()
            imports = []
            if arg and torch_name is None:
                imports = ["import torch"]
            elif arg:
                arg = arg.replace("torch.", f"{torch_name}.", 1)
            new = node.with_changes(
                func=func.with_changes(attr=cst.Name(new_method)),
                args=[cst.Arg(cst.parse_expression(arg))] if arg else [],
            )
            replacement = f".{new_method}({arg or ''})"
            message += f"; use `{replacement}`"
            fix = Fix(
                replacements=[(node, new)],
                imports=imports,
                description=f"use {replacement}",
            )
        elif method == "unique" and self._torch_name() is not None:
            new = cst.Call(
                func=cst.parse_expression(f"{self._torch_name()}.unique"),
                args=[cst.Arg(func.value), *node.args],
                whitespace_before_args=node.whitespace_before_args,
            )
            message += "; use `torch.unique(x, ...)`"
            fix = Fix(replacements=[(node, new)], description="use torch.unique(x, ...)")
        elif (
            method == "new_tensor"
            and len(node.args) == 1
            and node.args[0].keyword is None
            and node.args[0].star == ""
            and _data_literal(node.args[0].value)
            and _simple(func.value)
            and self._torch_name() is not None
        ):
            recv = cst.Module(body=[]).code_for_node(func.value)
            data = cst.Module(body=[]).code_for_node(node.args[0].value)
            tensor = cst.parse_expression(
                f"{self._torch_name()}.tensor({data}, dtype={recv}.dtype, device={recv}.device)"
            )
            message += "; use `torch.tensor(data, dtype=x.dtype, device=x.device)`"
            fix = Fix(
                replacements=[(node, tensor)], description="use torch.tensor(data, dtype=x.dtype, device=x.device)"
            )
        elif method in _HINTS:
            message += f"; {_HINTS[method]}"
        self.report(node, message, fix)

    def _torch_name(self):
        """The name the torch module is bound to in this file (None: not imported as a module)."""
        prefix = torch_prefix(self.ctx, "")
        if prefix is None or prefix[:-1] in self.ctx.local_names:
            return None
        return prefix[:-1]
