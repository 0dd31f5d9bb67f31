import ast

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule
from tsscan.semantic import astwalk
from tsscan.semantic.module import ModuleInfo

_MATH_CONSTANTS = {"pi", "e", "inf", "nan", "tau"}
_TORCH_DTYPES = {
    "float",
    "float32",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "uint8",
    "bool",
    "complex64",
    "cfloat",
    "complex128",
    "cdouble",
}
_VALUE_BUILTINS = {
    "int",
    "float",
    "str",
    "bool",
    "tuple",
    "list",
    "dict",
    "set",
    "frozenset",
    "len",
    "abs",
    "round",
    "min",
    "max",
    "sum",
    "sorted",
}


_DEBUG = (
    "`__debug__` cannot be read in TorchScript (a Python bool it does not capture); decide outside the compiled code"
)


class ModuleGlobalValue(Rule):
    """A module-level variable read in compiled code (`SCALE = 2` ... `x * SCALE`).

    What it does:
        Flags names in compiled code that refer to a module-level variable holding a value:
        a number, string, bool, `None`, tuple, list, dict, a dtype or device, a tensor, or an
        expression of those (`math.pi` assigned to a name counts too), also when it is bound
        inside a top-level `try`/`if` (`try: import x; has_x = True` / `except ImportError:
        has_x = False`); the builtin `__debug__`; a `Logger` (`logging.getLogger(...)`) or a
        torch flag (`torch.backends.mkldnn.is_available()`); and constants imported by name
        (`from math import pi`, `from torch import float32`). Module-level functions, classes
        and imported modules are fine, and so is `math.pi` written in place.

    Why is this bad:
        TorchScript does not capture global variables: "python value of type 'int' cannot be
        used as a value. Perhaps it is a closed over global variable?". Only attributes of
        modules (`math.pi`, `torch.float32`) are read as constants.

    Example:
        SCALE = 2.0

        def forward(self, x):
            return x * SCALE

    Use instead:
        Pass it as an argument with a default (`def forward(self, x, scale: float = SCALE)`),
        or store it on the module in `__init__` (`self.scale = SCALE`), declared `Final` or
        listed in `__constants__` if it never changes.

    Fix:
        A constant bound once in the file to a literal (a number, string, bool, `None`, a
        negated number, or a tuple of those) and bound nowhere else (no `global`, no local of
        the same name) is written in place: `masked_fill(m, _MASK_VALUE)` becomes
        `masked_fill(m, -10000.0)`. SAFE for a private name (`_MASK_VALUE`); UNSAFE for a
        public one, which another module may rebind at run time (eager code would then see
        the new value, the inlined literal would not).
    """

    code = "TS511"
    needs = Needs(nodes={"ModuleValue"})
    name = "module-global-value"
    message = "module-level variable `{name}` cannot be read in TorchScript; pass it in as an argument or store it on the module"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch

SCALE = 2.0


@torch.jit.script
def scale(x: torch.Tensor) -> torch.Tensor:
    return x * SCALE
""",
            fixed="""
import torch

SCALE = 2.0


@torch.jit.script
def scale(x: torch.Tensor) -> torch.Tensor:
    return x * 2.0
