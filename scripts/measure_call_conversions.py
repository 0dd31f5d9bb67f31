"""Measure which argument types ``torch.jit.script`` accepts for which parameter types, per kind
of callee: an operator (``aten::``), a Python function torch compiles from source
(``F.normalize``), a function of the user's file, a submodule's ``forward``.

The table this prints is the ground truth of :mod:`tsscan.semantic.calls` (its docstring quotes
it). Run it with the torch to measure::

    .venv/bin/python scripts/measure_call_conversions.py

Each case is one small function scripted on its own; the row says ``ok`` or the compiler's
first line of error.
"""

from __future__ import annotations

import sys
import textwrap
import types

# (what is passed, to what parameter, of which callee) -> source of a scripted function ``f``
# (every case has a module-level ``f``; a ``Mod`` class is scripted when defined)
HEADER = """
from typing import List, Optional, Tuple, Union
import torch
import torch.nn.functional as F
from torch import Tensor, nn

def user_float(x: Tensor, p: float = 1.0) -> Tensor:
    return x * p

def user_int(x: Tensor, n: int = 1) -> Tensor:
    return x * n

def user_opt_float(x: Tensor, p: Optional[float] = None) -> Tensor:
    return x

def user_list_int(x: Tensor, s: List[int]) -> Tensor:
    return x

def user_list_float(x: Tensor, s: List[float]) -> Tensor:
    return x

def user_tensor(x: Tensor, y: Tensor) -> Tensor:
    return x

def user_opt_tensor(x: Tensor, y: Optional[Tensor] = None) -> Tensor:
    return x

def user_untyped(x, y):
    return x

def user_bool(x: Tensor, b: bool) -> Tensor:
    return x

def user_tuple_int(x: Tensor, s: Tuple[int, int]) -> Tensor:
    return x

def user_none_default(x, y=None):
    return x

def user_list_int_first(s: List[int], x: Tensor) -> Tensor:
    return x
"""

