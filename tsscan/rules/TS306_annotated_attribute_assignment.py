import libcst as cst

from tsscan.rule import SAFE, Example, Fix, Rule


class AnnotatedAttributeAssignment(Rule):
    """An annotated attribute assignment (`self.k: int = 3`) in compiled code.

    What it does:
        Flags `self.x: T = value` (and `self.x: T`) in code that `torch.jit.script` compiles.

    Why is this bad:
        The compiler accepts annotations on instance attributes only in `__init__` of
        TorchScript classes; elsewhere it stops with "Type annotations on instance
        attributes must be declared in __init__, not 'forward'".

    Example:
        def forward(self, x):
            self.k: int = 3

    Use instead:
        self.k = 3     # and declare `k: int` in the class body if a type is needed

    Fix:
        Drops the annotation: `self.k: int = 3` becomes `self.k = 3`. Python never stores
        annotations of attribute targets, so the code runs the same.
    """

    code = "TS306"
    name = "annotated-attribute-assignment"
    message = "annotated assignment to `self.{name}` outside `__init__`: TorchScript rejects it; drop the annotation"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Steps(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.k: int = x.dim() + 1
        return x * self.k
""",
            fixed="""
import torch
from torch import nn


class Steps(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.k = x.dim() + 1
        return x * self.k
""",
            inputs="[(torch.tensor([1.5, float('nan')]),), (torch.zeros(0, 2),), (torch.tensor(3),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Steps(nn.Module):
    k: int

    def __init__(self):
        super().__init__()
        self.k = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k: int = x.dim() + 1
        self.k = k
        return x * self.k
"""
        ),
    ]

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        name = self.ctx.self_attr(node.target)
        if name is None or self.ctx.function.node.name == "__init__":  # TorchScript classes
            return
        fix = None
        if node.value is not None:
            new = cst.Assign(targets=[cst.AssignTarget(target=node.target)], value=node.value)
            fix = Fix(replacements=[(node, new)], description="drop the annotation")
        self.report(node, self.message.format(name=name), fix)
