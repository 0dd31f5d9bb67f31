import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule


class StarredAssignment(Rule):
    """Starred assignment targets (`first, *rest = xs`) in compiled code.

    What it does:
        Flags `*name` in the targets of assignments and `for` loops in code that
        `torch.jit.script` compiles.

    Why is this bad:
        TorchScript unpacks only sequences of a length it knows at compile time: "cannot
        statically infer the expected size of a list in this context".

    Example:
        head, *tail = sizes

    Use instead:
        Index and slice: `head = sizes[0]` and `tail = sizes[1:]`.

    Fix:
        For a statement `a, b, *rest = xs` (or `*init, last = xs`) whose value is a name
        known to hold a list: one assignment per target, `a = xs[0]`, `b = xs[1]`,
        `rest = xs[2:]` (`init = xs[:-1]`, `last = xs[-1]`), after
        `if len(xs) < 2: raise ValueError(...)`. SAFE: the same values, and a list too short
        raises ValueError in both versions. Not offered for a star in the middle (a
        too-short list would no longer raise), for tuples (`rest` would become a tuple) or
        tensors.
    """

    code = "TS128"
    needs = Needs(nodes={"Assign", "For", "AsyncFor"})
    name = "starred-assignment"
    message = "starred assignment targets are not supported by TorchScript; index and slice instead"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def split_head(sizes: List[int]) -> List[int]:
    head, *tail = sizes  # the rest are widths
    *dims, last = tail
    return dims + [head, last]
""",
            fixed="""
from typing import List

import torch


@torch.jit.script
def split_head(sizes: List[int]) -> List[int]:
    if len(sizes) < 1:
        raise ValueError("not enough values to unpack")
    head = sizes[0]  # the rest are widths
    tail = sizes[1:]
    if len(tail) < 1:
        raise ValueError("not enough values to unpack")
    dims = tail[:-1]
    last = tail[-1]
    return dims + [head, last]
""",
            inputs="[([1, 2, 3, 4],), ([5, 6],), ([7],), ([],)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def split_head(sizes: List[int]) -> List[int]:
    head = sizes[0]
    tail = sizes[1:]
    a, b = head, len(tail)
    return tail + [a, b]
"""
        ),
    ]

    def on_function(self) -> None:
        self._line: cst.SimpleStatementLine | None = None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node

    def _check(self, target: cst.BaseExpression, assign=None) -> bool:
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                if isinstance(el, cst.StarredElement):
                    self.report(el, fix=self._fix(assign) if assign is not None else None)
                    return True
                if self._check(el.value):
                    return True
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if self._check(t.target, node if len(node.targets) == 1 else None):
                return

    def _fix(self, assign: cst.Assign):
        line = self._line
        if line is None or len(line.body) != 1 or line.body[0] is not assign:
            return None
        target, value = assign.targets[0].target, assign.value
        if not isinstance(value, cst.Name):
            return None
        assert isinstance(target, (cst.Tuple, cst.List)), "_check offers a fix only for a starred tuple or list"
        elements = list(target.elements)
        names = [e.value.value for e in elements if isinstance(e.value, cst.Name)]
        if len(names) != len(elements):
            return None
        if value.value in names or len(set(names)) != len(names):
            return None
        star = next(i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement))
        after = len(elements) - star - 1
        if star != 0 and after != 0:
            return None  # a star in the middle
        t = self.ctx.eager_types.type_at(value)
        if not (t and t.startswith("List[")):
            return None
        src = value.value
        stmts = []
        for i, name in enumerate(names):
            if i < star:
                rhs = f"{src}[{i}]"
            elif i == star:
                rhs = f"{src}[{star}:]" if after == 0 else f"{src}[:-{after}]"
            else:
                rhs = f"{src}[-{len(names) - i}]"
            stmts.append(cst.parse_statement(f"{name} = {rhs}\n"))
        stmts[0] = stmts[0].with_changes(trailing_whitespace=line.trailing_whitespace)
        needed = len(names) - 1
        if needed:  # Python's unpacking raises ValueError on a list too short, indexing IndexError
            stmts.insert(
                0,
                cst.parse_statement(
                    f'if len({src}) < {needed}:\n    raise ValueError("not enough values to unpack")\n'
                ),
            )
        stmts[0] = stmts[0].with_changes(leading_lines=line.leading_lines)
        return Fix(
            replacements=[(line, cst.FlattenSentinel(stmts))],
            description="index and slice the list",
        )

    def visit_For(self, node: cst.For) -> None:
        self._check(node.target)
