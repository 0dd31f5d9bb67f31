import libcst as cst

from tsscan.rule import Example, Rule

# measured with torch 2.13: every function of these packages that compiled code calls fails
# (`is_initialized`, `is_available`, `get_rank`, `get_world_size`, `all_reduce`,
# `nn.all_gather`, `onnx.is_in_onnx_export`, `onnx.is_onnx_log_enabled`,
# `onnx.operators.shape_as_tensor`); the generated table does not list them
_PACKAGES = ("torch.distributed.", "torch.onnx.")


class DistributedOnnxCall(Rule):
    """A call of `torch.distributed.*` or `torch.onnx.*` in compiled code.

    What it does:
        Flags calls of functions of `torch.distributed` (`is_initialized()`,
        `get_world_size()`, `all_reduce(...)`, ...) and `torch.onnx` (`is_in_onnx_export()`,
        ...) in compiled code, however they are imported, unless the generated table says
        TorchScript compiles them. Calls under `if not torch.jit.is_scripting():` are fine.

    Why is this bad:
        TorchScript compiles neither package: "Tried to lookup unknown attribute on class
        ...GroupMember" (`torch.distributed.is_initialized()`), "attribute lookup is not
        defined on python value of type 'module'" (through `import torch.distributed as
        dist`), "import statements aren't supported" (inside `torch.onnx.is_in_onnx_export`).

    Example:
        if torch.distributed.is_initialized():
            x = gather(x)

    Use instead:
        Decide in `__init__` and keep a flag, or guard the call with
        `if not torch.jit.is_scripting():`.
    """

    code = "TS421"
    name = "distributed-onnx-call"
    message = "`{name}()` cannot be compiled by TorchScript; decide outside the compiled code or guard it with `if not torch.jit.is_scripting():`"
    level = "type"

    invalid = [
        Example(
            """
import torch


class Sync(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.distributed.is_initialized():
            return x
        return x + 1
"""
        ),
        Example(
            """
import torch


class Export(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            return x
        return x * 2
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


class Sync(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.distributed = torch.distributed.is_available() and torch.distributed.is_initialized()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if torch.onnx.is_in_onnx_export():
                return x
        if self.distributed:
            return x
        return x + 1
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.qualname(node.func) or ""
        if not qual.startswith(_PACKAGES):
            return
        head = node.func
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value not in self.ctx.module.aliases:
            return
        if head.value in self.ctx.local_names or self.ctx.knowledge.function_compiles(qual):
            return
        self.report(node, self.message.format(name=qual))
