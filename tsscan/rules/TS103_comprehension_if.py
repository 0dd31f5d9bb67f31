from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example
from tsscan.rules import _ts1_support


class ComprehensionIf(_ts1_support.ComprehensionRule):
    """A comprehension with an `if` filter in compiled code.

    What it does:
        Flags list, dict and generator comprehensions that filter with `if`, in code that
        `torch.jit.script` compiles. Plain comprehensions (`[f(a) for a in xs]`) compile and
        are not flagged.

    Why is this bad:
        The frontend stops with "Comprehension ifs are not supported yet", even inside an
        `if not torch.jit.is_scripting():` branch.

    Example:
        boxes = [b for b in boxes if b.numel() > 0]

    Use instead:
        An explicit loop that appends to a new list. An unannotated `[]` is a
        `List[Tensor]` to TorchScript, so annotate the list when its elements are not
        tensors (`keep: List[int] = []`).

    Fix:
        For list comprehensions: the loop is placed before the statement that holds the
        comprehension, filling a new list (the assigned name itself for `name = [...]`,
        otherwise a fresh `items`), annotated with the element type when it is not
        `Tensor`; loop variables that would clash with names of the function are renamed.
        No fix when the element type cannot be inferred, when the comprehension is
        evaluated only sometimes (inside `and`/`or`, a conditional expression, another
        comprehension) or sits in a `while`/`elif` test. SAFE when nothing of the statement
        that runs before the comprehension calls a function; UNSAFE otherwise (the loop now
        runs first).
    """

    code = "TS103"
    needs = Needs(nodes={"ListComp", "GeneratorExp", "DictComp"})
    name = "comprehension-if"
    message = "comprehensions with `if` are not supported by TorchScript; use a loop that appends"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import List

import torch


@torch.jit.script
def positive(xs: List[int]) -> List[int]:
    keep = [x for x in xs if x > 0]
    return keep
""",
            fixed="""
from typing import List

import torch


@torch.jit.script
def positive(xs: List[int]) -> List[int]:
    keep: List[int] = []
    for x in xs:
        if x > 0:
            keep.append(x)
    return keep
""",
            inputs="[([3, -1, 0, 7],), ([],), ([-5],)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch
from torch import nn


class NonEmpty(nn.Module):
    def forward(self, feats: List[torch.Tensor]) -> torch.Tensor:
        # concatenate the non-empty maps
        return torch.cat([f.flatten() for f in feats if f.numel() > 0], 0)
""",
            fixed="""
from typing import List

import torch
from torch import nn


class NonEmpty(nn.Module):
    def forward(self, feats: List[torch.Tensor]) -> torch.Tensor:
        # concatenate the non-empty maps
        items = []
        for f in feats:
            if f.numel() > 0:
                items.append(f.flatten())
        return torch.cat(items, 0)
""",
            inputs="[([torch.randn(2, 2), torch.zeros(0), torch.tensor([float('nan'), -1.0])],), ([torch.zeros(0)],)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import List

import torch


@torch.jit.script
def widths(x: torch.Tensor, i: int) -> List[int]:
    sizes = [x.size(i) for i in range(x.dim()) if x.size(i) != 1]
    return sizes + [i]
""",
            fixed="""
from typing import List

import torch


@torch.jit.script
def widths(x: torch.Tensor, i: int) -> List[int]:
    sizes: List[int] = []
    for i_ in range(x.dim()):
        if x.size(i_) != 1:
            sizes.append(x.size(i_))
    return sizes + [i]
""",
            inputs="[(torch.zeros(2, 1, 3), 5), (torch.tensor(1.0), 0), (torch.zeros(1, 0), -1)]",
            fix=SAFE,
        ),
        Example(
            """
from typing import Dict, List

import torch


@torch.jit.script
def index(names: List[str]) -> Dict[str, int]:
    return {n: i for i, n in enumerate(names) if n != ""}
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Dict, List

import torch


@torch.jit.script
def doubled(xs: List[int]) -> List[int]:
    return [2 * x for x in xs]


@torch.jit.script
def positive(xs: List[int]) -> List[int]:
    keep: List[int] = []
    for x in xs:
        if x > 0:
            keep.append(x)
    return keep


@torch.jit.script
def index(names: List[str]) -> Dict[str, int]:
    return {n: i for i, n in enumerate(names)}
"""
        ),
    ]

    def wants(self, fors) -> bool:
        return len(fors) == 1 and bool(fors[0].ifs)
