import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class StaticForward(Rule):
    """`@staticmethod` on the `forward` of an `nn.Module`.

    What it does:
        Flags a `forward` decorated `@staticmethod` in an `nn.Module` subclass when it takes
        no parameter or uses its first parameter.

    Why is this bad:
        TorchScript compiles `forward` as a method whatever its decorators: the module itself
        is passed as the first parameter, so `x + 1` fails with "'__torch__.M' object has no
        attribute or method '__add__'", and a `forward` with no parameter fails with "methods
        must have a self argument".

    Example:
        @staticmethod
        def forward(x):
            return x.clamp(min=0)

    Use instead:
        def forward(self, x):
            return x.clamp(min=0)
    """

    code = "TS136"
    needs = Needs(nodes={"Decorator"})
    name = "static-forward"
    message = "TorchScript compiles `forward` as a method: its first parameter receives the module; drop `@staticmethod` and add `self`"

    invalid = [
        Example(
            """
import torch


class Clamp(torch.nn.Module):
    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return x.clamp(min=0.0)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


class Clamp(torch.nn.Module):
    @staticmethod
    def helper(x: torch.Tensor) -> torch.Tensor:
        return x.clamp(min=0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.helper(x)
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        cls = self.ctx.cls
        if node is not self.ctx.node or node.name.value != "forward" or cls is None or not cls.is_module:
            return
        if not any(self.ctx.qualname(d.decorator) == "staticmethod" for d in node.decorators):
            return
        params = list(node.params.posonly_params) + list(node.params.params)
        if params and not self._uses(node.body, params[0].name.value):
            return  # the module passed in is never used as a value: it compiles
        self.report(node)

    @staticmethod
    def _uses(body: cst.CSTNode, name: str) -> bool:
        found = False

        class Uses(cst.CSTVisitor):
            def visit_Name(self, n: cst.Name) -> None:
                nonlocal found
                found = found or n.value == name

            def visit_Attribute(self, n: cst.Attribute) -> bool:
                n.value.visit(self)
                return False

            def visit_Return(self, n: cst.Return) -> bool:
                return not isinstance(n.value, cst.Name)  # `return x` gives the module back: it compiles

        body.visit(Uses())
        return found
