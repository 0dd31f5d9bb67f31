import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.callees import held_at_defaults

_ITERABLE = {"ModuleList", "Sequential", "ModuleDict", "ParameterList", "ParameterDict"}


# a pool whose kind a constructor argument picks (the start of both examples)
_POOL = """
import torch
from torch import nn


class Pool(nn.Module):
    def __init__(self, pool_type: str = "avg"):
        super().__init__()
        self.pool_type = pool_type
        if pool_type == "both":
            self.pool = nn.ModuleList([nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)])
        else:
"""


class ModuleIterated(Rule):
    """A loop or comprehension over `self.<attr>` where the attribute holds a plain module (not a
    `ModuleList`/`Sequential`/`ModuleDict`) when the class is built with its defaults.

    What it does:
        Flags `for m in self.pool:` and `[m(x) for m in self.pool]` in compiled code when
        `__init__`, run with the constructor's defaults, gives `self.pool` a `torch.nn` module
        that is not a container (`nn.AdaptiveAvgPool2d`), typically because a flag picks a
        `ModuleList` only in another configuration. Not when a test of the function decides
        on the attribute (`isinstance`, `hasattr`, `is None`) or on a `Final` constant, which
        the compiler resolves while compiling.

    Why is this bad:
        The compiler types `self.pool` from the module it holds, and compiles both arms of an
        `if self.pool_type == "both":` (a string attribute is not a constant), so the loop fails
        in the default configuration: "Only constant Sequential, ModuleList, ModuleDict, or
        ParameterList can be used as an iterable" (measured with torch 2.13).

    Example:
        if pool_type == "both":
            self.pool = nn.ModuleList([nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)])
        else:
            self.pool = nn.AdaptiveAvgPool2d(1)
        ...
        if self.pool_type == "both":
            return torch.cat([p(x) for p in self.pool], dim=1)

    Use instead:
        Give the attribute the same kind in every configuration (a `ModuleList` of one module),
        or decide on a `Final` flag the compiler can read.
    """

    code = "TS139"
    name = "module-iterated"
    message = (
        "`self.{attr}` is `{held}` when the class is built with its defaults, not a module container: the compiler"
        ' will say "Only constant Sequential, ModuleList, ModuleDict, or ParameterList can be used as an iterable";'
        " give it the same kind in every configuration (a ModuleList of one)"
    )
    level = "type"

    invalid = [
        Example(
            _POOL
            + """            self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool_type == "both":
            return torch.cat([p(x) for p in self.pool], dim=1)
        return self.pool(x)
"""
        ),
    ]
    valid = [
        Example(
            _POOL
            + """            self.pool = nn.ModuleList([nn.AdaptiveAvgPool2d(1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([p(x) for p in self.pool], dim=1)
"""
        ),
    ]

    def _check(self, iterable: cst.BaseExpression) -> None:
        attr = self.ctx.self_attr(iterable)
        cls = self.ctx.cls
        if attr is None or cls is None or not cls.is_module:
            return
        held = held_at_defaults(self.ctx, cls, attr)
        if held is None or not held.startswith("torch.nn.") or held.rsplit(".", 1)[-1] in _ITERABLE:
            return
        self.report(iterable, self.message.format(attr=attr, held=f"nn.{held.rsplit('.', 1)[-1]}"))

    def visit_For(self, node: cst.For) -> None:
        self._check(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._check(node.iter)
