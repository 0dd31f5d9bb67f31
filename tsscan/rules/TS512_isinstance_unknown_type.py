import re

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import UNSAFE, Example, Fix, Rule
from tsscan.semantic.annotations import dict_value, union_members

# builtins TorchScript has no type for: "Unknown type name 'dict'"
_BUILTINS = {"dict", "set", "frozenset", "bytes", "bytearray", "object", "type", "range"}
# typing names used bare: "Attempted to use Dict without contained types" or "Unknown type name"
_TYPING = {
    "Dict",
    "List",
    "Tuple",
    "Optional",
    "Union",
    "Set",
    "FrozenSet",
    "Mapping",
    "MutableMapping",
    "Sequence",
    "MutableSequence",
    "Iterable",
    "Iterator",
    "Collection",
    "Callable",
    "NamedTuple",
    "Type",
}
# torch.nn names that are not modules (isinstance of them compiles)
_NOT_MODULES = {"Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"}
_MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping"}
_TYPING_GENERICS = ("Dict", "List", "Tuple", "Optional", "Union")
_HINTS = {
    "dict": "`Dict[K, V]` with the key and value types of the annotation",
    "Dict": "`Dict[K, V]` with the key and value types of the annotation",
    "Mapping": "`Dict[K, V]` with the key and value types of the annotation",
    "MutableMapping": "`Dict[K, V]` with the key and value types of the annotation",
    "List": "`list`",
    "Sequence": "`(list, tuple)`",
    "MutableSequence": "`list`",
    "Tuple": "`tuple`",
}


class IsinstanceUnknownType(Rule):
    """`isinstance(x, dict)`, `isinstance(x, set)` or a bare `typing` name in compiled code.

    What it does:
        Flags the second argument of `isinstance` (or an element of a tuple of types there)
        when it names a type TorchScript cannot use in a type test: the builtins `dict`, `set`,
        `frozenset`, `bytes`, `bytearray`, `object`, `type`, `range`, bare `typing` generics
        (`Dict`, `List`, `Tuple`, `Optional`, `Set`, `Mapping`, `Sequence`, `Iterable`,
        `Callable`, ...), `collections.abc` classes, anything from numpy (`np.ndarray`),
        `torch.Size`, and `nn.Module` classes (torch's and the file's own) tested on a value of a
        TorchScript type (on a submodule, `isinstance(self.norm, nn.Identity)` compiles).
        `int`, `float`, `bool`, `str`, `complex`, `list`, `tuple`, `torch.Tensor` and
        subscripted generics
        (`Dict[str, Tensor]`) are fine and left alone.

    Why is this bad:
        The compiler resolves the type argument as a type expression, even when the test
        could be decided statically: "Unknown type name 'dict'", "Attempted to use Dict
        without contained types".

    Example:
        def forward(self, x: Union[Tensor, Dict[str, Tensor]]) -> Tensor:
            if isinstance(x, dict):
                x = x["patches"]
            return x

    Use instead:
        Name the full type, as in the annotation: `isinstance(x, Dict[str, Tensor])`; for lists
        and tuples the builtins `list` and `tuple` work.

    Fix:
        `isinstance(x, dict)` (or `Dict`, `Mapping`) where `x` is typed a `Union` or
        `Optional` with exactly one `Dict[K, V]` member becomes `torch.jit.isinstance(x,
        Dict[K, V])` (plain `isinstance` of a subscripted type raises in Python). UNSAFE:
        in eager code `torch.jit.isinstance` also checks every key and value, so a dict that
        breaks the annotation (a value that is not a `V`) no longer passes the test.
    """

    code = "TS512"
    needs = Needs(calls={"isinstance"})
    name = "isinstance-unknown-type"
    message = "`isinstance(..., {name})` is not supported by TorchScript; use {hint}"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import numpy as np
import torch
from torch import nn


