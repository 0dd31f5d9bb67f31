import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.types import walk_expr

# measured with torch 2.13: "Unknown type constructor Sequence" (typing and collections.abc alike)
_ABSTRACT = {
    "Sequence": "List[...]",
    "MutableSequence": "List[...]",
    "Collection": "List[...]",
    "Iterable": "List[...]",
    "Iterator": "List[...]",
    "Mapping": "Dict[...]",
    "MutableMapping": "Dict[...]",
    "AbstractSet": "List[...]",
    "KeysView": "List[...]",
}
_ABSTRACT_HOMES = ("typing.", "collections.abc.", "typing_extensions.")
# "Attempted to use Dict without contained types", "Unknown type name 'dict'"
_NEEDS_ITEMS = {
    "typing.Dict": "Dict[K, V]",
    "typing.List": "List[T]",
    "typing.Tuple": "Tuple[...]",
    "dict": "Dict[K, V]",
}


class UnsupportedAnnotation(Rule):
    """An annotation TorchScript cannot resolve: `torch.Size`, `Sequence[...]`, bare `dict`.

    What it does:
        Flags, in the annotations of compiled code, `torch.Size`; the abstract collection types
        of `typing` and `collections.abc` (`Sequence`, `Iterable`, `Iterator`, `Collection`,
        `Mapping`, `MutableMapping`, ...); and `dict`, `Dict`, `List` or `Tuple` written
        without their item types. (Bare `list` and `tuple` compile.)

    Why is this bad:
        "Unknown type name 'torch.Size'", "Unknown type constructor Sequence", "Unknown type
        name 'dict'", "Attempted to use Dict without contained types".

    Example:
        def forward(self, x: torch.Tensor, shape: torch.Size, sizes: Sequence[int], extra: dict):

    Use instead:
        def forward(self, x: torch.Tensor, shape: List[int], sizes: List[int], extra: Dict[str, torch.Tensor]):
    """

    code = "TS519"
    needs = Needs(nodes={"Annotation"})
    name = "unsupported-annotation"
    message = "`{name}` is not a type TorchScript knows; annotate `{instead}`"
    level = "type"

    invalid = [
        Example(
            """
import torch


class Expand(torch.nn.Module):
    def forward(self, x: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        return x.expand(shape)
"""
        ),
        Example(
            """
from typing import Sequence

import torch


class Pad(torch.nn.Module):
    def forward(self, x: torch.Tensor, pads: Sequence[int]) -> torch.Tensor:
        return x + len(pads)
"""
        ),
        Example(
            """
import torch


class Lookup(torch.nn.Module):
    def forward(self, x: torch.Tensor, extra: dict) -> torch.Tensor:
        return x
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Dict, List

import torch


class Expand(torch.nn.Module):
    def forward(self, x: torch.Tensor, shape: List[int], extra: Dict[str, int], d: dict[str, int], t: list) -> torch.Tensor:
        size: List[int] = x.size()
        return x.expand(shape) + len(extra) + len(size)
"""
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for ann, _, _ in self.ctx.annotations:
            self._check(ann)

    def _check(self, ann: cst.BaseExpression) -> None:
        subscripted: set[int] = set()
        for sub in walk_expr(ann):
            if isinstance(sub, cst.Subscript):
                subscripted.add(id(sub.value))
        for sub in walk_expr(ann):
            if not isinstance(sub, (cst.Name, cst.Attribute)):
                continue
            qual = self.ctx.qualname(sub) or ""
            if isinstance(sub, cst.Name) and sub.value in self.ctx.local_names:
                continue
            instead = None
            if qual == "torch.Size":
                instead = "List[int]"
            elif qual.startswith(_ABSTRACT_HOMES) and qual.rpartition(".")[2] in _ABSTRACT:
                instead = _ABSTRACT[qual.rpartition(".")[2]]
            elif id(sub) not in subscripted and qual in _NEEDS_ITEMS:
                if qual == "dict" and self.ctx.module.binds("dict"):
                    continue  # a class or value of the file named `dict`
                instead = _NEEDS_ITEMS[qual]
            if instead is not None:
                shown = cst.Module(body=[]).code_for_node(sub)
                self.report(sub, self.message.format(name=shown, instead=instead))
