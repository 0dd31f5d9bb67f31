import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import UNSAFE, Example, Fix, Rule
from tsscan.semantic.types import in_quiet_arm, is_chained_tensor_comparison


def _paren(e: cst.BaseExpression) -> cst.BaseExpression:
    return e.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def elementwise(node: cst.Comparison) -> cst.BaseExpression:
    """``a < b < c`` -> ``(a < b) & (b < c)``."""
    operands = [node.left] + [c.comparator for c in node.comparisons]
    parts = []
    for k, c in enumerate(node.comparisons):
        parts.append(_paren(cst.Comparison(left=operands[k], comparisons=[c.with_changes(comparator=operands[k + 1])])))
    out = parts[0]
    for p in parts[1:]:
        out = cst.BinaryOperation(left=out, operator=cst.BitAnd(), right=p)
    return out.with_changes(lpar=node.lpar, rpar=node.rpar) if node.lpar else out


class TensorChainedComparison(Rule):
    """Chained comparison on tensors (`0 < x < 1`) used as a tensor.

    What it does:
        Flags `a < x < b` with a Tensor operand where the result must be a Tensor: returned
        from a function annotated `-> Tensor`, passed to a torch function, or used with a
        Tensor method.

    Why is this bad:
        Python evaluates `0 < x < 1` as `(0 < x) and (x < 1)`, which asks for the truth
        value of a tensor (eager raises for more than one element) and TorchScript lowers it
        to a `bool`: "Return value was annotated as having type Tensor but is actually of
        type bool".

    Example:
        return 0 < x < 1

    Use instead:
        return (0 < x) & (x < 1)

    Fix:
        Rewrites the chain to `(0 < x) & (x < 1)`, the element-wise mask. Unsafe: eager
        code raised for tensors of more than one element and now gets the mask, and a middle
        operand with side effects would be evaluated twice.
    """

    code = "TS227"
    needs = Needs(nodes={"Compare"})
    name = "tensor-chained-comparison"
    message = "chained comparison on a tensor is `a and b` (a bool) in TorchScript; use `(a < x) & (x < b)`"
    level = "type"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def in_unit(x: torch.Tensor) -> torch.Tensor:
    return 0 < x < 1
""",
            fixed="""
import torch


@torch.jit.script
def in_unit(x: torch.Tensor) -> torch.Tensor:
    return (0 < x) & (x < 1)
""",
            inputs="[(torch.tensor([0.5]),), (torch.tensor([2.0]),), (torch.tensor(-1.0),), (torch.tensor([float('nan')]),), (torch.tensor([0]),)]",
            fix=UNSAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def in_unit(x: torch.Tensor) -> torch.Tensor:
    n = x.numel()
    if 0 < n <= 5:
        return (0 < x) & (x < 1)
    return x > 0
"""
        ),
    ]

    def on_function(self) -> None:
        self._wanted: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        types = self.ctx.types
        if types.return_annotation in ("Tensor", "Optional[Tensor]"):
            for r in types.returns:
                if r.node.value is not None:
                    self._wanted.add(id(r.node.value))

    def visit_Call(self, node: cst.Call) -> None:
        q = self.ctx.qualname(node.func)
        if q and q.startswith("torch.") and not q.startswith("torch.jit"):
            for a in node.args:
                self._wanted.add(id(a.value))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._wanted.add(id(node.value))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if id(node) not in self._wanted:
            return
        if not is_chained_tensor_comparison(node, self.ctx.types.type_of):
            return
        if not in_quiet_arm(self.ctx, node):
            self.report(
                node, fix=Fix(replacements=[(node, elementwise(node))], safety=UNSAFE, description="element-wise `&`")
            )