""",
            inputs="[(torch.tensor([1.0, -2.0, float('nan')]),), (torch.zeros(0),)]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch
from torch import nn

_MASK_VALUE = -1e4


class TwoWayLoss(nn.Module):
    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return x.masked_fill(~pos, _MASK_VALUE).logsumexp(dim=-1)
""",
            fixed="""
import torch
from torch import nn

_MASK_VALUE = -1e4


class TwoWayLoss(nn.Module):
    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return x.masked_fill(~pos, -10000.0).logsumexp(dim=-1)
""",
            inputs="[(torch.randn(2, 5), torch.rand(2, 5) > 0.5), (torch.tensor([[float('nan'), 1.0]]), torch.tensor([[True, False]]))]",
            fix=SAFE,
        ),
        Example(
            """
from math import pi

import torch


@torch.jit.script
def scale(x: torch.Tensor) -> torch.Tensor:
    return x * pi
"""
        ),
        Example(
            """
import logging

import torch
from torch import nn

logger = logging.getLogger(__name__)


class Noisy(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logger.info("forward")
        return x
"""
        ),
        Example(
            """
import torch

try:
    import torch.distributed.nn

    has_distributed = True
except ImportError:
    has_distributed = False


class Gather(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert has_distributed, "torch.distributed did not import"
        return x
"""
        ),
        Example(
            """
import torch
from torch import nn

_MKLDNN = torch.backends.mkldnn.is_available()


class Pick(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _MKLDNN:
            return x * 2
        return x
"""
        ),
        Example(
            """
import torch


class Check(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not __debug__:
            return x
        return x.clamp(min=0.0)
"""
        ),
    ]
    valid = [
        Example(
            """
import math
from math import inf

import torch
import torch.nn.functional as F
from typing import Tuple

SCALE = 2.0
Pair = Tuple[int, int]
act = F.relu


def helper(x: torch.Tensor) -> torch.Tensor:
    return x * math.pi


@torch.jit.script
def scale(x: torch.Tensor, k: float = SCALE) -> torch.Tensor:
    p: Pair = (1, 2)
    return act(helper(x)).clamp(max=inf) * k + p[0]
"""
        ),
    ]

    def on_function(self) -> None:
        self._skip_depth = 0
        self._skip_ids: set[int] = set()
        self._arg_values: set[int] = set()  # a literal written there needs no parentheses

    # subtrees that are not compiled as expressions
    def visit_Parameters(self, node: cst.Parameters) -> None:
        self._skip_depth += 1

    def leave_Parameters(self, node: cst.Parameters) -> None:
        self._skip_depth -= 1

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._skip_depth += 1

    def leave_Annotation(self, node: cst.Annotation) -> None:
        self._skip_depth -= 1

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._skip_depth += 1

    def leave_Decorator(self, node: cst.Decorator) -> None:
        self._skip_depth -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip_ids.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        self._arg_values.add(id(node.value))
        if node.keyword is not None:
            self._skip_ids.add(id(node.keyword))

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._skip_ids.add(id(item.name))

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.qualname(node.func)
        # type expressions: isinstance(x, T), torch.jit.annotate(T, v)
        if qual == "isinstance" and len(node.args) == 2:
            self._skip_ids.add(id(node.args[1].value))
        elif qual == "torch.jit.annotate" and node.args:
            self._skip_ids.add(id(node.args[0].value))

    def visit_Name(self, node: cst.Name) -> None:
        if self._skip_depth or id(node) in self._skip_ids:
            return
        name = node.value
        mod = self.ctx.module
        if name == "__debug__" and name not in self.ctx.local_names:
            self.report(node, _DEBUG)
            return
        if name in mod.aliases and name not in mod.globals and name not in self.ctx.local_names:
            if self._imported_value(mod.aliases[name]):
                self.report(node, self.message.format(name=name))
            return
        if name not in mod.globals or name in mod.functions or name in mod.classes or name in mod.aliases:
            return
        if name in self.ctx.local_names:
            return
        if self._is_value(name, set()):
            self.report(
                node, self.message.format(name=name), _inline_fix(self.ctx.module, node, id(node) in self._arg_values)
            )

    @staticmethod
    def _imported_value(origin: str) -> bool:
        """``from math import pi`` / ``from torch import float32``: a constant imported by name is
        a Python value (measured; ``inf`` alone is known to the compiler)."""
        head, _, attr = origin.rpartition(".")
        return (head == "math" and attr in _MATH_CONSTANTS - {"inf"}) or (head == "torch" and attr in _TORCH_DTYPES)

    def _is_value(self, name: str, seen: set[str]) -> bool:
        stmt = self.ctx.module.globals.get(name)
        if stmt is None or name in seen:
            return False
        value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
        if value is None:
            return False
        return self._value(value, seen | {name})

    def _value(self, e: ast.expr | None, seen: set[str]) -> bool:
        mod = self.ctx.module
        if e is None:
            return False
        if isinstance(e, (ast.Constant, ast.JoinedStr)):
            return True
        if isinstance(e, (ast.List, ast.Tuple, ast.Set)):
            return all(self._value(x, seen) for x in e.elts) if e.elts else True
        if isinstance(e, ast.Dict):
            return True
        if isinstance(e, (ast.ListComp, ast.SetComp, ast.DictComp)):
            return True
        if isinstance(e, ast.UnaryOp):
            return self._value(e.operand, seen)
        if isinstance(e, ast.BinOp):
            return self._value(e.left, seen) and self._value(e.right, seen)
        if isinstance(e, ast.Name):
            if e.id in mod.functions or e.id in mod.classes or e.id in mod.aliases:
                return False
            return self._is_value(e.id, seen)
        if isinstance(e, ast.Attribute):
            qual = mod.resolve_node(e) or ""
            head, _, attr = qual.rpartition(".")
            return (head == "math" and attr in _MATH_CONSTANTS) or (head == "torch" and attr in _TORCH_DTYPES)
        if isinstance(e, ast.Call):
            qual = mod.resolve_node(e.func) or ""
            if (
                qual in _VALUE_BUILTINS
                and qual not in mod.functions
                and qual not in mod.classes
                and qual not in mod.aliases
                and qual not in mod.globals
            ):
                return True
            if qual == "torch.device" or qual in ("os.environ.get", "os.getenv"):
                return True
            last = qual.rpartition(".")[2]
            if last in ("getLogger", "get_logger"):
                return True  # a Logger: "attribute lookup is not defined on python value of type 'Logger'"
            if qual.startswith("torch.") and last.startswith(("is_", "has_")):
                return True  # torch.backends.mkldnn.is_available(): a bool
            if qual.startswith("torch.") and self.ctx.knowledge.function_kind(qual) == "builtin":
                return True
        return False


def _literal(e: ast.expr) -> bool:
    if isinstance(e, ast.Constant):
        return not isinstance(e.value, bytes) and e.value is not Ellipsis
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return isinstance(e.operand, ast.Constant) and type(e.operand.value) in (int, float)
    if isinstance(e, ast.Tuple):
        return bool(e.elts) and all(_literal(x) for x in e.elts)
    return False


def _inline_fix(mod: ModuleInfo, node: cst.Name, bare: bool) -> Fix | None:
    """The literal a constant is bound to, in place of its name (see the rule's Fix section)."""
    name = node.value
    stmt = mod.globals.get(name)
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    if value is None or not _literal(value):
        return None
    binds = 0
    for n in astwalk.walk(mod.tree):
        if isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names:
            return None
        if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load):
            binds += 1
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias)):
            if (n.asname or n.name if isinstance(n, ast.alias) else n.name) == name:
                return None
        elif isinstance(n, ast.arg) and n.arg == name:
            return None
    if binds != 1:
        return None
    new = cst.parse_expression(ast.unparse(value))
    if isinstance(value, ast.Tuple) and not new.lpar:
        new = new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    elif isinstance(value, ast.UnaryOp) and not bare:
        new = new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    private = name.startswith("_")
    return Fix(
        replacements=[(node, new)],
        safety=SAFE if private else UNSAFE,
        description=f"write the constant `{name}` in place"
        + ("" if private else " (UNSAFE: another module may rebind a public name at run time)"),
    )
