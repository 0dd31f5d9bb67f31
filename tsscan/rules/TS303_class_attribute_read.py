import ast

import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import UNSAFE, Example, Fix, Rule
from tsscan.semantic import attributes as A

_READABLE = {A.BOOL, A.INT, A.FLOAT, A.STR, A.NONE, A.TUPLE, A.LIST, A.DICT, A.TENSOR, A.EMPTY_LIST, A.EMPTY_DICT}


def _literal(value: ast.expr) -> str | None:
    """Source of an immutable scalar literal (``False``, ``-1``, ``0.25``, ``'x'``)."""
    v = value
    if isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub):
        v = v.operand
    if isinstance(v, ast.Constant) and isinstance(v.value, (bool, int, float, str)):
        return ast.unparse(value)
    return None


class ClassAttributeRead(Rule):
    """A class-level attribute (`export = False` in the class body) used by compiled code.

    What it does:
        Flags `self.x` in compiled code when `x` is assigned only in the class body, not on
        the instance (`__init__`, `register_buffer`, ...), and is not a constant.

    Why is this bad:
        `torch.jit.script` builds the module's attributes from the instance. A plain class
        attribute is not one of them (not even with a class-level annotation such as
        `export: bool = False`), so the use fails with "Module 'Detect' has no attribute
        'export'". Constants (`Final`, `__constants__`) are the exception. YOLO heads
        (`stride = None`, `export = False`) hit this.

    Example:
        class Detect(nn.Module):
            export = False

            def forward(self, x):
                if self.export: ...

    Use instead:
        Set it in `__init__` (`self.export = False`); for a tensor filled in later, register
        a buffer there.

    Fix:
        For a bool, int, float or str literal: adds `self.x = <value>` after
        `super().__init__()` (or a minimal `__init__` when the class has none and derives from
        `nn.Module` directly), keeping the class attribute. The instance starts with the value
        the class gave it, so Python code reads the same. No fix for `None` or containers:
        what they should hold needs a decision. UNSAFE: an assignment to the class attribute
        elsewhere (`Detect.export = True` in an export script, another file of the package)
        no longer reaches instances, which now hold their own value. Within the file, such an
        assignment keeps the rule silent.
    """

    code = "TS303"
    needs = HOOKS
    name = "class-attribute-read"
    message = (
        "`self.{name}` is a class attribute, not a module attribute: TorchScript cannot see it; set it in `__init__`"
    )
    level = "type"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Head(nn.Module):
    export = False  # set True before ONNX export

    def __init__(self, scale: float = 2.0):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.export:
            return x
        return x * self.scale
""",
            fixed="""
import torch
from torch import nn


class Head(nn.Module):
    export = False  # set True before ONNX export

    def __init__(self, scale: float = 2.0):
        super().__init__()
        self.export = False
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.export:
            return x
        return x * self.scale
""",
            inputs="[(torch.tensor([1.0, -2.0, float('nan')]),), (torch.zeros(0),)]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Shift(nn.Module):
    offset = -1
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.offset
""",
            fixed="""
import torch
from torch import nn


class Shift(nn.Module):
    offset = -1

    def __init__(self):
        super().__init__()
        self.offset = -1
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.offset
""",
            inputs="[(torch.tensor([1, 0, -3]),), (torch.tensor([0.5, float('nan')]),)]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Detect(nn.Module):
    stride = None  # filled in by the model builder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.stride[0]
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Final


class Head(nn.Module):
    export = False
    levels: Final[int] = 3
    __constants__ = ["mode"]
    mode = "fast"

    def __init__(self):
        super().__init__()
        self.export = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.export or self.mode == "slow":
            return x
        return x * self.levels
"""
        ),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._fixed: set[tuple[str, str]] = set()
        self._new_init: set[str] = set()

    def on_function(self) -> None:
        self._seen: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = self.ctx.self_attr(node)
        cls = self.ctx.cls
        if name is None or cls is None or not A.plain_module(cls) or name in self._seen or name.startswith("__"):
            return
        t = A.attribute_type(cls, name, self.ctx.module)
        if t.origin != "class" or t.constant or t.kind not in _READABLE:
            return
        if not A.fully_known(cls) or A.externally_assigned(self.ctx.module, name):
            return
        if A.assigned_outside_compiled(cls, self.ctx.module, name):
            return
        self._seen.add(name)
        self.report(node, self.message.format(name=name), self._fix(cls, name))

    def _fix(self, cls, name: str) -> Fix | None:
        decl = next((c for c in cls.mro() if name in c.class_attrs), None)
        if decl is None or (decl.name, name) in self._fixed:
            return None
        attr = decl.class_attrs[name]
        value = _literal(attr.value) if attr.value is not None else None
        if value is None:
            return None
        init = decl.methods.get("__init__")
        line = f"self.{name} = {value}"
        if init is not None:
            stmt = A.super_init_statement(init)
            if stmt is None:
                return None
            fix = Fix(
                inserts=[(stmt.end_lineno or stmt.lineno, " " * stmt.col_offset + line + "\n")],
                safety=UNSAFE,
                description=f"set `{line}` in __init__",
            )
        else:
            if decl.local_bases or decl.bases != ["torch.nn.Module"] or decl.name in self._new_init:
                return None
            if any(c is not decl and "__init__" in c.methods for c in decl.mro()):
                return None
            # after the class-level statements that precede the first method
            stmt_node = decl.node.body[0]
            for st in decl.node.body:
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    break
                stmt_node = st
            ind = " " * stmt_node.col_offset
            text = f"\n{ind}def __init__(self):\n{ind}    super().__init__()\n{ind}    {line}\n"
            fix = Fix(
                inserts=[(stmt_node.end_lineno or stmt_node.lineno, text)],
                safety=UNSAFE,
                description=f"add an __init__ that sets `{line}`",
            )
            self._new_init.add(decl.name)
        self._fixed.add((decl.name, name))
        return fix
