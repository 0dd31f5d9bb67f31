import re

import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import UNSAFE, Example, Fix, Rule
from tsscan.semantic import attributes as A

_TYPING = ("List", "Dict", "Tuple", "Optional")


class AttributeCreatedInCompiledCode(Rule):
    """A new attribute created in `forward` (`self.cache = x` with no such attribute).

    What it does:
        Flags `self.x = ...` in compiled code when nothing the compiler sees creates `x`
        before: not `__init__` (nor another method it does not compile), not the class body,
        not `register_buffer`. Classes whose attributes cannot all be seen (a base class
        from another file, `setattr` with a computed name) are skipped.

    Why is this bad:
        A scripted module's attributes are fixed when it is scripted; compiled code can only
        assign existing ones: "Tried to set nonexistent attribute: cache. Did you forget to
        initialize it in __init__()?".

    Example:
        def forward(self, x):
            self.cache = x

    Use instead:
        class Model(nn.Module):
            cache: Optional[torch.Tensor]

            def __init__(self):
                super().__init__()
                self.cache = None

    Fix:
        When the assigned value's type is known: declares `cache: Optional[<type>]` in the
        class body and sets `self.cache = None` after `super().__init__()`. Unsafe: the
        attribute now exists (as None) before the first call, which Python code may notice
        (`hasattr`, reading it before `forward` ran), and compiled code that reads it back
        must check it for None.
    """

    code = "TS304"
    needs = HOOKS
    name = "attribute-created-in-compiled-code"
    message = "`self.{name}` does not exist when the module is scripted: set it in `__init__` (if it starts as None, also declare `{name}: Optional[{type}]` in the class body)"
    level = "type"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Memory(nn.Module):
    def __init__(self):
        super().__init__()
        self.decay = 0.9

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last = x * self.decay
        return x
""",
            fixed="""
import torch
from torch import nn
from typing import Optional


class Memory(nn.Module):
    last: Optional[torch.Tensor]
    def __init__(self):
        super().__init__()
        self.last = None
        self.decay = 0.9

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last = x * self.decay
        return x
""",
            inputs="[(torch.tensor([1.0, -2.0, float('nan')]),), (torch.zeros(0),), (torch.tensor([3]),)]",
            fix=UNSAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Optional


class Memory(nn.Module):
    last: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.decay = 0.9
        self.last = None
        self.reset()

    def reset(self):
        self.steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last = x * self.decay
        self.steps = self.steps + 1
        self.training = False
        return x
"""
        ),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._fixed: set = set()

    def _check(self, node, targets) -> None:
        cls = self.ctx.cls
        if cls is None or not A.plain_module(cls) or not A.fully_known(cls):
            return
        for t in targets:
            elts = [e.value for e in t.elements] if isinstance(t, (cst.Tuple, cst.List)) else [t]
            for e in elts:
                name = self.ctx.self_attr(e)
                if name is None or name in self._seen:
                    continue
                at = A.attribute_type(cls, name, self.ctx.module)
                if at.origin or name in A.MODULE_BUILTINS or cls.find_method(name) is not None:
                    continue
                if cls.class_attribute(name) is not None:
                    continue
                if A.assigned_outside_compiled(cls, self.ctx.module, name):
                    continue
                if A.externally_assigned(self.ctx.module, name):
                    continue
                self._seen.add(name)
                vt = None
                whole = len(targets) == 1 and targets[0] is e  # `self.x = v`, not `self.x, y = v`
                if whole and self.ctx.node is not None and node.value is not None:
                    types = self.ctx.types
                    value = node.value
                    if isinstance(value, cst.Name) and value.value not in types.params:
                        value = A.single_bindings(self.ctx.node).get(value.value)
                    vt = types.type_of(value) if value is not None else None
                shown = re.sub(r"\bTensor\b", "torch.Tensor", vt) if vt and vt not in ("None", "Any") else None
                self.report(node, self.message.format(name=name, type=shown or "..."), self._fix(cls, name, shown))

    def _fix(self, cls, name: str, shown: str | None) -> Fix | None:
        if shown is None or (cls.name, name) in self._fixed:
            return None
        init = cls.methods.get("__init__")
        stmt = A.super_init_statement(init) if init is not None else None
        if stmt is None:
            return None
        self._fixed.add((cls.name, name))
        after, col = A.class_body_insert_point(cls.node)
        imports = [
            "from typing import " + ", ".join(t for t in _TYPING if re.search(rf"\b{t}\[", f"Optional[{shown}]"))
        ]
        if "torch." in shown:
            imports.append("import torch")
        return Fix(
            inserts=[
                (after, " " * col + f"{name}: Optional[{shown}]\n"),
                (stmt.end_lineno or stmt.lineno, " " * stmt.col_offset + f"self.{name} = None\n"),
            ],
            imports=imports,
            safety=UNSAFE,
            description=f"declare `{name}: Optional[{shown}]` and start it as None in __init__",
        )

    def on_function(self) -> None:
        self._seen: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node, [t.target for t in node.targets])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._check(node, [node.target])
