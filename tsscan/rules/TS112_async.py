import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule


class AsyncCode(Rule):
    """`async def`, `await`, `async for` and `async with` in compiled code.

    What it does:
        Flags coroutine functions that `torch.jit.script` is asked to compile, and `await`,
        `async for` and `async with` inside compiled code.

    Why is this bad:
        TorchScript cannot compile coroutines; `torch.jit.script` on an `async def` fails
        before compiling anything ("Expected a single top-level function").

    Example:
        @torch.jit.script
        async def double(x: torch.Tensor) -> torch.Tensor:
            return x * 2

    Use instead:
        A plain `def`. For parallelism inside TorchScript, `torch.jit.fork` and
        `torch.jit.wait`.
    """

    code = "TS112"
    needs = Needs(nodes={"AsyncFunctionDef", "Await", "AsyncFor", "AsyncWith"})
    name = "async"
    message = "async code is not supported by TorchScript; use a plain def (torch.jit.fork/wait for parallelism)"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
async def double(x: torch.Tensor) -> torch.Tensor:
    return x * 2
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


def double(x: torch.Tensor) -> torch.Tensor:
    return x * 2


@torch.jit.script
def both(x: torch.Tensor) -> torch.Tensor:
    fut = torch.jit.fork(double, x)
    return torch.jit.wait(fut) + x
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self._depth == 1 and node.asynchronous is not None:
            self.report(node)  # nested (async) defs are reported by TS108

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_Await(self, node: cst.Await) -> None:
        self.report(node)

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self.report(node)

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:
            self.report(node)
