import libcst as cst

from tsscan.rule import Example, Rule


class ImportInFunction(Rule):
    """`import` inside a compiled function.

    What it does:
        Flags `import` and `from ... import` statements in code that `torch.jit.script`
        compiles.

    Why is this bad:
        The frontend stops with "import statements aren't supported". Lazy imports inside
        `forward` are common in research code and break scripting.

    Example:
        def forward(self, x):
            import math
            return x * math.pi

    Use instead:
        Import at module level; compiled code can use what the module imports.
    """

    code = "TS110"
    name = "import-in-function"
    message = "import statements are not supported in compiled code; import at module level"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Circle(nn.Module):
    def forward(self, r: torch.Tensor) -> torch.Tensor:
        import math

        return r * r * math.pi
"""
        ),
    ]
    valid = [
        Example(
            """
import math

import torch
from torch import nn


class Circle(nn.Module):
    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return r * r * math.pi
"""
        ),
    ]

    def visit_Import(self, node: cst.Import) -> None:
        self.report(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.report(node)