CASES: list[tuple[str, str, str, str]] = [
    # (callee kind, parameter type, argument, body of f)
    # ---- float parameters, int argument
    ("aten", "float", "int literal", "def f(x: Tensor): return torch.dropout(x, 0, True)"),
    ("aten", "float", "int variable", "def f(x: Tensor, p: int): return torch.dropout(x, p, True)"),
    ("aten", "float", "int literal (kw)", "def f(x: Tensor): return torch.layer_norm(x, [2], eps=1)"),
    ("aten", "float", "bool", "def f(x: Tensor): return torch.dropout(x, True, True)"),
    ("aten", "float", "Tensor", "def f(x: Tensor, p): return torch.dropout(x, p, True)"),
    ("aten", "float", "number (.item())", "def f(x: Tensor): return torch.dropout(x, x.sum().item(), True)"),
    ("aten method", "float", "int literal", "def f(x: Tensor): return x.renorm(2, 0, 1)"),
    ("aten", "Optional[float]", "int literal", "def f(x: Tensor): return torch.nan_to_num(x, nan=0)"),
    ("aten", "Optional[float]", "float literal", "def f(x: Tensor): return torch.nan_to_num(x, nan=0.0)"),
    ("aten", "Optional[float]", "Tensor", "def f(x: Tensor, v): return torch.nan_to_num(x, nan=v)"),
    ("aten", "number", "int literal", "def f(x: Tensor): return torch.full([2], 1)"),
    ("aten", "number", "bool", "def f(x: Tensor): return torch.full([2], True)"),
    ("aten", "number", "str", "def f(x: Tensor): return torch.full([2], 'a')"),
    ("aten", "Optional[number]", "Tensor", "def f(x: Tensor, v): return torch.clamp(x, min=v)"),
    ("python", "float", "int literal", "def f(x: Tensor): return F.normalize(x, p=2)"),
    ("python", "float", "int literal (positional)", "def f(x: Tensor): return F.normalize(x, 2)"),
    ("python", "float", "int variable", "def f(x: Tensor, p: int): return F.dropout(x, p=p)"),
    ("python", "float", "bool", "def f(x: Tensor): return F.dropout(x, p=True)"),
    ("python", "float", "Tensor", "def f(x: Tensor, p): return F.dropout(x, p=p)"),
    ("python", "float", "number (.item())", "def f(x: Tensor): return F.dropout(x, p=x.sum().item())"),
    ("python", "Optional[float]", "int literal", "def f(x: Tensor): return F.pad(x, [1, 1], value=0)"),
    ("python", "Optional[float]", "float literal", "def f(x: Tensor): return F.pad(x, [1, 1], value=0.0)"),
    ("python", "Optional[float]", "Tensor", "def f(x: Tensor, v): return F.pad(x, [1, 1], value=v)"),
    (
        "python",
        "Optional[List[float]] / Optional[float]",
        "int literal",
        "def f(x: Tensor): return F.interpolate(x, scale_factor=2)",
    ),
    (
        "python",
        "Optional[List[float]] / Optional[float]",
        "float literal",
        "def f(x: Tensor): return F.interpolate(x, scale_factor=2.0)",
    ),
    (
        "python",
        "Optional[List[float]]",
        "Tuple[int, int]",
        "def f(x: Tensor): return F.interpolate(x, scale_factor=(2, 2))",
    ),
    (
        "python",
        "Optional[List[float]]",
        "Tuple[float, float]",
        "def f(x: Tensor): return F.interpolate(x, scale_factor=(2.0, 2.0))",
    ),
    (
        "python",
        "Optional[int] / Optional[List[int]]",
        "Tuple[int, int]",
        "def f(x: Tensor): return F.interpolate(x, size=(2, 2))",
    ),
    ("user", "float", "int literal", "def f(x: Tensor): return user_float(x, 2)"),
    ("user", "float", "int variable", "def f(x: Tensor, n: int): return user_float(x, n)"),
    ("user", "float", "Tensor", "def f(x: Tensor, n): return user_float(x, n)"),
    ("user", "float", "bool", "def f(x: Tensor): return user_float(x, True)"),
    ("user", "float", "number (.item())", "def f(x: Tensor): return user_float(x, x.sum().item())"),
    ("user", "Optional[float]", "int literal", "def f(x: Tensor): return user_opt_float(x, 2)"),
    ("user", "Optional[float]", "float literal", "def f(x: Tensor): return user_opt_float(x, 2.0)"),
    # ---- int parameters
    ("aten", "int", "float literal", "def f(x: Tensor): return x.view(2.0)"),
    ("aten", "int", "bool", "def f(x: Tensor): return x.sum(True)"),
    ("aten", "int", "Tensor", "def f(x: Tensor, n): return x.size(n)"),
    ("aten", "int", "number (.item())", "def f(x: Tensor): return x.size(x.sum().item())"),
    ("aten", "int", "float (int ** int)", "def f(x: Tensor, n: int): return x.size(n ** 2)"),
    ("aten", "List[int] packed", "float", "def f(x: Tensor, n: int): return x.view(n, n / 2)"),
    ("aten", "List[int] packed", "Tensor", "def f(x: Tensor, n): return x.view(n, 2)"),
    ("aten", "List[int] packed", "number", "def f(x: Tensor): return x.view(x.sum().item(), 2)"),
    ("aten", "List[int]", "number", "def f(x: Tensor): return torch.roll(x, shifts=x.sum().item())"),
    ("aten", "List[int]", "int", "def f(x: Tensor): return torch.roll(x, shifts=1)"),
    ("aten", "List[int]", "Tensor", "def f(x: Tensor, n): return torch.roll(x, shifts=n)"),
    ("python", "int", "bool", "def f(x: Tensor): return F.softmax(x, dim=True)"),
    ("python", "int", "Tensor", "def f(x: Tensor, d): return F.softmax(x, dim=d)"),
    ("python", "int", "float", "def f(x: Tensor): return F.softmax(x, dim=1.0)"),
    ("python", "Optional[int]", "Tensor", "def f(x: Tensor, d): return F.softmax(x, dim=d)"),
    ("user", "int", "bool", "def f(x: Tensor): return user_int(x, True)"),
    ("user", "int", "Tensor", "def f(x: Tensor, n): return user_int(x, n)"),
    ("user", "int", "float", "def f(x: Tensor): return user_int(x, 2.0)"),
    ("user", "int", "number (.item())", "def f(x: Tensor): return user_int(x, x.sum().item())"),
    ("user", "bool", "int", "def f(x: Tensor): return user_bool(x, 1)"),
    ("user", "bool", "Tensor", "def f(x: Tensor, b): return user_bool(x, b)"),
    # ---- lists and tuples
    ("aten", "List[int]", "Tuple[int, int]", "def f(x: Tensor): return torch.zeros((2, 3))"),
    ("aten", "List[int]", "Tuple[Tensor, Tensor]", "def f(x: Tensor, a, b): return torch.zeros((a, b))"),
    ("aten", "List[int]", "Tuple[int, Tensor]", "def f(x: Tensor, a): return torch.zeros((2, a))"),
    ("aten", "List[int]", "List[Tensor]", "def f(x: Tensor, a, b): return torch.zeros([a, b])"),
    ("aten", "List[int]", "Tuple[int, float]", "def f(x: Tensor): return torch.zeros((2, 3.0))"),
    ("aten", "List[int]", "int", "def f(x: Tensor): return torch.zeros(2)"),
    (
        "aten",
        "List[int]",
        "Optional[int] in tuple",
        "def f(x: Tensor, a: Optional[int]): return x.new_zeros((2, a, 3))",
    ),
    ("aten", "List[Tensor]", "Tuple[Tensor, Tensor]", "def f(x: Tensor): return torch.cat((x, x))"),
    (
        "aten",
        "List[Tensor]",
        "List[Optional[Tensor]]",
        "def f(x: Tensor, y: Optional[Tensor]): return torch.cat([x, y])",
    ),
    ("aten", "List[Tensor]", "Tensor", "def f(x: Tensor): return torch.cat(x)"),
    ("aten", "List[float] (SymInt?)", "Tuple[int,int]", "def f(x: Tensor): return torch.tensor([1, 2])"),
    ("python", "List[int]", "Tuple[int, int]", "def f(x: Tensor): return F.adaptive_avg_pool2d(x, (2, 2))"),
    ("python", "List[int]", "int", "def f(x: Tensor): return F.adaptive_avg_pool2d(x, 2)"),
    (
        "python",
        "List[int]",
        "Union[Tuple[int,int], int]",
        "def f(x: Tensor, s: Union[Tuple[int, int], int]): return F.adaptive_avg_pool2d(x, s)",
    ),
    ("python", "List[int]", "Tensor", "def f(x: Tensor, s): return F.adaptive_avg_pool2d(x, s)"),
    ("python", "List[int]", "Tuple[int, Tensor]", "def f(x: Tensor, s): return F.adaptive_avg_pool2d(x, (2, s))"),
    ("python", "List[int]", "List[Tensor]", "def f(x: Tensor, s): return F.adaptive_avg_pool2d(x, [2, s])"),
    ("python", "List[int] (pad)", "Tuple[int, int]", "def f(x: Tensor): return F.pad(x, (1, 0))"),
    ("user", "List[int]", "Tuple[int, int]", "def f(x: Tensor): return user_list_int(x, (2, 2))"),
    ("user", "List[int]", "int", "def f(x: Tensor): return user_list_int(x, 2)"),
    ("user", "List[int]", "List[Tensor]", "def f(x: Tensor, a): return user_list_int(x, [a, 2])"),
    ("user", "List[float]", "List[int]", "def f(x: Tensor): return user_list_float(x, [1, 2])"),
    ("user", "List[float]", "Tuple[int, int]", "def f(x: Tensor): return user_list_float(x, (1, 2))"),
    ("user", "Tuple[int, int]", "List[int]", "def f(x: Tensor): return user_tuple_int(x, [1, 2])"),
    ("user", "Tuple[int, int]", "Tuple[Tensor, Tensor]", "def f(x: Tensor, a, b): return user_tuple_int(x, (a, b))"),
    # ---- dtype / device
    ("aten", "ScalarType? dtype", "Tensor", "def f(x: Tensor, dtype): return torch.zeros([2], dtype=dtype)"),
    ("aten", "ScalarType? dtype", "int", "def f(x: Tensor): return torch.zeros([2], dtype=6)"),
    ("aten", "ScalarType? dtype", "x.dtype", "def f(x: Tensor): return torch.zeros([2], dtype=x.dtype)"),
    ("aten", "ScalarType? dtype", "None", "def f(x: Tensor): return torch.zeros([2], dtype=None)"),
    ("aten", "ScalarType? dtype", "str", "def f(x: Tensor): return torch.zeros([2], dtype='float')"),
    ("aten", "Device? device", "Tensor", "def f(x: Tensor, d): return torch.zeros([2], device=d)"),
    ("aten", "Device? device", "str", "def f(x: Tensor): return torch.zeros([2], device='cpu')"),
    ("aten", "Device? device", "int", "def f(x: Tensor): return torch.zeros([2], device=0)"),
    (
        "aten",
        "Device? device",
        "Optional[str]",
        "def f(x: Tensor, d: Optional[str]): return torch.zeros([2], device=d)",
    ),
    ("aten method", "ScalarType dtype (x.to)", "Tensor", "def f(x: Tensor, d): return x.to(d)"),
    ("aten method", "ScalarType dtype", "Tensor", "def f(x: Tensor, d): return x.to(dtype=d)"),
    ("aten method", "Device device", "Tensor", "def f(x: Tensor, d): return x.to(device=d)"),
    ("aten", "Layout? layout", "Tensor", "def f(x: Tensor, d): return torch.zeros([2], layout=d)"),
    # ---- Tensor parameters
    ("aten", "Tensor", "None", "def f(x: Tensor): return torch.relu(None)"),
    ("aten", "Tensor", "Optional[Tensor]", "def f(x: Optional[Tensor]): return torch.relu(x)"),
    ("aten", "Tensor", "int literal", "def f(x: Tensor): return torch.relu(1)"),
    ("aten", "Tensor", "float literal", "def f(x: Tensor): return torch.sigmoid(1.0)"),
    ("aten", "Tensor", "List[int]", "def f(x: Tensor): return torch.relu([1, 2])"),
    ("aten", "Optional[Tensor]", "int literal", "def f(x: Tensor): return torch.conv1d(x, x, 1)"),
    ("python", "Tensor", "None", "def f(x: Tensor): return F.relu(None)"),
    ("python", "Tensor", "Optional[Tensor]", "def f(x: Optional[Tensor]): return F.relu(x)"),
    ("python", "Tensor", "int", "def f(x: Tensor): return F.relu(1)"),
    ("python", "Tensor", "float", "def f(x: Tensor): return F.gelu(1.0)"),
    ("python", "Tensor", "List[Tensor]", "def f(x: Tensor): return F.relu([x])"),
    ("user", "Tensor", "None", "def f(x: Tensor): return user_tensor(x, None)"),
    ("user", "Tensor", "Optional[Tensor]", "def f(x: Tensor, y: Optional[Tensor]): return user_tensor(x, y)"),
    ("user", "Tensor", "int", "def f(x: Tensor): return user_tensor(x, 1)"),
    ("user", "Tensor", "float", "def f(x: Tensor): return user_tensor(x, 1.0)"),
    ("user", "Tensor", "bool", "def f(x: Tensor): return user_tensor(x, True)"),
    ("user", "Tensor", "str", "def f(x: Tensor): return user_tensor(x, 'a')"),
    ("user", "Tensor", "List[int]", "def f(x: Tensor): return user_tensor(x, [1])"),
    ("user", "Tensor", "Tuple[Tensor, Tensor]", "def f(x: Tensor): return user_tensor(x, (x, x))"),
    ("user", "Tensor (unannotated)", "None", "def f(x: Tensor): return user_untyped(x, None)"),
    ("user", "Tensor (unannotated)", "int", "def f(x: Tensor): return user_untyped(x, 1)"),
    ("user", "Tensor (unannotated)", "bool", "def f(x: Tensor): return user_untyped(x, True)"),
    (
        "user",
        "Tensor (unannotated)",
        "Optional[Tensor]",
        "def f(x: Tensor, y: Optional[Tensor]): return user_untyped(x, y)",
    ),
    ("user", "Optional[Tensor]", "int", "def f(x: Tensor): return user_opt_tensor(x, 1)"),
    ("user", "Optional[Tensor]", "None", "def f(x: Tensor): return user_opt_tensor(x, None)"),
    # ---- arity
    ("aten", "arity", "too many positional", "def f(x: Tensor): return torch.relu(x, x)"),
    ("python", "arity", "too many positional", "def f(x: Tensor): return F.relu(x, False, 1)"),
    ("user", "arity", "too many positional", "def f(x: Tensor): return user_tensor(x, x, x)"),
    ("user", "arity", "missing argument", "def f(x: Tensor): return user_tensor(x)"),
    ("user", "arity", "unknown keyword", "def f(x: Tensor): return user_tensor(x, z=x)"),
    ("user", "arity", "keyword given twice", "def f(x: Tensor): return user_tensor(x, x, y=x)"),
    ("aten", "int", "bool (x.size(True))", "def f(x: Tensor): return x.size(True)"),
    ("user", "List[int] (not last)", "int", "def f(x: Tensor): return user_list_int_first(2, x)"),
    ("user", "List[int] (not last)", "Tensor", "def f(x: Tensor, n): return user_list_int_first(n, x)"),
    ("user", "List[int] (last, keyword)", "int", "def f(x: Tensor): return user_list_int(x, s=2)"),
    ("user", "List[int] (last)", "Tensor", "def f(x: Tensor, n): return user_list_int(x, n)"),
    ("user", "unannotated, default None", "None", "def f(x: Tensor): return user_none_default(x, None)"),
    ("user", "unannotated, default None", "Tensor", "def f(x: Tensor): return user_none_default(x, x)"),
    ("user", "unannotated, default None", "int", "def f(x: Tensor): return user_none_default(x, 1)"),
    ("user", "Optional[float]", "bool", "def f(x: Tensor): return user_opt_float(x, True)"),
    ("user", "float", "Optional[float]", "def f(x: Tensor, p: Optional[float]): return user_float(x, p)"),
    (
        "user",
        "Tensor",
        "Optional[Tensor] after assert",
        "def f(x: Tensor, y: Optional[Tensor]):\n    assert y is not None\n    return user_tensor(x, y)",
    ),
    ("python", "Optional[List[float]]", "List[int]", "def f(x: Tensor): return F.interpolate(x, scale_factor=[2, 2])"),
    ("python", "Optional[float]", "int variable", "def f(x: Tensor, s: int): return F.interpolate(x, scale_factor=s)"),
    ("aten", "Tensor", "Parameter attribute", "def f(x: Tensor): return torch.relu(x)"),
    # ---- str
    ("aten", "str", "Tensor", "def f(x: Tensor, m): return torch.div(x, x, rounding_mode=m)"),
    ("python", "str", "Tensor", "def f(x: Tensor, m): return F.pad(x, [1, 1], mode=m)"),
    ("python", "str", "Optional[str]", "def f(x: Tensor, m: Optional[str]): return F.pad(x, [1, 1], mode=m)"),
    ("user", "str", "int", "def f(x: Tensor): return user_float(x, 'a')"),
]

