import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Replacement, Rule
from tsscan.walk import walk


class AnnotationWithoutValue(Rule):
    """A local variable annotation without a value (`y: int`) in compiled code.

    What it does:
        Flags annotated assignments that assign nothing, in code that `torch.jit.script`
        compiles.

    Why is this bad:
        The frontend stops with "annotated assignments without assigned value aren't
        supported". Python accepts the bare declaration (it does nothing at run time).

    Example:
        best: int
        if bool(x.sum() > 0):
            best = 1
        else:
            best = 0

    Use instead:
        Give the declaration an initial value (`best: int = 0`), or drop it and let the
        assignments type the variable.

    Fix:
        When the next statement of the same block that mentions the variable is a plain
        assignment to it (`y = value`, `value` not reading `y`), the annotation moves onto
        that assignment: `y: int` + `y = n` becomes `y: int = n`. SAFE: Python does not
        evaluate local annotations, so nothing changes at run time. Declarations followed by
        branches or loops (as in the example) are left alone.
    """

    code = "TS129"
    needs = Needs(nodes={"AnnAssign"})
    name = "annotation-without-value"
    message = "an annotation without a value is not supported by TorchScript; give it an initial value"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def sign(x: torch.Tensor) -> int:
    best: int
    if bool(x.sum() > 0):
        best = 1
    else:
        best = 0
    return best
"""
        ),
        Example(
            """
from typing import List, Optional

import torch


@torch.jit.script
def longest(xs: List[str]) -> Optional[str]:
    # the best so far
    best: Optional[str]
    n = len(xs)
    best = None
    for s in xs:
        if best is None or len(s) > len(best):
            best = s
    return best if n > 0 else None
""",
            fixed="""
from typing import List, Optional

import torch


@torch.jit.script
def longest(xs: List[str]) -> Optional[str]:
    # the best so far
    n = len(xs)
    best: Optional[str] = None
    for s in xs:
        if best is None or len(s) > len(best):
            best = s
    return best if n > 0 else None
""",
            inputs="[(['ab', 'abc', 'x'],), ([],), (['', 'é'],)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def sign(x: torch.Tensor) -> int:
    best: int = 0
    if bool(x.sum() > 0):
        best = 1
    return best
"""
        ),
    ]

    def on_function(self) -> None:
        self._done: set[int] = set()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        body = list(node.body)
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
                continue
            ann = stmt.body[0]
            if not (isinstance(ann, cst.AnnAssign) and ann.value is None):
                continue
            self._done.add(id(ann))
            self.report(ann, fix=self._fix(stmt, ann, body[i + 1 :]))

    def _fix(self, stmt: cst.SimpleStatementLine, ann: cst.AnnAssign, rest):
        if not isinstance(ann.target, cst.Name) or stmt.trailing_whitespace.comment is not None:
            return None
        name = ann.target.value
        for nxt in rest:
            if name not in _names(nxt):
                continue
            if not (isinstance(nxt, cst.SimpleStatementLine) and len(nxt.body) == 1):
                return None
            assign = nxt.body[0]
            if not (
                isinstance(assign, cst.Assign)
                and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)
                and assign.targets[0].target.value == name
                and name not in _names(assign.value)
            ):
                return None
            new = nxt.with_changes(
                body=[cst.AnnAssign(target=assign.targets[0].target, annotation=ann.annotation, value=assign.value)]
            )
            replacements: list[tuple[cst.CSTNode, Replacement]] = [(stmt, cst.RemovalSentinel.REMOVE)]
            follower = rest[0]
            if follower is nxt:
                new = new.with_changes(leading_lines=list(stmt.leading_lines) + list(nxt.leading_lines))
            elif stmt.leading_lines:
                replacements.append(
                    (
                        follower,
                        follower.with_changes(leading_lines=list(stmt.leading_lines) + list(follower.leading_lines)),
                    )
                )
            replacements.append((nxt, new))
            return Fix(replacements=replacements, description="move the annotation onto the first assignment")
        return None

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None and id(node) not in self._done:
            self.report(node)


class _NameSet(cst.CSTVisitor):
    # at module level: walk() looks the hooks of a visitor class up once per class
    def __init__(self) -> None:
        self.out: set = set()

    def visit_Name(self, n: cst.Name) -> None:
        self.out.add(n.value)


def _names(node: cst.CSTNode) -> set:
    v = _NameSet()
    walk(node, v)
    return v.out
