import libcst as cst

from tsscan.rule import Example, Rule


class DictExpansion(Rule):
    """Dict display expansion `{**d, ...}` in compiled code.

    What it does:
        Flags `**` entries in dict displays in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "Dict expansion (e.g. `{**dict}`) is not supported".

    Example:
        out = {**features, "logits": logits}

    Use instead:
        Copy and update: `out = features.copy()` then `out["logits"] = logits`.
    """

    code = "TS118"
    name = "dict-expansion"
    message = "`{**d}` dict expansion is not supported by TorchScript; copy the dict and set the keys"
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
from typing import Dict

import torch


@torch.jit.script
def with_logits(features: Dict[str, torch.Tensor], logits: torch.Tensor) -> Dict[str, torch.Tensor]:
    return {**features, "logits": logits}
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Dict

import torch


@torch.jit.script
def with_logits(features: Dict[str, torch.Tensor], logits: torch.Tensor) -> Dict[str, torch.Tensor]:
    out = features.copy()
    out["logits"] = logits
    return out
"""
        ),
    ]

    def visit_StarredDictElement(self, node: cst.StarredDictElement) -> None:
        self.report(node)
