import re

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.crossing import text_to_cst

# what torch.jit.annotations.get_type_line does with the function's source lines
_IGNORE = re.compile(r"# type:\ ignore(\[[a-zA-Z-]+\])?$")
_WRONG = re.compile(r"#[\t ]*type[\t ]*(?!: ignore(\[.*\])?$):")
_SIGNATURE = re.compile(r"# type:\s*\(")
_VAR_COMMENT = re.compile(r"^#\s*type:\s*(?P<type>[^#]+?)\s*$")
_TYPING = ("List", "Dict", "Tuple", "Optional", "Union", "Any")


class TypeComment(Rule):
    """A `# type:` comment that is not the function's signature comment.

    What it does:
        Flags `# type: T` comments on variables (`out = []  # type: List[int]`), `# type:
        ignore[...]` comments followed by more text or with codes other than letters and
        dashes, and misspelt `#type :` prefixes, in functions that `torch.jit.script`
        compiles. A single signature comment (`# type: (Tensor, int) -> Tensor`) is fine.

    Why is this bad:
        TorchScript reads *every* line of the function's source that contains `# type:`
        (except a trailing `# type: ignore` or `# type: ignore[some-code]`) as the signature
        type comment, and fails with "expected type comment but found 'ident' here" or
        "Return type line '# type: (...) -> ...' not found", naming no line of your code.

    Example:
        out = []  # type: List[int]

    Use instead:
        A PEP 526 annotation: `out: List[int] = []`.

    Fix:
        `name = value  # type: T` becomes `name: T = value` (bare `Tensor` in the comment is
        written `torch.Tensor`; `typing` names are imported). SAFE: Python does not evaluate
        annotations of local variables, and TorchScript reads the same type.
    """

    code = "TS130"
    needs = Needs(nodes={"TypeComment"})
    name = "type-comment"
    message = "TorchScript reads every `# type:` comment in a compiled function as its signature; use an annotation"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def sizes(x: torch.Tensor) -> List[int]:
    out = []  # type: List[int]
    for d in range(x.dim()):
        out.append(x.size(d))
    return out
""",
            fixed="""
from typing import List

import torch


@torch.jit.script
def sizes(x: torch.Tensor) -> List[int]:
    out: List[int] = []
    for d in range(x.dim()):
        out.append(x.size(d))
    return out
""",
            inputs="[(torch.zeros(2, 3),), (torch.tensor(1.0),), (torch.zeros(0, 4),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def scaled(x, k):
    # type: (Tensor, float) -> Tensor
    y = x * k  # type: Tensor
    return y
""",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def scaled(x: torch.Tensor, k: float) -> torch.Tensor:
    y = x.mul(k)  # type: ignore[no-untyped-call]  # legacy
    return y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def scaled(x, k):
    # type: (Tensor, float) -> Tensor
    y = x * k
    return y


@torch.jit.script
def shifted(x: torch.Tensor, k: float) -> torch.Tensor:
    y = x + k  # type: ignore[operator]
    z = y - k  # type: ignore
    return z
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0
        self._comments: list[cst.Comment] = []
        self._owner: dict[int, cst.SimpleStatementLine] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1

    def visit_Comment(self, node: cst.Comment) -> None:
        self._comments.append(node)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        c = node.trailing_whitespace.comment
        if c is not None:
            self._owner[id(c)] = node

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
        if self._depth:
            return
        type_lines = [c for c in self._comments if "# type:" in c.value and not _IGNORE.search(c.value)]
        if not type_lines:
            for c in self._comments:
                if _WRONG.search(c.value):
                    self.report(c, "misspelt type comment prefix: TorchScript rejects it; write `# type:` or remove it")
            return
        bad = []
        if len(type_lines) == 1:
            if not _SIGNATURE.search(type_lines[0].value):
                bad = type_lines
        elif not any("# type: (...) -> " in c.value for c in type_lines):
            signatures = [c for c in type_lines if _SIGNATURE.search(c.value)]
            bad = [c for c in type_lines if c not in signatures[:1]]
        for c in bad:
            self.report(c, fix=self._fix(c))

    def _fix(self, comment: cst.Comment):
        stmt = self._owner.get(id(comment))
        m = _VAR_COMMENT.match(comment.value)
        if stmt is None or m is None or len(stmt.body) != 1 or "ignore" in m.group("type").split("[")[0]:
            return None
        assign = stmt.body[0]
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
        ):
            return None
        ann = text_to_cst(m.group("type"))
        if ann is None:
            return None
        names = set()

        class Names(cst.CSTTransformer):
            def leave_Name(self, original: cst.Name, updated: cst.Name):
                names.add(original.value)
                return updated

            def leave_Attribute(self, original, updated):
                return updated

        ann.visit(Names())

        class Qualify(cst.CSTTransformer):
            def leave_Name(self, original: cst.Name, updated: cst.Name):
                if original.value == "Tensor":
                    return cst.Attribute(value=cst.Name("torch"), attr=cst.Name("Tensor"))
                return updated

        qualified = ann.visit(Qualify())
        assert isinstance(qualified, cst.BaseExpression), "Qualify only turns a name into an attribute"
        ann = qualified
        imports = [f"from typing import {n}" for n in _TYPING if n in names]
        if "Tensor" in names:
            imports.append("import torch")
        new = stmt.with_changes(
            body=[
                cst.AnnAssign(
                    target=assign.targets[0].target,
                    annotation=cst.Annotation(annotation=ann),
                    value=assign.value,
                )
            ],
            trailing_whitespace=cst.TrailingWhitespace(newline=stmt.trailing_whitespace.newline),
        )
        return Fix(replacements=[(stmt, new)], imports=imports, description="turn the type comment into an annotation")
