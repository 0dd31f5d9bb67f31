import libcst as cst

from tsscan.rule import Example, Rule

# iter()/next() have their own rule (the iterator protocol)
_ELSEWHERE = {"iter", "next", "aiter", "anext"}
_HINTS = {
    "open": "read files in `__init__` and keep the result as an attribute",
    "repr": "use `str(v)`",
    "format": "use `str(v)` or an f-string without format spec",
    "callable": "decide outside the compiled code",
    "input": "compiled code cannot read stdin",
}


class UnsupportedBuiltin(Rule):
    """A Python builtin that TorchScript does not support (`open`, `repr`, `format`, ...).

    What it does:
        Flags calls of builtins that the target torch's TorchScript rejects, from the
        generated table: in torch 2.13 `open`, `repr`, `format`, `input`, `callable`,
        `setattr`, `delattr`, `dir`, `vars`, `globals`, `locals`, `eval`, `exec`, `compile`,
        `issubclass`, `ascii`, `breakpoint`. Names the file or function defines itself are not
        builtins and are left alone.

    Why is this bad:
        "Python builtin <built-in function open> is currently not supported in Torchscript".

    Example:
        text = open(path).read()

    Use instead:
        Do I/O and reflection in `__init__` or in a `@torch.jit.ignore` method, outside the
        compiled code.
    """

    code = "TS509"
    name = "unsupported-builtin"
    message = "`{name}()` is not supported by TorchScript"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def size_of(path: str) -> int:
    return len(open(path).read())
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def describe(v: int) -> str:
    return repr(v)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


def open(path: str) -> int:
    return len(path)


@torch.jit.script
def size_of(path: str) -> int:
    return open(path) + len(str(3))
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Name):
            return
        name = func.value
        if name in _ELSEWHERE or name not in self.ctx.knowledge.builtins_unsupported:
            return
        if self.ctx.is_shadowed(name):
            return
        message = self.message.format(name=name)
        if name in _HINTS:
            message += f"; {_HINTS[name]}"
        self.report(node, message)
