from typing import Optional

import libcst as cst

from tsscan import attributes as A
from tsscan import typemodel
from tsscan.rule import Example, Rule


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
    """

    code = "TS304"
    name = "attribute-created-in-compiled-code"
    message = "`self.{name}` does not exist when the module is scripted: set it in `__init__` (if it starts as None, also declare `{name}: Optional[{type}]` in the class body)"
    level = "type"

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
"""
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

    def _check(self, node, targets) -> None:
        cls = self.ctx.cls
        if cls is None or not cls.is_module or not A.fully_known(cls):
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
                if self._fn is not None and node.value is not None:
                    vt = typemodel.analyse(self._fn, self.ctx).type_of(node.value)
                shown = {"Tensor": "torch.Tensor"}.get(vt or "", vt) if vt and vt != "None" else "..."
                self.report(node, self.message.format(name=name, type=shown))

    def on_function(self) -> None:
        self._seen = set()
        self._fn: Optional[cst.FunctionDef] = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._fn is None:
            self._fn = node

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node, [t.target for t in node.targets])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._check(node, [node.target])
