import re

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix
from tsscan.rules._calls_support import CallCheckRule
from tsscan.semantic.annotations import annotated_param, param_list, spelled, split_type_args
from tsscan.semantic.calls import Callee, Verdict


class CallArgumentType(CallCheckRule):
    """An argument whose type the callee's TorchScript signature does not take.

    What it does:
        Checks each call in compiled code against the signatures the compiler checks it
        against: `torch.*` and `torch.nn.functional.*` functions and Tensor methods (the
        generated tables' overloads), functions of the same file, methods of the class and the
        `forward` of submodules whose class is in the file, and, through the package index,
        functions imported from other files of the package, the `forward` of submodules whose
        class is imported, and methods inherited from a base class of another file (from their
        annotations; a parameter without one is a Tensor; the finding names the callee's file
        and line). An argument is judged only when the model is sure of its
        type: literals, annotated or unannotated (Tensor) parameters, attributes typed at
        construction, values the expression typer types. When no signature takes the call,
        it reports what the compiler will say.

    Why is this bad:
        TorchScript converts a value to a parameter's type only from a Tensor, a number or a
        bool, and only to `int`, `float` or a Scalar. An int is never made a float:
        `F.normalize(x, p=2)` fails ("Expected a value of type 'float' for argument 'p' but
        instead found type 'int'"), and so do `F.interpolate(x, scale_factor=2)`,
        `F.pad(x, pad, value=0)` and `F.dropout(x, p=self.p)` with `self.p = 0`. An
        unannotated parameter is a Tensor: passed as `device=` it fails, passed as `dtype=`
        it is converted. `None` or an `Optional[Tensor]` never passes for a Tensor, a
        `Union` value never passes for one of its members, a list of Tensors never passes for
        a `List[int]`. What was measured, per kind of callee, is the table in
        `tsscan/semantic/calls.py` (`scripts/measure_call_conversions.py` measures it again).

    Example:
        def forward(self, x):
            return F.normalize(x, p=2, dim=1)

    Use instead:
        def forward(self, x):
            return F.normalize(x, p=2.0, dim=1)

    Fix:
        An int literal passed by keyword where a torch function or Tensor method takes a
        `float` (`F.interpolate(x, scale_factor=2)`, smp's DPT decoder) is written as a float
        (`2.0`). SAFE: eager torch converts the int to the same float.

        A name typed `Union[int, Tuple[int, int]]` (timm's `_int_tuple_2_t`) passed as the
        size of a torch pooling or convolution function (`F.adaptive_avg_pool2d(x,
        output_size)`; `output_size`, `kernel_size`, `stride`, `padding`, `dilation` of
        `*_pool{n}d`, `lp_pool{n}d`, `conv{n}d`, `conv_transpose{n}d`) becomes `(output_size,
        output_size) if isinstance(output_size, int) else output_size`: the compiler narrows
        the Union in each arm, and both are a tuple of two ints. SAFE: such a function takes
        one int as that int repeated once per spatial dimension, the tuple the fix passes;
        offered only when the Union's tuple has that many ints. Not for other `List[int]`
        parameters, where one int means something else (`torch.zeros(n)`, `F.pad(x, p)`).

        A value passed to an unannotated parameter (a Tensor to the compiler) of a function or
        method of the same file: that parameter, in the callee, is annotated with the value's
        type, when the model is sure of it and it can be written (`int`, `float`, `bool`,
        `str`, Tensors, and `List`/`Tuple`/`Dict`/`Optional` of them): `height: int` for
        `self.maybe_pad(x, height, width)` with int sizes; `Optional[torch.Tensor]` for `None`
        or an `Optional[Tensor]`, only where the callee tests the parameter against None (`if
        mask is not None:`); `torch.dtype` for a dtype (an int to the compiler). Not, except the
        Optional, for a function that another file's compiled code calls too (its calls are
        not seen here). SAFE: an annotation changes nothing in eager Python. The compiler then
        checks the callee and every class of the file that compiles it; a class that calls it
        with another type makes `--fix` revert it.

        An unannotated parameter of the function passed as the `device` of a torch function:
        annotated `torch.device` (`Optional[torch.device]` with a None default; none with a
        `"cpu"` default). SAFE: an annotation changes nothing in eager Python.
    """

    code = "TS410"
    needs = Needs(nodes={"Call"})
    name = "call-argument-type"
    message = "the callee does not take an argument of this type in TorchScript"
    level = "type"
    verdict_kind = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


