import libcst as cst
from libcst.helpers import ensure_type

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule
from tsscan.semantic import attributes
from tsscan.semantic.types import in_quiet_arm, is_optional, module_attribute_type, value_uses, walk_expr


def optional_attribute(ctx, name: str) -> str | None:
    """The Optional type of ``self.<name>`` (from :mod:`tsscan.semantic.attributes`), else None.

    Only a class-level annotation makes a module attribute Optional: without one the
    compiler types the attribute from the value ``__init__`` stored (``self.steps = steps``
    with ``steps: Optional[List[int]] = None`` is ``NoneType`` or ``List[int]``, never
    ``Optional``)."""
    cls = ctx.cls
    if cls is None or any(name in c.constants for c in cls.mro()):
        return None
    t = module_attribute_type(ctx, name)
    if not is_optional(t):
        return None
    if not attributes.attribute_type(cls, name, ctx.module).annotated:
        return None
    return t


class OptionalAttribute(Rule):
    """An `Optional` module attribute used directly (`self.bias + x`).

    What it does:
        Flags `self.X` used as a value (arithmetic, method call, indexing) when the class
        declares `X: Optional[...]`, even inside
        `if self.X is not None:`.

    Why is this bad:
        TorchScript refines local variables only: `if self.bias is not None:` does not make
        `self.bias` a Tensor, so `x + self.bias` fails with "Arguments for call are not
        valid ... found type 'Optional[Tensor]'".

    Example:
        if self.bias is not None:
            x = x + self.bias

    Use instead:
        bias = self.bias
        if bias is not None:
            x = x + bias

    Fix:
        Inside `if self.X is not None:` (or `is None`), copies the attribute to a local just
        before the `if` and uses the local in the test and both arms. Safe: the same object
        is used. Unsafe when the `if` assigns `self.X` or calls a method of the class that
        might (the local could go stale).
    """

    code = "TS213"
    needs = Needs(nodes={"Attribute", "Import", "ImportFrom"})
    name = "optional-attribute"
    message = "`self.{name}` is `{type}`; TorchScript does not refine attributes, copy it to a local and check that with `is not None`"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn
from typing import Optional


class Shift(nn.Module):
    bias: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.bias = torch.ones(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # shift when a bias is set
        if self.bias is not None:
            return x + self.bias
        return x
""",
            fixed="""
import torch
from torch import nn
from typing import Optional


class Shift(nn.Module):
    bias: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.bias = torch.ones(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # shift when a bias is set
        bias = self.bias
        if bias is not None:
            return x + bias
        return x
""",
            inputs="[(torch.tensor([1.0, -2.0, float('nan')]),), (torch.zeros(0),), (torch.tensor([3]),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Optional


class Shift(nn.Module):
    bias: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.bias = torch.ones(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias
        if bias is not None:
            return x + bias
        return x
"""
        ),
        Example(
            """
from typing import List, Optional

import torch
from torch import nn


class Anchors(nn.Module):
    def __init__(self, steps: Optional[List[int]] = None) -> None:
        super().__init__()
        # typed from the value stored here: NoneType or List[int], never Optional
        self.steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.steps is not None:
            return x / self.steps[0]
        return x


class StridedAnchors(Anchors):
    def __init__(self) -> None:
        super().__init__([8, 16])
"""
        ),
    ]

    def on_function(self) -> None:
        self._cands: dict[int, tuple[str, str]] = {}
        self._ifs: list[tuple[cst.If, bool]] = []  # (If node, is an elif)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node or self.ctx.cls is None:
            return
        for n in value_uses(node, self.ctx).values():
            name = self.ctx.self_attr(n)
            if name is None:
                continue
            t = optional_attribute(self.ctx, name)
            if t is not None and not in_quiet_arm(self.ctx, n):
                self._cands[id(n)] = (name, t)

    def visit_If(self, node: cst.If) -> None:
        is_elif = bool(self._ifs) and self._ifs[-1][0].orelse is node
        self._ifs.append((node, is_elif))

    def leave_If(self, original_node: cst.If) -> None:
        self._ifs.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        found = self._cands.get(id(node))
        if found is None:
            return
        name, t = found
        self.report(node, self.message.format(name=name, type=t), self._fix(name))

    # ---- fix: copy the attribute to a local before `if self.X is not None:`
    def _tests(self, test: cst.BaseExpression, name: str) -> bool:
        return (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot))
            and self.ctx.self_attr(test.left) == name
            and isinstance(test.comparisons[0].comparator, cst.Name)
            and test.comparisons[0].comparator.value == "None"
        )

    def _fix(self, name: str) -> Fix | None:
        guard = None
        for node, is_elif in reversed(self._ifs):
            if self._tests(node.test, name):
                guard = None if is_elif else node
                break
        if guard is None or self.ctx.node is None:
            return None
        nodes = walk_expr(self.ctx.node)
        not_vars = {id(n.attr) for n in nodes if isinstance(n, cst.Attribute)} | {
            id(n.keyword) for n in nodes if isinstance(n, cst.Arg) and n.keyword is not None
        }
        used = {n.value for n in nodes if isinstance(n, cst.Name) and id(n) not in not_vars}
        local = name if name not in used else name + "_"
        if local in used:
            return None
        me = self.ctx.self_name
        cls = self.ctx.cls
        assert cls is not None, "visit_FunctionDef reports only in methods of a class"
        ctx = self.ctx

        class Swap(cst.CSTTransformer):
            def leave_Attribute(self, original, updated):
                if ctx.self_attr(original) == name:
                    return cst.Name(local)
                return updated

        risky = False
        for n in walk_expr(guard):
            if isinstance(n, cst.AssignTarget) and any(ctx.self_attr(t) == name for t in walk_expr(n.target)):
                risky = True  # the attribute changes inside: the local would go stale
            elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
                recv = n.func.value
                if isinstance(recv, cst.Name) and recv.value == me and cls.find_method(n.func.attr.value):
                    risky = True  # a method of the class may change the attribute
        new_if = ensure_type(guard.visit(Swap()), cst.If).with_changes(leading_lines=[])
        assign = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(local))], value=cst.parse_expression(f"{me}.{name}"))],
            leading_lines=guard.leading_lines,
        )
        return Fix(
            replacements=[(guard, cst.FlattenSentinel([assign, new_if]))],
            safety=UNSAFE if risky else SAFE,
            description=f"copy `self.{name}` to a local and test that",
        )
