import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.receivers import torch_prefix

_CPU_TYPES = {
    "FloatTensor": "float",
    "DoubleTensor": "double",
    "HalfTensor": "half",
    "BFloat16Tensor": "bfloat16",
    "ByteTensor": "uint8",
    "CharTensor": "int8",
    "ShortTensor": "short",
    "IntTensor": "int",
    "LongTensor": "long",
    "BoolTensor": "bool",
}


class LegacyTensorType(Rule):
    """`x.type()` without argument, or `x.type(torch.LongTensor)` with a legacy tensor type.

    What it does:
        Flags `.type()` calls on tensors that TorchScript cannot compile: without an argument
        (eager returns a string such as `'torch.FloatTensor'`) and with a legacy tensor-type
        class (`torch.LongTensor`, `torch.cuda.FloatTensor`, ...). `x.type(torch.long)` with a
        dtype is fine.

    Why is this bad:
        TorchScript's `Tensor.type` takes a dtype: "LegacyTypedConstructor cannot be used as a
        value", and without an argument the result is a Tensor, not the type name.

    Example:
        idx = x.type(torch.LongTensor)

    Use instead:
        idx = x.to(torch.long)      # keeps x's device; .type(torch.LongTensor) moved it to the CPU

    Fix:
        `x.type(torch.XTensor)` (a CPU type) becomes `x.to(device="cpu", dtype=torch.<dtype>)`,
        which is exactly what it did, device move included; drop `device="cpu"` if `x` is on
        the CPU anyway. `torch.cuda.*` types and `x.type()` get no fix: `str(x.dtype)` is a
        different string (and in TorchScript an int).
    """

    code = "TS406"
    needs = Needs(calls={"type"})
    name = "legacy-tensor-type"
    message = "`.type({arg})` is not supported by TorchScript; {hint}"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def as_index(x: torch.Tensor) -> torch.Tensor:
    return x.type(torch.LongTensor)
""",
            fixed="""
import torch


@torch.jit.script
def as_index(x: torch.Tensor) -> torch.Tensor:
    return x.to(device="cpu", dtype=torch.long)
""",
            inputs="[(torch.tensor([1.7, -2.5, 0.0]),), (torch.zeros(0),), (torch.tensor([3, -1]),), (torch.tensor([True, False]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def kind(x: torch.Tensor) -> str:
    return x.type()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def as_index(x: torch.Tensor) -> torch.Tensor:
    return x.type(torch.long) + x.to(torch.long)
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "type"):
            return
        if not self.ctx.kinds.can_be_tensor(func.value):
            return
        args = node.args
        if not args:
            self.report(node, self.message.format(arg="", hint="it would not return the type name; use `x.dtype`"))
            return
        first = args[0]
        if first.star or (first.keyword is not None and first.keyword.value != "dtype"):
            return
        qual = self.ctx.qualname(first.value) or ""
        short = qual.rsplit(".", 1)[-1]
        if qual.startswith("torch.cuda.") and short.endswith("Tensor"):
            self.report(node, self.message.format(arg=qual, hint="use `x.to(device=..., dtype=...)`"))
            return
        if qual != f"torch.{short}" or short not in _CPU_TYPES:
            return
        dtype = _CPU_TYPES[short]
        fix = None
        torch_head = torch_prefix(self.ctx, cst.Module(body=[]).code_for_node(first.value))
        if len(args) == 1 and torch_head is not None:
            new = node.with_changes(
                func=func.with_changes(attr=cst.Name("to")),
                args=[
                    cst.Arg(
                        cst.SimpleString('"cpu"'),
                        keyword=cst.Name("device"),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                    ),
                    cst.Arg(
                        cst.parse_expression(f"{torch_head}{dtype}"),
                        keyword=cst.Name("dtype"),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                    ),
                ],
            )
            fix = Fix(replacements=[(node, new)], description=f'use .to(device="cpu", dtype=torch.{dtype})')
        self.report(node, self.message.format(arg=qual, hint=f"use `.to(torch.{dtype})`"), fix)
