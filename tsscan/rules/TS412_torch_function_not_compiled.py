import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import Example, Rule

# TS421's packages (its own message) and with-items (TS123's)
_OTHERS = ("torch.distributed.", "torch.onnx.")


class TorchFunctionNotCompiled(Rule):
    """A call of a `torch` function that TorchScript does not compile.

    What it does:
        Flags calls in compiled code of `torch.*` and `torch.nn.functional.*` functions that
        the generated knowledge table for the target torch version marks as not compiling:
        functions that map to an operator with no schema (`torch.is_tensor`, `torch.finfo`,
        `torch.get_default_dtype`, `torch.unravel_index`, `torch.from_numpy`,
        `torch.asarray`, ...) and Python functions of torch whose source does not compile
        (`torch.cond`, `F.gaussian_nll_loss`, ...), however they are imported
        (`from torch import is_tensor`). Classes (`torch.FloatTensor(...)`, TS403),
        `torch.distributed`/`torch.onnx` (TS421) and `with` items (TS123) are left to their
        rules.

    Why is this bad:
        The compiler stops at the call: "Unknown builtin op: aten::is_tensor" (measured with
        torch 2.13 for each of the examples above). The eager code runs, and a test that only
        runs it never sees it.

    Example:
        def forward(self, x):
            if torch.is_tensor(x):
                return x * 2
            return x

    Use instead:
        Annotate the parameter (`x: torch.Tensor`, or a `Union` refined with `isinstance`),
        read dtype facts in `__init__` and store them, or guard the call with
        `if not torch.jit.is_scripting():`.
    """

    code = "TS412"
    needs = HOOKS
    name = "torch-function-not-compiled"
    message = '`{name}()` is not compiled by TorchScript (the compiler will say "Unknown builtin op" or fail inside it); compute it outside the compiled code or guard it with `if not torch.jit.is_scripting():`'
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Double(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_tensor(x):
            return x * 2
        return x
"""
        ),
        Example(
            """
import torch
from torch import is_tensor, nn


class Double(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not is_tensor(x):
            return x
        return x * 2
"""
        ),
        Example(
            """
import torch
from torch import nn


class Clamp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(min=torch.finfo(x.dtype).eps)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Clamp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.eps = torch.finfo(torch.float32).eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if torch.is_tensor(x):
                x = x * 1
        with torch.no_grad():
            y = torch.zeros_like(x)
        return x.clamp(min=self.eps) + y
"""
        ),
    ]

    def on_function(self) -> None:
        self._with_items: set[int] = set()

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._with_items.add(id(node.item))

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self._with_items:
            return
        qual = self.ctx.qualname(node.func) or ""
        if not qual.startswith("torch.") or qual.startswith(_OTHERS):
            return
        if qual.rsplit(".", 1)[-1][:1].isupper():
            return  # a class
        head = node.func
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value not in self.ctx.module.aliases:
            return
        if head.value in self.ctx.local_names or self.ctx.knowledge.function_compiles(qual) is not False:
            return
        self.report(node, self.message.format(name=qual))
