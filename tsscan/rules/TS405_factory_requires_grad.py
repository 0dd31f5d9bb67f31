import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule

# factories whose eager form accepts requires_grad= and returns a fresh leaf tensor: for them
# `f(..., requires_grad=v)` is exactly `f(...).requires_grad_(v)`
_FACTORIES = {
    "arange",
    "empty",
    "empty_like",
    "empty_strided",
    "eye",
    "full",
    "full_like",
    "linspace",
    "logspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "zeros",
    "zeros_like",
    "scalar_tensor",
    "tril_indices",
    "triu_indices",
}


class FactoryRequiresGrad(Rule):
    """`requires_grad=` passed to a torch function whose TorchScript schema has no such argument.

    What it does:
        Flags `torch.ones(..., requires_grad=True)` and other calls of `torch.*` operators whose
        registered schemas (in the generated table) have no `requires_grad` argument.
        `torch.tensor(data, requires_grad=True)` is fine: its schema has one.

    Why is this bad:
        TorchScript resolves `torch.ones` to `aten::ones`, whose schema has no `requires_grad`:
        "Arguments for call are not valid", even for `requires_grad=False`.

    Example:
        w = torch.ones(2, requires_grad=True)

    Use instead:
        w = torch.ones(2).requires_grad_()

    Fix:
        For the factory functions (`ones`, `zeros`, `empty`, `full`, `rand*`, `arange`, `*_like`,
        ...), whose result is a new leaf tensor, `f(..., requires_grad=v)` becomes
        `f(...).requires_grad_(v)` (`.requires_grad_()` for `True`, nothing for `False`):
        the same tensor, the same leaf, the same error for integer dtypes.
    """

    code = "TS405"
    needs = Needs(nodes={"keyword"})
    name = "factory-requires-grad"
    message = "`{func}` takes no `requires_grad` argument in TorchScript; call `.requires_grad_()` on the result"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def weights(x: torch.Tensor) -> torch.Tensor:
    w = torch.ones(2, requires_grad=True)
    return w * x.sum()
""",
            fixed="""
import torch


@torch.jit.script
def weights(x: torch.Tensor) -> torch.Tensor:
    w = torch.ones(2).requires_grad_()
    return w * x.sum()
""",
            inputs="[(torch.tensor([1.5, -2.0]),), (torch.zeros(0),), (torch.tensor([float('nan')]),), (torch.tensor([3, -1]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Noise(nn.Module):
    def forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        z = torch.zeros_like(x, dtype=torch.float, requires_grad=train)
        return z + torch.full([1], 2.0, requires_grad=False)
""",
            fixed="""
import torch
from torch import nn


class Noise(nn.Module):
    def forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        z = torch.zeros_like(x, dtype=torch.float).requires_grad_(train)
        return z + torch.full([1], 2.0)
""",
            inputs="[(torch.tensor([1.5, -2.0]), True), (torch.zeros(0), False), (torch.tensor([3, -1]), True)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def weights(x: torch.Tensor) -> torch.Tensor:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    return w * torch.ones(2).requires_grad_() * x.sum()
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        kw = next((a for a in node.args if a.keyword is not None and a.keyword.value == "requires_grad"), None)
        if kw is None:
            return
        qual = self.ctx.qualname(node.func)
        if not qual or not qual.startswith("torch."):
            return
        knowledge = self.ctx.knowledge
        if knowledge.function_kind(qual) != "builtin" or knowledge.accepts_keyword(qual, "requires_grad") is not False:
            return
        short = qual.rsplit(".", 1)[-1]
        fix = None
        if (
            qual == f"torch.{short}"
            and short in _FACTORIES
            and not any(a.star for a in node.args)
            and not any(a.keyword is not None and a.keyword.value == "out" for a in node.args)
        ):
            rest = [a for a in node.args if a is not kw]
            if rest:
                rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            call = node.with_changes(args=rest)
            value = kw.value
            new: cst.BaseExpression = call
            if not (isinstance(value, cst.Name) and value.value == "False"):
                new = cst.Call(
                    func=cst.Attribute(value=call, attr=cst.Name("requires_grad_")),
                    args=[] if isinstance(value, cst.Name) and value.value == "True" else [cst.Arg(value)],
                )
            fix = Fix(replacements=[(node, new)], description="call .requires_grad_() on the result")
        func = cst.Module(body=[]).code_for_node(node.func)
        self.report(node, self.message.format(func=func), fix)
