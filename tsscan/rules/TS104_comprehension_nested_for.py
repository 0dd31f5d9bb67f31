from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example
from tsscan.rules import _ts1_support


class ComprehensionNestedFor(_ts1_support.ComprehensionRule):
    """A comprehension with two or more `for` clauses in compiled code.

    What it does:
        Flags list, dict and generator comprehensions with more than one `for`
        (`[x for row in grid for x in row]`), in code that `torch.jit.script` compiles.

    Why is this bad:
        The frontend stops with "Only a single generator is currently supported", even
        inside an `if not torch.jit.is_scripting():` branch.

    Example:
        flat = [v for row in rows for v in row]

    Use instead:
        Nested loops that append to a new list (annotated when its elements are not
        tensors).

    Fix:
        For list comprehensions: nested `for` loops (with the comprehension's `if` filters
        in place) are placed before the statement, filling a new list, as for TS103: the
        same conditions for offering the fix and for its safety.
    """

    code = "TS104"
    needs = Needs(nodes={"ListComp", "GeneratorExp", "DictComp"})
    name = "comprehension-nested-for"
    message = "comprehensions with more than one `for` are not supported by TorchScript; use nested loops"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def flatten(rows: List[List[int]]) -> List[int]:
    flat = [v for row in rows for v in row if v >= 0]
    return flat
""",
            fixed="""
from typing import List

import torch


@torch.jit.script
def flatten(rows: List[List[int]]) -> List[int]:
    flat: List[int] = []
    for row in rows:
        for v in row:
            if v >= 0:
                flat.append(v)
    return flat
""",
            inputs="[([[1, -2], [], [3]],), ([],), ([[-1]],)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch
from torch import nn


class Pairs(nn.Module):
    def forward(self, a: List[torch.Tensor], b: List[torch.Tensor]) -> torch.Tensor:
        return torch.stack([x * y for x in a for y in b])
""",
            fixed="""
from typing import List

import torch
from torch import nn


class Pairs(nn.Module):
    def forward(self, a: List[torch.Tensor], b: List[torch.Tensor]) -> torch.Tensor:
        items = []
        for x in a:
            for y in b:
                items.append(x * y)
        return torch.stack(items)
""",
            inputs="[([torch.tensor([1.0, float('nan')])], [torch.tensor([2.0, -1.0]), torch.zeros(2)]), ([torch.tensor([1, 2])], [torch.tensor([3, 4])])]",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch


@torch.jit.script
def total(rows: List[List[float]]) -> float:
    return sum(v for row in rows for v in row)
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def flatten(rows: List[List[int]]) -> List[int]:
    flat: List[int] = []
    for row in rows:
        flat.extend([v for v in row])
    return flat
"""
        ),
    ]

    def wants(self, fors) -> bool:
        return len(fors) > 1