def positions(n: int, device):
    return torch.arange(n, device=device)


class Pos(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + positions(x.shape[-1], x.device)
""",
            fixed="""
import torch
from torch import nn


def positions(n: int, device: torch.device):
    return torch.arange(n, device=device)


class Pos(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + positions(x.shape[-1], x.device)
""",
            inputs="[(torch.randn(2, 3),)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import Optional

import torch
from torch import nn


def masked(x, mask):
    if mask is not None:
        x = x * mask
    return x


class Block(nn.Module):
    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        return masked(x, mask) + masked(x, None)
""",
            fixed="""
from typing import Optional

import torch
from torch import nn


def masked(x, mask: Optional[torch.Tensor]):
    if mask is not None:
        x = x * mask
    return x


class Block(nn.Module):
    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        return masked(x, mask) + masked(x, None)
""",
            inputs="[(torch.randn(2, 3),), (torch.randn(2, 3), torch.tensor([[1.0, 0.0, float('nan')], [2.0, -1.0, 0.0]]))]",
            fix=SAFE,
        ),
        Example(
            """
import torch
import torch.nn.functional as F
from torch import nn


class Embed(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, p=2, dim=1)
""",
            fixed="""
import torch
import torch.nn.functional as F
from torch import nn


class Embed(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, p=2.0, dim=1)
""",
            inputs="[(torch.randn(2, 3),), (torch.tensor([[1.0, float('nan'), -2.0], [0.0, 0.0, 0.0]]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
import torch.nn.functional as F
from torch import nn


class Up(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest")
""",
            fixed="""
import torch
import torch.nn.functional as F
from torch import nn


class Up(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2.0, mode="nearest")
""",
            inputs="[(torch.randn(2, 3, 4, 4),), (torch.tensor([[[[1.0, float('nan')], [-2.0, 0.0]]]]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


def causal_mask(n: int, dtype, device):
    return torch.full((n, n), float("-inf"), dtype=dtype, device=device)


class Mask(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + causal_mask(x.shape[-1], x.dtype, x.device)
""",
            fixed="""
import torch
from torch import nn


def causal_mask(n: int, dtype: torch.dtype, device: torch.device):
    return torch.full((n, n), float("-inf"), dtype=dtype, device=device)


class Mask(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + causal_mask(x.shape[-1], x.dtype, x.device)
""",
            inputs="[(torch.randn(2, 3),)]",
            fix=SAFE,
        ),
        Example(
            """
import math

import torch
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, scale: float = 1.0) -> torch.Tensor:
    freqs = torch.exp(-math.log(10000.0) * torch.arange(dim // 2) / (dim // 2))
    return scale * t[:, None] * freqs[None]


class Timesteps(nn.Module):
    def __init__(self, dim: int = 8, scale: int = 1) -> None:
        super().__init__()
        self.dim = dim
        self.scale = scale

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return timestep_embedding(t, self.dim, scale=self.scale)
"""
        ),
        Example(
            """
from typing import Optional

import torch
from torch import nn


class Block(nn.Module):
    def shift(self, x: torch.Tensor, by: torch.Tensor) -> torch.Tensor:
        return x + by

    def forward(self, x: torch.Tensor, emb: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.shift(x, emb)
"""
        ),
        Example(
            """
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

size_2_t = Union[int, Tuple[int, int]]


def avg_max_pool(x: torch.Tensor, output_size: size_2_t = 1) -> torch.Tensor:
    return F.adaptive_avg_pool2d(x, output_size) + F.adaptive_max_pool2d(x, output_size)


class Pool(nn.Module):
    def __init__(self, output_size: size_2_t = 2) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return avg_max_pool(x, self.output_size)
""",
            fixed="""
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

size_2_t = Union[int, Tuple[int, int]]


def avg_max_pool(x: torch.Tensor, output_size: size_2_t = 1) -> torch.Tensor:
    return F.adaptive_avg_pool2d(x, (output_size, output_size) if isinstance(output_size, int) else output_size) + F.adaptive_max_pool2d(x, (output_size, output_size) if isinstance(output_size, int) else output_size)


class Pool(nn.Module):
    def __init__(self, output_size: size_2_t = 2) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return avg_max_pool(x, self.output_size)
""",
            inputs="[(torch.randn(2, 3, 5, 7),), (torch.tensor([[[[1.0, float('nan'), -2.0], [0.0, float('inf'), 3.0]]]]),)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import Tuple, Union

import torch
from torch import nn

size_2_t = Union[int, Tuple[int, int]]


def grid(x: torch.Tensor, size: size_2_t = 3) -> torch.Tensor:
    return x.new_zeros(size)


class Grid(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grid(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class LayerDrop(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and torch.rand([]) < 0.5:
            return x
        return x * torch.ones([]) + torch.zeros([], dtype=x.dtype)
"""
        ),
        Example(
            """
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn


def causal_mask(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.full((n, n), float("-inf"), dtype=dtype, device=device)


def scaled(x: torch.Tensor, scale: float = 1.0, sizes: Optional[List[int]] = None) -> torch.Tensor:
    return x * scale


class Block(nn.Module):
    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.p = p

    def shift(self, x: torch.Tensor, by: torch.Tensor) -> torch.Tensor:
        return x + by

    def forward(self, x: torch.Tensor, emb: Optional[torch.Tensor] = None) -> torch.Tensor:
        y = F.normalize(x, p=2.0, dim=1) + F.dropout(x, p=self.p, training=self.training)
        y = y + F.interpolate(x, scale_factor=2.0)[:, :, :1, :1] + F.pad(x, (1, 1), value=0.0)[..., 1:-1]
        y = y + causal_mask(x.shape[-1], x.dtype, x.device)[0] + scaled(x, True) + scaled(x, x.sum())
        if emb is not None:
            y = self.shift(y, emb)
        z = torch.zeros((2, 3), dtype=y.dtype).view(x.size(0) * 0 + 6, 1)
        return y + x.view(x.size(0), -1).sum() + z.sum() + torch.roll(x, shifts=1, dims=0)
"""
        ),
        Example(
            """
from typing import List, Optional

import torch
from torch import Tensor, nn


def perspective(img: Tensor, fill: Optional[List[float]] = None) -> Tensor:
    return img


class RandomPerspective(nn.Module):
    def __init__(self, fill=0):
        super().__init__()
        self.fill = fill

    def forward(self, img):
        fill = self.fill
        if isinstance(img, Tensor):
            if isinstance(fill, (int, float)):
                fill = [float(fill)] * 3
            else:
                fill = [float(f) for f in fill]
        return perspective(img, fill)
"""
        ),
    ]

    def wanted(self, verdict: Verdict, callee: Callee) -> bool:
        r = verdict.reason
        # a Tensor where a torch function takes a list of tensors: TS409's (it names the fix)
        return not (
            not callee.user and r.found == "Tensor" and r.expected.startswith("List[") and "Tensor" in r.expected
        )

    def fix(
        self,
        verdict: Verdict,
        callee: Callee,
        named: dict[str, cst.BaseExpression],
        positional: list[cst.BaseExpression],
    ) -> Fix | None:
        r = verdict.reason
        expected = _unoptional(r.expected)
        if r.param in named:
            arg: cst.BaseExpression | None = named[r.param]
        else:
            index = r.position - (1 if callee.method else 0)
            arg = positional[index] if 0 <= index < len(positional) else None
        if arg is None:
            return None
        if callee.user:
            return self._callee_parameter(verdict, callee, arg)
        if expected == "Device" and r.found == "Tensor":
            return self._device_parameter(arg)
        if expected == "List[int]":
            return _int_or_tuple_fix(arg, r.found, r.param, callee.shown)
        if r.param not in named or r.found != "int" or expected not in ("float", "List[float]"):
            return None
        # an int literal passed by keyword where a torch function takes a float
        number = arg.expression if isinstance(arg, cst.UnaryOperation) else arg
        if not isinstance(number, cst.Integer) or not number.value.isdigit():
            return None
        return Fix(
            replacements=[(number, cst.Float(value=f"{int(number.value)}.0"))],
            safety=SAFE,
            description=f"pass `{r.param}` as a float",
        )

    def _device_parameter(self, arg: cst.BaseExpression) -> Fix | None:
        """An unannotated parameter of the function (a Tensor to the compiler) passed as the
        ``device`` of a torch function: annotated ``torch.device`` (``Optional[torch.device]``
        with a None default, which the torch function takes as it is)."""
        param = _unannotated(self.ctx.function_node, arg.value) if isinstance(arg, cst.Name) else None
        if param is None:
            return None
        if param.default is None:
            ann, imports = "torch.device", ["import torch"]
        elif _is_none(param.default):
            ann, imports = "Optional[torch.device]", ["from typing import Optional", "import torch"]
        else:
            return None  # `device="cpu"`: a str default the annotation would not take
        return Fix(
            replacements=[(param, annotated_param(param, ann))],
            imports=imports,
            safety=SAFE,
            description=f"annotate `{param.name.value}` `{ann}`",
        )

    def _callee_parameter(self, verdict: Verdict, callee: Callee, arg: cst.BaseExpression) -> Fix | None:
        """A value of a type the model is sure of passed to an unannotated parameter (typed
        Tensor) of a function or method of the file: that parameter annotated with the type, in
        the callee (``Optional[torch.Tensor]`` for None). An Optional only where the callee
        tests the parameter against None; another type than a Tensor's Optional only where the
        callee is not also compiled from another file, whose calls this file's compile does not see."""
        r = verdict.reason
        if r.param not in callee.inferred:
            return None
        wanted = "Optional[Tensor]" if r.found in ("None", "NoneType") else r.found
        if re.search(r"\bNone\b", wanted):
            return None  # (no `Tuple[int, None]`)
        if "int" in wanted and (_dtype_like(arg) or "dtype" in r.param):
            # a dtype is an int to the compiler, and takes a `torch.dtype` annotation
            if wanted not in ("int", "Optional[int]"):
                return None
            wanted = wanted.replace("int", "dtype")
        fn = self.ctx.compiled_node(callee.node)
        if fn is None or callee.node is None or not re.fullmatch(r"[\w\[\], ]+", wanted):
            return None  # (no `Tuple[int, ...]`)
        param = _unannotated(fn, r.param)
        if param is None:
            return None
        if _is_none(param.default) and not wanted.startswith("Optional["):
            wanted = f"Optional[{wanted}]"
        if wanted.startswith("Optional[") and r.param not in self.ctx.refined_names_in(fn):
            return None
        if wanted != "Optional[Tensor]" and self.ctx.compiled_from_another_file(callee.node):
            return None
        found = spelled(wanted, "torch.", _TORCH_WORDS)
        if found is None:
            return None
        ann, imports = found
        if "torch." in ann:
            imports.append("import torch")
        return Fix(
            replacements=[(param, annotated_param(param, ann))],
            imports=imports,
            safety=SAFE,
            description=f"annotate `{r.param}` of `{fn.name.value}` (line {callee.node.lineno}) `{ann}`",
        )

    def hint(self, verdict: Verdict) -> str:
        r = verdict.reason
        expected = _unoptional(r.expected)
        if r.found == "int" and (expected == "float" or expected == "List[float]"):
            return "; an int is never converted to a float: pass a float (`2.0`, `float(n)`)"
        if r.found.startswith("Optional[") or r.found == "None":
            return "; refine the value first (`if v is not None:` or `assert v is not None`)"
        if r.found == "Tensor" and expected == "Device":
            return "; the unannotated parameter is typed Tensor: annotate it `torch.device`"
        if r.found.startswith("Union["):
            return "; a Union value is not converted: narrow it with `isinstance` first"
        return ""


def _unannotated(fn: cst.FunctionDef, name: str) -> cst.Param | None:
    """The parameter ``name`` of ``fn`` if it has no annotation and is not ``*args``/``**kwargs``."""
    param = next((p for p in param_list(fn) if p.name.value == name), None)
    return param if param is not None and param.annotation is None and not param.star else None


def _is_none(default: cst.BaseExpression | None) -> bool:
    return isinstance(default, cst.Name) and default.value == "None"


def _dtype_like(arg: cst.BaseExpression) -> bool:
    """``x.dtype`` or ``torch.<name>`` (``torch.float32``): a value the compiler types int."""
    return isinstance(arg, cst.Attribute) and (
        arg.attr.value == "dtype" or (isinstance(arg.value, cst.Name) and arg.value.value == "torch")
    )


# the torch types a parameter is annotated with from the type of an argument
_TORCH_WORDS = frozenset({"Tensor", "Device", "dtype"})


def _unoptional(t: str) -> str:
    return t.removeprefix("Optional[").removesuffix("]") if t.startswith("Optional[") else t


# torch functions whose size parameters take one int as that int repeated once per spatial
# dimension (``int[n]``, n the name's digit); ``torch.zeros(n)`` or ``F.pad(x, p)`` do not
_BROADCAST_FUNCTION = re.compile(
    r"(?:adaptive_)?(?:avg|max)_pool(\d)d(?:_with_indices)?|lp_pool(\d)d|conv(?:_transpose)?(\d)d"
)
_BROADCAST_PARAMS = frozenset({"output_size", "kernel_size", "stride", "padding", "dilation"})


def _int_or_tuple_fix(arg: cst.BaseExpression, found: str, param: str, shown: str) -> Fix | None:
    """A name typed ``Union[int, Tuple[int, ...]]`` (a tuple of n ints) passed where a torch
    pooling or convolution function takes an ``int[n]`` size: ``(a, a) if isinstance(a, int)
    else a``, a tuple of n ints either way, which is what the function makes of one int."""
    function = _BROADCAST_FUNCTION.fullmatch(shown.rsplit(".", 1)[-1])
    if function is None or param not in _BROADCAST_PARAMS:
        return None
    dims = int(next(g for g in function.groups() if g))
    if not isinstance(arg, cst.Name) or not found.startswith("Union["):
        return None
    members = split_type_args(found) or []
    tuples = [m for m in members if m != "int"]
    if len(members) != 2 or "int" not in members or len(tuples) != 1 or not tuples[0].startswith("Tuple["):
        return None
    items = split_type_args(tuples[0]) or []
    if len(items) != dims or any(t != "int" for t in items):
        return None
    name = arg.value
    new = cst.IfExp(
        test=cst.Call(cst.Name("isinstance"), [cst.Arg(cst.Name(name)), cst.Arg(cst.Name("int"))]),
        body=cst.Tuple([cst.Element(cst.Name(name)) for _ in items]),
        orelse=cst.Name(name),
    )
    return Fix(
        replacements=[(arg, new)],
        safety=SAFE,
        description=f"pass `{param}` as a tuple of {len(items)} ints (what the function makes of one int)",
    )