MODULE_CASES: list[tuple[str, str, str, str]] = [
    # submodules' forward (torch.nn modules are compiled from their Python source)
    (
        "submodule torch.nn",
        "arity",
        "too many positional",
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = nn.GroupNorm(2, 4)\n"
        "    def forward(self, x: Tensor, z: Tensor):\n        return self.n(x, z)",
    ),
    (
        "submodule torch.nn",
        "Tensor",
        "None",
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = nn.Linear(2, 4)\n"
        "    def forward(self, x: Tensor):\n        return self.n(None)",
    ),
    (
        "submodule torch.nn",
        "Tensor",
        "Optional[Tensor]",
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = nn.Linear(2, 4)\n"
        "    def forward(self, x: Optional[Tensor]):\n        return self.n(x)",
    ),
    (
        "submodule torch.nn",
        "Tensor",
        "int",
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = nn.SiLU()\n"
        "    def forward(self, x: Tensor):\n        return self.n(1)",
    ),
    (
        "submodule torch.nn",
        "Optional[Tuple[Tensor,Tensor]] (LSTM hx)",
        "Tensor",
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = nn.LSTM(2, 4)\n"
        "    def forward(self, x: Tensor, h):\n        return self.n(x, h)",
    ),
    (
        "submodule user",
        "float",
        "int literal",
        "class Sub(nn.Module):\n    def forward(self, x: Tensor, p: float):\n        return x * p\n"
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = Sub()\n"
        "    def forward(self, x: Tensor):\n        return self.n(x, 2)",
    ),
    (
        "submodule user",
        "arity",
        "too many positional",
        "class Sub(nn.Module):\n    def forward(self, x: Tensor):\n        return x\n"
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = Sub()\n"
        "    def forward(self, x: Tensor):\n        return self.n(x, x)",
    ),
    (
        "submodule user",
        "Tensor (unannotated)",
        "None",
        "class Sub(nn.Module):\n    def forward(self, x, y):\n        return x\n"
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = Sub()\n"
        "    def forward(self, x: Tensor):\n        return self.n(x, None)",
    ),
    (
        "same-class method",
        "float",
        "int literal",
        "class Mod(nn.Module):\n    def g(self, x: Tensor, p: float) -> Tensor:\n        return x * p\n"
        "    def forward(self, x: Tensor):\n        return self.g(x, 2)",
    ),
    (
        "same-class method",
        "float",
        "int attribute (self.p = 2)",
        "class Mod(nn.Module):\n    def __init__(self, p=2):\n        super().__init__()\n        self.p = p\n"
        "    def forward(self, x: Tensor):\n        return F.normalize(x, p=self.p)",
    ),
    (
        "submodule user",
        "unannotated, default None",
        "Tensor",
        "class Sub(nn.Module):\n    def forward(self, x, mask=None):\n        return x\n"
        "class Mod(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = Sub()\n"
        "    def forward(self, x: Tensor):\n        return self.n(x, x)",
    ),
    (
        "same-class method",
        "arity",
        "too many positional",
        "class Mod(nn.Module):\n    def g(self, x: Tensor) -> Tensor:\n        return x\n"
        "    def forward(self, x: Tensor):\n        return self.g(x, x)",
    ),
    (
        "same-class method",
        "Tensor",
        "Optional[Tensor]",
        "class Mod(nn.Module):\n    def g(self, x: Tensor) -> Tensor:\n        return x\n"
        "    def forward(self, x: Optional[Tensor] = None):\n        return self.g(x)",
    ),
]


