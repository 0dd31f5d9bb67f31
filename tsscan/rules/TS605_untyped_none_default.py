import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule
from tsscan.semantic.annotations import annotated_param
from tsscan.semantic.types import param_list


class UntypedNoneDefault(Rule):
    """Parameter `x=None` without annotation.

    What it does:
        Flags parameters of compiled functions that default to `None` and have no
        annotation.

    Why is this bad:
        It scripts, but TorchScript types the parameter as a plain `Tensor`: calling the
        scripted function without it (or with `None`) fails at run time ("Expected a value
        of type 'Tensor' for argument 'mask' but instead found type 'NoneType'") where
        Python works.

    Example:
        def forward(self, x: torch.Tensor, mask=None) -> torch.Tensor: ...

    Use instead:
        def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor: ...

    Fix:
        Annotates `Optional[torch.Tensor]` and imports `Optional`. Safe when the function
        checks the parameter against `None` (the eager behaviour is then kept); unsafe
        otherwise, because an unchecked use of an Optional does not compile. No fix when the
        body uses the parameter as something other than a Tensor: passed to a builtin that
        takes a sequence or a number (`len`, `max`, `frozenset`, `range`...), iterated by a
        `for`, used as a slice bound, on the right of `in` / `not in`, or passed by keyword
        where every overload of the torch function or Tensor method takes something else
        (`torch.sum(x, dim=dims)`); then the right type is not `Optional[Tensor]`. Except
        when its only such uses are `c in x` / `c not in x` with `c` of one scalar type `T`
        (`int`, `float`, `str`, `bool`) where it lies: then the annotation is
        `Optional[List[T]]`, safe or unsafe as above.
    """

    code = "TS605"
    needs = Needs(nodes={"Default"})
    name = "untyped-none-default"
    message = (
        "`{name}=None` has no annotation, so TorchScript types it Tensor and a call without it fails; annotate `{ann}`"
    )
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def masked(x: torch.Tensor, mask=None) -> torch.Tensor:
    if mask is not None:
        x = x * mask
    return x
""",
            fixed="""
import torch
from typing import Optional


@torch.jit.script
def masked(x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    if mask is not None:
        x = x * mask
    return x
""",
            inputs="[(torch.tensor([1.0, -2.0]),), (torch.tensor([1.0, float('nan')]), torch.tensor([0.0, 1.0])), (torch.zeros(0),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import Optional


@torch.jit.script
def masked(x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    if mask is not None:
        x = x * mask
    return x
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        self_name = self.ctx.self_name
        refined = None
        for k, p in enumerate(param_list(node)):
            if k == 0 and self_name is not None and p.name.value == self_name:
                continue
            d = p.default
            if p.annotation is not None or not (isinstance(d, cst.Name) and d.value == "None"):
                continue
            if refined is None:
                refined = self.ctx.refined_names
            ann, imports = "Optional[torch.Tensor]", ["from typing import Optional", "import torch"]
            if self.ctx.used_as_non_tensor(p.name.value):
                listed = self.ctx.membership_list_type(p.name.value)
                if listed is None:
                    self.report(p, self.message.format(name=p.name.value, ann=ann))
                    continue
                ann, imports = f"Optional[{listed}]", ["from typing import List", "from typing import Optional"]
            new = annotated_param(p, ann)
            self.report(
                p,
                self.message.format(name=p.name.value, ann=ann),
                Fix(
                    replacements=[(p, new)],
                    imports=imports,
                    safety=SAFE if p.name.value in refined else UNSAFE,
                    description=f"annotate `{ann}`",
                ),
            )
