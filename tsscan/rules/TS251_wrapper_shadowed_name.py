from tsscan.rule import Example
from tsscan.rules.TS250_wrapper_undefined_name import WrapperNameRule


class WrapperShadowedName(WrapperNameRule):
    """A decorated compiled function uses a module that its wrapper's module binds to another value.

    What it does:
        Flags, in a compiled function under a wrapping decorator, each statement that looks an
        attribute up on a name the file imports as a module (`import torch.nn.functional as F`)
        while the wrapper's module binds that name to a value that is not a module (in
        `torch.utils._contextlib`, `F` is a `TypeVar`).

    Why is this bad:
        TorchScript resolves the global names of a decorated function in the module of the
        outermost wrapper, not in the file that defines the function: `F.relu(x)` under
        `@torch.no_grad()` fails with "attribute lookup is not defined on python value of type
        'TypeVar'".

    Example:
        class Act(nn.Module):
            @torch.no_grad()
            def forward(self, x):
                return F.relu(x)

    Use instead:
        Use the context manager inside the body (`with torch.no_grad():`), or move the
        decorator off the compiled function.
    """

    code = "TS251"
    name = "wrapper-shadowed-name"
    message = (
        "`{name}` is not the module imported here: `@{decorator}` wraps this function in {module},"
        " where TorchScript resolves its global names and `{name}` is not a module"
    )
    level = "type"
    missing = False

    invalid = [
        Example(
            """
import torch
import torch.nn.functional as F
from torch import nn


class Act(nn.Module):
    @torch.no_grad()
    def forward(self, x):
        return F.relu(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
import torch.nn.functional as F
from torch import nn


class Act(nn.Module):
    def forward(self, x):
        with torch.no_grad():
            return F.relu(x)
"""
        ),
    ]
