import builtins

import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.excepts import caught_exceptions

_BUILTIN_EXC = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)} - {
    "BaseException",
    "Exception",
    "RuntimeError",
}


class RaiseTypeLost(Rule):
    """Compiled code raises an exception type that the file catches by type.

    What it does:
        Flags `raise ValueError(...)` (any exception type but `Exception`/`RuntimeError`) and
        `assert` in compiled code when the same file catches that type with `except`.

    Why is this bad:
        It scripts, but every exception raised by scripted code reaches Python as
        `torch.jit.Error`, which is not a `ValueError` (nor a subclass of the type raised):
        the `except ValueError:` that handled the eager model no longer catches it.

    Example:
        # compiled
        if x.numel() == 0:
            raise ValueError("empty input")
        # elsewhere in the file
        try:
            y = model(x)
        except ValueError:
            y = fallback(x)

    Use instead:
        Catch `torch.jit.Error` as well (`except (ValueError, torch.jit.Error):`), or return
        a status value from the compiled code instead of raising.
    """

    code = "TS608"
    name = "raise-type-lost"
    message = (
        "scripted code raises `{exc}` as `torch.jit.Error`, so the `except {exc}` at line {line} will not catch it"
    )
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def mean_of(x: torch.Tensor) -> torch.Tensor:
    if x.numel() == 0:
        raise ValueError("empty input")
    return x.mean()


def safe_mean(x: torch.Tensor) -> torch.Tensor:
    try:
        return mean_of(x)
    except ValueError:
        return torch.zeros(())
""",
            inputs="[(torch.zeros(0),), (torch.tensor([1.0, 3.0]),)]",
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def mean_of(x: torch.Tensor) -> torch.Tensor:
    if x.numel() == 0:
        raise ValueError("empty input")
    return x.mean()


def safe_mean(x: torch.Tensor) -> torch.Tensor:
    try:
        return mean_of(x)
    except (ValueError, torch.jit.Error):
        return torch.zeros(())
"""
        ),
    ]

    def _caught(self) -> dict[str, int]:
        caught = caught_exceptions(self.ctx.module)
        # torch.jit.Error caught too: the author already handles the scripted case
        return {} if "Error" in caught else caught

    def _exc_name(self, node: cst.BaseExpression | None) -> str | None:
        target = node.func if isinstance(node, cst.Call) else node
        if isinstance(target, cst.Name):
            name = target.value
            if name in _BUILTIN_EXC:
                return name
            info = self.ctx.module.classes.get(name)
            if info is not None:
                return name
        return None

    def visit_Raise(self, node: cst.Raise) -> None:
        name = self._exc_name(node.exc)
        if name is None:
            return
        line = self._caught().get(name)
        if line is not None:
            self.report(node, self.message.format(exc=name, line=line))

    def visit_Assert(self, node: cst.Assert) -> None:
        line = self._caught().get("AssertionError")
        if line is not None:
            self.report(node, self.message.format(exc="AssertionError", line=line))
