import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic import attributes as A
from tsscan.semantic.container_uses import container_annotation


class EmptyContainerAttribute(Rule):
    """An attribute set to an empty `[]` or `{}` in `__init__`, used by compiled code.

    What it does:
        Flags uses, in compiled code, of a module attribute that `__init__` sets to an empty
        list or dict without a type annotation (and that no uncompiled code fills).

    Why is this bad:
        `torch.jit.script` types attributes from their values when it scripts the module. An
        empty list or dict has no element type, so the attribute is dropped ("failed to
        convert Python type: 'list' to a TorchScript type. List trace inputs must have
        elements"), and its first use in compiled code fails. Unused ones are silently dropped.

    Example:
        def __init__(self):
            super().__init__()
            self.cache = []

        def forward(self, x):
            self.cache.append(x)

    Use instead:
        class Model(nn.Module):
            cache: List[torch.Tensor]

    Fix:
        Adds a class-level annotation such as `cache: List[torch.Tensor]` (and the `typing`
        import). The element type is read from what compiled code adds (`append`, `insert`,
        `d[k] = v`); when compiled code never adds nor reads elements (only `len()` or a
        truth test), any element type behaves the same. No fix when the type cannot be read.
        The annotation changes nothing at run time in Python.
    """

    code = "TS301"
    needs = HOOKS
    name = "empty-container-attribute"
    message = "`self.{name}` is {what} without a type annotation: TorchScript cannot type it; annotate it in the class body (`{name}: {ann}`)"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class History(nn.Module):
    \"\"\"Keeps the last inputs.\"\"\"

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x: torch.Tensor) -> int:
        self.seen.append(x * 2)
        return len(self.seen)
""",
            fixed="""
import torch
from torch import nn
from typing import List


class History(nn.Module):
    \"\"\"Keeps the last inputs.\"\"\"
    seen: List[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x: torch.Tensor) -> int:
        self.seen.append(x * 2)
        return len(self.seen)
""",
            inputs="[(torch.tensor([1.0, float('nan')]),), (torch.zeros(0),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.counts = {}

    def forward(self, x: torch.Tensor, key: str) -> int:
        if key in self.counts:
            return self.counts[key]
        self.counts[key] = x.numel()
        return 0
""",
            fixed="""
import torch
from torch import nn
from typing import Dict


class Counter(nn.Module):
    counts: Dict[str, int]
    def __init__(self):
        super().__init__()
        self.counts = {}

    def forward(self, x: torch.Tensor, key: str) -> int:
        if key in self.counts:
            return self.counts[key]
        self.counts[key] = x.numel()
        return 0
""",
            inputs='[(torch.ones(2), "a"), (torch.zeros(0), "b"), (torch.ones(3), "a"), (torch.ones(1), "\u00e9t\u00e9")]',
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn
from typing import List


class Window(nn.Module):
    def __init__(self):
        super().__init__()
        self.sizes: List[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for s in self.sizes:
            x = x[:s]
        return x
""",
            fixed="""
import torch
from torch import nn
from typing import List


class Window(nn.Module):
    sizes: List[int]
    def __init__(self):
        super().__init__()
        self.sizes: List[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for s in self.sizes:
            x = x[:s]
        return x
""",
            inputs="[(torch.arange(4),), (torch.zeros(0),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Scales(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for s in self.scales:
            x = x * s
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Dict, List


class History(nn.Module):
    seen: List[torch.Tensor]
    names: Dict[str, int]

    def __init__(self):
        super().__init__()
        self.seen = []
        self.unused = {}
        self.filled = []
        self.filled.append(1.5)
        self.names = {}

    def forward(self, x: torch.Tensor) -> int:
        self.seen.append(x)
        return len(self.seen) + len(self.filled) + len(self.names)
"""
        ),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._fixed: set[tuple[str, str]] = set()  # one fix per attribute and file

    def on_function(self) -> None:
        self._seen: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = self.ctx.self_attr(node)
        cls = self.ctx.cls
        if name is None or cls is None or not A.plain_module(cls) or name in self._seen or not A.fully_known(cls):
            return
        t = A.attribute_type(cls, name, self.ctx.module)
        if t.kind not in (A.EMPTY_LIST, A.EMPTY_DICT) or t.annotated or t.origin != "init":
            return
        self._seen.add(name)
        owner = next((c for c in cls.mro() if name in c.init_attrs), cls)
        ann: str | None
        if t.init_annotation:
            # `self.x: List[int] = []` in __init__: the compiler ignores that annotation
            ann = t.init_annotation
        else:
            ann = container_annotation(self.ctx, name, t.kind)
        what = "an empty list" if t.kind == A.EMPTY_LIST else "an empty dict"
        fix = None
        if ann is not None and (owner.name, name) not in self._fixed:
            self._fixed.add((owner.name, name))
            after, col = A.class_body_insert_point(owner.node)
            imports = (
                [] if t.init_annotation else ["from typing import " + ("List" if t.kind == A.EMPTY_LIST else "Dict")]
            )
            if "torch." in ann and not t.init_annotation:
                imports.append("import torch")
            fix = Fix(
                inserts=[(after, " " * col + f"{name}: {ann}\n")],
                imports=imports,
                description=f"annotate `{name}: {ann}` in the class body",
            )
        hint = ann or ("List[...]" if t.kind == A.EMPTY_LIST else "Dict[..., ...]")
        msg = self.message.format(name=name, what=what, ann=hint)
        if t.init_annotation:
            msg += " (annotations on `self.x` in `__init__` are ignored by the compiler)"
        self.report(node, msg, fix)
