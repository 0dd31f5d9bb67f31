import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.annotations import SCALARS, dict_value
from tsscan.semantic.types import in_quiet_arm

# the defaults the compiler rejects for a Dict[K, V] value type V (measured with torch 2.13):
# None, an Optional[V], or another of these kinds (no int -> float conversion either)
_KINDS = frozenset(SCALARS) | {"Tensor"}


def _rejected(value: str, default: str | None) -> bool:
    if default is None or default == value or "Any" in value:
        return False  # an Any value type takes any default (measured)
    if value.startswith("Optional["):
        # None, the inner type and the Optional itself are all values of the type (measured)
        return False
    if default in ("None", f"Optional[{value}]"):
        return True
    return value in _KINDS and default in _KINDS


def _simple(key: cst.BaseExpression) -> bool:
    """A key that may be evaluated twice: a literal or a plain name."""
    return isinstance(key, (cst.SimpleString, cst.Integer, cst.Name))


class DictGetDefault(Rule):
    """`d.get(key, default)` whose default is not of the dict's value type.

    What it does:
        Flags `d.get(key, default)` in compiled code where the model types `d` a
        `Dict[K, V]` and the default as `None`, `Optional[V]`, or a scalar or Tensor type
        other than `V`. A value type `Any` or `Optional[...]` takes `None` (measured).

    Why is this bad:
        TorchScript's `get` with a default takes a default of the value type and returns a
        `V`: "Expected a value of type 't' for argument 'default_value' but instead found type
        'Optional[Tensor]'". Python returns the default, whatever its type. There is no
        `int` to `float` conversion here either.

    Example:
        patch_coord = x.get("patch_coord", patch_coord)  # patch_coord: Optional[Tensor]

    Use instead:
        `if "patch_coord" in x: patch_coord = x["patch_coord"]`; `x.get(key)` for a `None`
        default (an `Optional[V]`).

    Fix:
        `d.get(key, None)` becomes `d.get(key)`, and a statement `name = d.get(key, name)`
        (the default is the variable assigned, the key a literal or a name) becomes
        `if key in d: name = d[key]`. SAFE: Python does the same in both forms. No fix for
        other defaults.
    """

    code = "TS263"
    needs = Needs(calls={"get"})
    name = "dict-get-default"
    message = "`{dict}.get(..., default)`: TorchScript needs a default of the value type `{value}`, here `{default}`"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
from typing import Dict, Optional

import torch


@torch.jit.script
def unpack(x: Dict[str, torch.Tensor], coord: Optional[torch.Tensor] = None) -> torch.Tensor:
    coord = x.get("coord", coord)
    valid = x.get("valid", None)
    out = x["patches"]
    if coord is not None:
        out = out + coord
    if valid is not None:
        out = out * valid
    return out
""",
            fixed="""
from typing import Dict, Optional

import torch


@torch.jit.script
def unpack(x: Dict[str, torch.Tensor], coord: Optional[torch.Tensor] = None) -> torch.Tensor:
    if "coord" in x:
        coord = x["coord"]
    valid = x.get("valid")
    out = x["patches"]
    if coord is not None:
        out = out + coord
    if valid is not None:
        out = out * valid
    return out
""",
            inputs=(
                "[({'patches': torch.ones(2)},), ({'patches': torch.ones(2), 'coord': torch.tensor([1.0, 2.0])},),"
                " ({'patches': torch.ones(2), 'valid': torch.zeros(2)}, torch.tensor([3.0, 4.0])),"
                " ({'patches': torch.ones(2)}, torch.tensor([5.0, 6.0]))]"
            ),
            fix=SAFE,
        ),
        Example(
            """
from typing import Dict

import torch


@torch.jit.script
def scale(sizes: Dict[str, float], x: torch.Tensor) -> torch.Tensor:
    return x * sizes.get("scale", 1)
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import Dict, Optional

import torch


@torch.jit.script
def unpack(x: Dict[str, torch.Tensor], coord: Optional[torch.Tensor] = None) -> torch.Tensor:
    if "coord" in x:
        coord = x["coord"]
    valid = x.get("valid")
    out = x.get("patches", torch.zeros(2))
    if coord is not None:
        out = out + coord
    if valid is not None:
        out = out * valid
    return out * x.get("scale", torch.ones(1))
"""
        ),
        Example(
            """
from typing import Any, Dict, Optional

import torch


@torch.jit.script
def scaled(kwargs: Dict[str, Any], masks: Dict[str, Optional[torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    scale = kwargs.get("scale", None)  # diffusers' cross_attention_kwargs
    mask = masks.get("mask", None)
    if mask is not None:
        x = x * mask
    return x
"""
        ),
    ]

    def on_function(self) -> None:
        self._line: cst.SimpleStatementLine | None = None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "get" and len(node.args) == 2):
            return
        if any(a.keyword is not None or a.star for a in node.args):
            return
        types = self.ctx.types
        value = dict_value(types.type_at(func.value))
        if value is None or in_quiet_arm(self.ctx, node):
            return
        default_node = node.args[1].value
        default = types.type_at(default_node)
        if not _rejected(value, default):
            return
        shown = cst.Module(body=[]).code_for_node(func.value)
        self.report(node, self.message.format(dict=shown, value=value, default=default), self._fix(node, default_node))

    def _fix(self, node: cst.Call, default: cst.BaseExpression) -> Fix | None:
        if isinstance(default, cst.Name) and default.value == "None":
            return Fix(
                replacements=[
                    (node, node.with_changes(args=[node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)]))
                ],
                description="drop the `None` default: `get(key)` gives the Optional",
            )
        line = self._line
        if line is None or len(line.body) != 1 or not isinstance(line.body[0], cst.Assign):
            return None
        assign = line.body[0]
        if assign.value is not node or len(assign.targets) != 1:
            return None
        target = assign.targets[0].target
        key = node.args[0].value
        func = node.func
        assert isinstance(func, cst.Attribute)
        if not (isinstance(target, cst.Name) and isinstance(default, cst.Name) and target.value == default.value):
            return None
        if not (_simple(key) and isinstance(func.value, cst.Name)):
            return None
        if isinstance(key, cst.Name) and key.value == target.value:
            return None
        k, d, n = cst.Module(body=[]).code_for_node(key), func.value.value, target.value
        new = cst.parse_statement(f"if {k} in {d}:\n    {n} = {d}[{k}]\n")
        assert isinstance(new, cst.If)
        body = new.body
        assert isinstance(body, cst.IndentedBlock)
        inner = body.body[0]
        assert isinstance(inner, cst.SimpleStatementLine)
        body = body.with_changes(body=[inner.with_changes(trailing_whitespace=line.trailing_whitespace)])
        new = new.with_changes(leading_lines=line.leading_lines, body=body)
        return Fix(replacements=[(line, new)], description=f"`if {k} in {d}: {n} = {d}[{k}]`")
