import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm, param_list, walk_expr
from tsscan.walk import statements


class UntypedRangeArgument(Rule):
    """`range(n)` with `n` a parameter without annotation.

    What it does:
        Flags `range(...)` arguments that are parameters of the compiled function with
        no annotation.

    Why is this bad:
        An unannotated parameter is a `Tensor` to TorchScript. Most places convert a
        Tensor to an int silently (indexing, `view`, `torch.zeros`), but `range` does not:
        "all inputs of range must be ints, found Tensor (inferred) in argument 0".

    Example:
        def repeat_add(x: torch.Tensor, n):
            for _ in range(n):
                x = x + 1
            return x

    Use instead:
        def repeat_add(x: torch.Tensor, n: int):
            ...
    """

    code = "TS228"
    needs = Needs(calls={"range"})
    name = "untyped-range-argument"
    message = "`{name}` has no annotation, so it is a Tensor to TorchScript and `range()` rejects it; annotate it `{name}: int`"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def repeat_add(x: torch.Tensor, n):
    for _ in range(n):
        x = x + 1
    return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def repeat_add(x: torch.Tensor, n: int, m):
    k = int(m)
    m = k
    for _ in range(n + m):
        x = x + 1
    return x
"""
        ),
    ]

    def on_function(self) -> None:
        self._untyped: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        self_name = self.ctx.self_name
        rebound: set[str] = set()  # `n = int(n)` first: then range(n) is fine
        for sub in statements(node.body):  # assignment targets are never inside an expression
            if isinstance(sub, cst.AssignTarget):
                rebound.update(n.value for n in walk_expr(sub.target) if type(n) is cst.Name)
            elif isinstance(sub, (cst.AugAssign, cst.AnnAssign)) and type(sub.target) is cst.Name:
                rebound.add(sub.target.value)
        for k, p in enumerate(param_list(node)):
            if k == 0 and self_name is not None and p.name.value == self_name:
                continue
            if p.annotation is None and (
                p.default is None or (type(p.default) is cst.Name and p.default.value == "None")
            ):
                self._untyped.add(p.name.value)
        self._untyped -= rebound

    def visit_Call(self, node: cst.Call) -> None:
        if not (type(node.func) is cst.Name and node.func.value == "range"):
            return
        for a in node.args:
            v = a.value
            if type(v) is cst.Name and v.value in self._untyped:
                if not in_quiet_arm(self.ctx, v):
                    self.report(v, self.message.format(name=v.value))