class Block(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Unwrap(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, (torch.Tensor, np.ndarray)) or isinstance(x, (Block, nn.Linear)):
            return x + 1
        return x
"""
        ),
        Example(
            """
from typing import Dict, Union

import torch
from torch import nn


class Unpack(nn.Module):
    def forward(self, x: Union[torch.Tensor, Dict[str, torch.Tensor]]) -> torch.Tensor:
        if isinstance(x, dict):
            x = x["patches"]
        return x * 2
""",
            fixed="""
from typing import Dict, Union

import torch
from torch import nn


class Unpack(nn.Module):
    def forward(self, x: Union[torch.Tensor, Dict[str, torch.Tensor]]) -> torch.Tensor:
        if torch.jit.isinstance(x, Dict[str, torch.Tensor]):
            x = x["patches"]
        return x * 2
""",
            inputs="[(torch.tensor([1.0, -2.0]),), ({'patches': torch.tensor([3.0])},), ({'patches': torch.zeros(0), 'b': torch.ones(1)},)]",
            fix=UNSAFE,
        ),
        Example(
            """
from typing import Any, Sequence

import torch


@torch.jit.script
def count(x: Any) -> int:
    if isinstance(x, (int, Sequence)):
        return 1
    return 0
"""
        ),
        Example(
            """
from typing import List

import torch


@torch.jit.script
def first(x: List[int]) -> int:
    if isinstance(x, set):
        return -1
    return x[0]
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Any, Dict, List, Tuple, Union

import torch
from torch import nn


class dict_like:
    pass


class Unpack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.Identity()

    def forward(self, x: Union[torch.Tensor, Dict[str, torch.Tensor]], y: Any) -> torch.Tensor:
        if isinstance(x, Dict[str, torch.Tensor]):
            x = x["patches"]
        n = 0
        if isinstance(y, (list, tuple)):
            n += 1
        if isinstance(y, (int, float, bool, str)):
            n += 2
        if not isinstance(self.norm, nn.Identity):
            n += 3
        if not torch.jit.is_scripting():
            if isinstance(y, dict):
                n += 4
        return self.norm(x) + n
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Name) and func.value == "isinstance"):
            return
        if self.ctx.is_shadowed("isinstance"):
            return
        if len(node.args) != 2 or node.args[1].keyword is not None or node.args[1].star:
            return
        types = node.args[1].value
        items = [el.value for el in types.elements] if isinstance(types, cst.Tuple) else [types]
        # a module class is fine when the value tested is a module (``isinstance(self.norm,
        # nn.Identity)`` is decided when compiling); it fails on a value of a TorchScript type
        valued = self.ctx.types.type_of(node.args[0].value) is not None
        for item in items:
            name = self._unknown(item, valued)
            if name is not None:
                hint = _HINTS.get(
                    name,
                    "a type TorchScript knows (`int`, `float`, `str`, `list`, `tuple`, `torch.Tensor`, `Dict[K, V]`, ...)",
                )
                fix = self._dict_fix(node) if name in _MAPPINGS and len(items) == 1 else None
                self.report(item, self.message.format(name=name, hint=hint), fix)

    def _dict_fix(self, node: cst.Call) -> Fix | None:
        value = node.args[0].value
        if not isinstance(value, cst.Name):
            return None
        members = union_members(self.ctx.types.type_at(value)) or []
        dicts = [m for m in members if dict_value(m) is not None]
        if len(dicts) != 1:
            return None
        text = re.sub(r"\bTensor\b", "torch.Tensor", dicts[0])
        imports = ["import torch"] + [f"from typing import {g}" for g in _TYPING_GENERICS if f"{g}[" in text]
        new = cst.parse_expression(f"torch.jit.isinstance({value.value}, {text})")
        return Fix(
            replacements=[(node, new)],
            imports=imports,
            safety=UNSAFE,
            description=f"`torch.jit.isinstance({value.value}, {text})`",
        )

    def _unknown(self, item: cst.BaseExpression, valued: bool):
        if isinstance(item, cst.Name):
            if item.value in self.ctx.local_names:
                return None
            if item.value in _BUILTINS and not self.ctx.module.binds(item.value):
                return item.value
        if not isinstance(item, (cst.Name, cst.Attribute)):
            return None
        qual = self.ctx.qualname(item) or ""
        head, _, last = qual.rpartition(".")
        if head in ("typing", "typing_extensions") and last in _TYPING:
            return last
        if head == "collections.abc" and last:
            return last
        if qual.split(".")[0] == "numpy" or qual == "torch.Size":
            return qual  # measured: np.ndarray, np.generic, torch.Size: "Unknown type name"
        if not valued:
            return None
        if (head == "torch.nn" or head.startswith("torch.nn.modules.")) and last[:1].isupper():
            if last not in _NOT_MODULES:
                return qual  # nn.Module and its subclasses are not types TorchScript can test
        if isinstance(item, cst.Name) and item.value in self.ctx.module.classes:
            if self.ctx.module.classes[item.value].is_module:
                return item.value
        return None
