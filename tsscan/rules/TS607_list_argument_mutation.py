import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm

_MUTATORS = frozenset("append extend insert pop remove clear sort reverse".split())


class ListArgumentMutation(Rule):
    """An entry point mutates a list argument in place (`xs.append(v)`, `xs[i] = v`).

    What it does:
        Flags in-place changes of a `List[...]` parameter of `forward`, of an
        `@torch.jit.export` method or of a `@torch.jit.script` function: list methods that
        mutate, item assignment, `+=`.

    Why is this bad:
        It scripts, but a list passed from Python to scripted code is converted into a new
        TorchScript list: the change stays inside the call. Eager code changes the caller's
        list; scripted code does not, silently.

    Example:
        def forward(self, feats: List[torch.Tensor]) -> torch.Tensor:
            feats[0] = self.stem(feats[0])
            ...

    Use instead:
        Build and return a new list (`out = [self.stem(feats[0])] + feats[1:]`); callers that
        relied on the mutation use the returned value.
    """

    code = "TS607"
    needs = Needs(nodes={"Assign", "AugAssign", "Call"})
    name = "list-argument-mutation"
    message = "`{name}` is a list argument changed in place; a scripted call works on a copy, so the caller's list is not changed"
    level = "type"

    invalid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def push(xs: List[int], v: int) -> int:
    xs.append(v)
    return len(xs)
""",
            inputs="[([1, 2], 3), ([], 0)]",
        ),
    ]
    valid = [
        Example(
            """
import torch
from typing import List


@torch.jit.script
def push(xs: List[int], v: int) -> List[int]:
    out = xs + [v]
    out.append(v)
    return out
"""
        ),
    ]

    def on_function(self) -> None:
        self._lists: set[str] = set()
        self._done: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        if self.ctx.function.why not in ("forward", "export", "script"):
            return
        types = self.ctx.types
        self._lists = {n for n, t in types.params.items() if t.startswith("List[")}

    def _hit(self, node: cst.CSTNode, name: str) -> None:
        if name in self._lists and name not in self._done:
            self._done.add(name)
            if not in_quiet_arm(self.ctx, node):
                self.report(node, self.message.format(name=name))

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if isinstance(f, cst.Attribute) and f.attr.value in _MUTATORS and isinstance(f.value, cst.Name):
            self._hit(node, f.value.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        t = node.target
        if isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name):
            self._hit(t, t.value.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        t = node.target
        if isinstance(t, cst.Subscript) and isinstance(t.value, cst.Name):
            self._hit(t, t.value.value)
        elif isinstance(t, cst.Name) and isinstance(node.operator, cst.AddAssign):
            self._hit(t, t.value)
