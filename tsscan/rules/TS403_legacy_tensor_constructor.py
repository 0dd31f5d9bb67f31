import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.receivers import torch_prefix


def _data(node: cst.BaseExpression) -> bool:
    """A list/tuple display of numbers and bools (nested): the data form of torch.Tensor."""
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(isinstance(e, cst.Element) and _item(e.value) for e in node.elements)
    return False


def _item(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _item(node.expression)
    if isinstance(node, cst.Name):
        return node.value in ("True", "False")
    return _data(node)


class LegacyTensorConstructor(Rule):
    """`torch.Tensor(...)` called as a constructor.

    What it does:
        Flags calls of the legacy constructor `torch.Tensor(data)` / `torch.Tensor(*sizes)`.

    Why is this bad:
        TorchScript maps `torch.Tensor` to an operator that does not exist: "Unknown builtin op:
        aten::Tensor". The typed legacy constructors (`torch.LongTensor([...])`,
        `torch.FloatTensor(...)`) do script.

    Example:
        t = torch.Tensor([1, 2, 3])
        buf = torch.Tensor(2, 3)

    Use instead:
        t = torch.tensor([1, 2, 3], dtype=torch.float)
        buf = torch.empty(2, 3)

    Fix:
        `torch.Tensor(<list display>)` becomes `torch.tensor(<list>, dtype=torch.float)`: the
        legacy constructor always makes a float32 tensor (the default dtype), while plain
        `torch.tensor([1, 2, 3])` would make int64. `torch.Tensor(2, 3)` with integer literals
        becomes `torch.empty(2, 3)` (both uninitialised); `torch.Tensor()` becomes
        `torch.empty(0)`. Other arguments get no fix. If your program changes the default
        dtype with `torch.set_default_dtype`, use that dtype instead of `torch.float`.
    """

    code = "TS403"
    needs = Needs(calls={"Tensor"})
    name = "legacy-tensor-constructor"
    message = "`torch.Tensor(...)` is not supported by TorchScript (Unknown builtin op: aten::Tensor)"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def shift(x: torch.Tensor) -> torch.Tensor:
    offsets = torch.Tensor([1, -2, 3])
    return x + offsets
""",
            fixed="""
import torch


@torch.jit.script
def shift(x: torch.Tensor) -> torch.Tensor:
    offsets = torch.tensor([1, -2, 3], dtype=torch.float)
    return x + offsets
""",
            inputs="[(torch.tensor([0.5, float('nan'), -1.0]),), (torch.tensor([1, 2, 3]),), (torch.tensor([True, False, True]),), (torch.zeros(0),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Scratch(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        buf = torch.Tensor(2, 3)
        return buf.zero_() + x.sum()
""",
            fixed="""
import torch
from torch import nn


class Scratch(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        buf = torch.empty(2, 3)
        return buf.zero_() + x.sum()
""",
            inputs="[(torch.tensor([0.5, -1.0]),), (torch.zeros(0),), (torch.tensor([float('nan')]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch as th
from torch import Tensor


@th.jit.script
def grid(x: Tensor) -> Tensor:
    return x + Tensor([[0, 1], [-2, 3]])
""",
            fixed="""
import torch as th
from torch import Tensor


@th.jit.script
def grid(x: Tensor) -> Tensor:
    return x + th.tensor([[0, 1], [-2, 3]], dtype=th.float)
""",
            inputs="[(torch.tensor([1, 2]),), (torch.tensor([[float('nan'), -0.0]]),), (torch.tensor([True, False]),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def shift(x: torch.Tensor) -> torch.Tensor:
    offsets = torch.tensor([1, -2, 3], dtype=torch.float)
    idx = torch.LongTensor([0, 2])
    if isinstance(x, torch.Tensor):
        return (x + offsets)[idx]
    return x
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualname(node.func) != "torch.Tensor":
            return
        fix = None
        args = node.args
        head = torch_prefix(self.ctx, cst.Module(body=[]).code_for_node(node.func))  # "torch." / "th."
        plain = head is not None and all(a.keyword is None and a.star == "" for a in args)
        if plain and not args:
            new = cst.parse_expression(f"{head}empty(0)")
            fix = Fix(replacements=[(node, new)], description="use torch.empty(0)")
        elif plain and all(isinstance(a.value, cst.Integer) for a in args):
            new = node.with_changes(func=cst.parse_expression(f"{head}empty"))
            fix = Fix(replacements=[(node, new)], description="use torch.empty(sizes)")
        elif plain and len(args) == 1 and _data(args[0].value):
            new = node.with_changes(
                func=cst.parse_expression(f"{head}tensor"),
                args=[
                    args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                    cst.Arg(
                        cst.parse_expression(f"{head}float"),
                        keyword=cst.Name("dtype"),
                        equal=cst.AssignEqual(
                            whitespace_before=cst.SimpleWhitespace(""),
                            whitespace_after=cst.SimpleWhitespace(""),
                        ),
                    ),
                ],
            )
            fix = Fix(replacements=[(node, new)], description="use torch.tensor(data, dtype=torch.float)")
        self.report(node, fix=fix)
