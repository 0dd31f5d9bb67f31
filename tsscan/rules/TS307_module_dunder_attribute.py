import ast

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.compiled import first_line, properties_reading
from tsscan.semantic.module import ClassInfo, ModuleInfo

_DUNDERS = {"__dict__", "__class__", "__module__", "__doc__", "__weakref__", "__annotations__"}


class ModuleDunderAttribute(Rule):
    """`self.__dict__` / `self.__class__` in compiled code (often in a `@property`).

    What it does:
        Flags reads of Python object internals such as `self.__dict__` and
        `self.__class__` in code `torch.jit.script` compiles, properties included.

    Why is this bad:
        A scripted module has no `__dict__` or `__class__` ("Module 'Model' has no attribute
        '__dict__'"). Every `@property` of a module is compiled, even one `forward` never
        uses, so a debugging property such as `info` breaks scripting of the whole module.

    Example:
        @property
        def info(self):
            return {k: type(v) for k, v in self.__dict__.items()}

    Use instead:
        List Python-only properties in `__jit_unused_properties__ = ["info"]`, and move
        Python-only logic of methods into `@torch.jit.ignore` methods.

    Fix:
        In a property, when no class of the module's hierarchy in the file declares
        `__jit_unused_properties__` yet: the class that defines the property gets
        `__jit_unused_properties__ = [...]` as its first statement (after the docstring),
        listing each of its properties that reads such an attribute. SAFE: Python never reads
        that class attribute; only the compiler does, and then skips those properties (scripted
        code that used one no longer compiles, which the compiler's check shows).
    """

    code = "TS307"
    needs = Needs(attrs=_DUNDERS)
    name = "module-dunder-attribute"
    message = "`self.{attr}` does not exist on a scripted module"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    @property
    def summary(self) -> str:
        return str(sorted(self.__dict__))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)
""",
            fixed="""
import torch
from torch import nn


class Block(nn.Module):
    __jit_unused_properties__ = ["summary"]

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    @property
    def summary(self) -> str:
        return str(sorted(self.__dict__))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)
""",
            inputs="[(torch.randn(2, 4),)]",
            fix=SAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Block(nn.Module):
    __jit_unused_properties__ = ["summary"]

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    @property
    def summary(self) -> str:
        return str(sorted(self.__dict__))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)
"""
        ),
    ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = self.ctx.self_attr(node)
        if attr not in _DUNDERS or self.ctx.cls is None or not self.ctx.cls.is_module:
            return
        msg = self.message.format(attr=attr)
        fix = None
        if self.ctx.function.why == "property":
            msg += f"; properties are compiled even when unused: list `{self.ctx.function.node.name}` in `__jit_unused_properties__`"
            fix = _unused_property_fix(self.ctx.cls, self.ctx.module, self.ctx.function.node.name)
        self.report(node, msg, fix)


def _unused_property_fix(cls: ClassInfo, mod: ModuleInfo, name: str) -> Fix | None:
    """``__jit_unused_properties__`` for the class that defines property ``name``: every property
    of that class that reads a dunder attribute (one list, so two fixes never write two)."""
    found = cls.find_method(name)
    if found is None or any(c.unused_properties or "__jit_unused_properties__" in c.class_attrs for c in cls.mro()):
        return None
    owner = found[1]
    body = owner.node.body
    names = properties_reading(owner, mod, _DUNDERS)
    if name not in names:
        return None
    docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    if docstring and len(body) == 1:
        return None
    first = body[1 if docstring else 0]
    start = first_line(first)
    if start <= owner.node.lineno:
        return None  # a one-line class
    listed = ", ".join(f'"{n}"' for n in names)
    text = " " * first.col_offset + f"__jit_unused_properties__ = [{listed}]\n\n"
    return Fix(
        inserts=[(start - 1, text)],
        safety=SAFE,
        description=f"list {listed} in `__jit_unused_properties__` of `{owner.name}`",
    )