def _first_error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    keep = [t for t in text if t.startswith(("Expected", "Arguments for call", "Could not", "Keyword", "Argument"))]
    return " / ".join(dict.fromkeys(keep[:3])) if keep else (text[0] if text else type(exc).__name__)


def run_case(body: str, is_module: bool) -> str:
    import torch

    src = HEADER + "\n" + textwrap.dedent(body) + "\n"
    mod = types.ModuleType("case_mod")
    mod.__file__ = "<case>"
    # the compiler reads sources with inspect: register the text as a real file
    import importlib.util
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".py", prefix="tscase_")
    with os.fdopen(fd, "w") as f:
        f.write(src)
    try:
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        try:
            if is_module:
                torch.jit.script(mod.Mod())
            else:
                torch.jit.script(mod.f)
        except Exception as exc:  # noqa: BLE001 - the compiler's verdict is the measurement
            return "FAILS: " + _first_error_line(exc)
        return "ok"
    finally:
        os.unlink(path)


def main() -> None:
    import torch

    print(f"torch {torch.__version__}\n")
    print("| callee | parameter | argument | torch.jit.script |")
    print("|---|---|---|---|")
    for kind, param, arg, body in CASES:
        print(f"| {kind} | {param} | {arg} | {run_case(body, False)} |")
    for kind, param, arg, body in MODULE_CASES:
        print(f"| {kind} | {param} | {arg} | {run_case(body, True)} |")


if __name__ == "__main__":
    main()
