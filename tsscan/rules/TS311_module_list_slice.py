import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import Example, Rule
from tsscan.semantic import attributes as A
from tsscan.walk import walk

_SLICEABLE = {A.MODULELIST, A.SEQUENTIAL}


class _Calls(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.called = False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == self.name:
            self.called = True


class ModuleListSlice(Rule):
    """Calling modules taken from a sliced `ModuleList` / `Sequential` (`for m in self.m[1:]`).

    What it does:
        Flags `self.layers[a:b]` in compiled code when the modules it yields are called:
        iterated by a `for` loop that calls the loop variable, called directly
        (`self.seq[1:](x)`), or indexed and called; and a call of a local name bound to such a
        slice (`rest, last = self.seq[:-1], self.seq[-1]` then `rest(x)`), where the compiler
        says "cannot call a value of type 'Tuple[...]'".

    Why is this bad:
        In TorchScript a sliced module container is a tuple of modules, whose elements cannot
        be called: "'Linear' object has no attribute or method '__call__'" (reported at the
        call, not at the slice). `len(self.m[1:])` alone works.

    Example:
        for layer in self.layers[1:]:
            x = layer(x)

    Use instead:
        for i, layer in enumerate(self.layers):
            if i >= 1:
                x = layer(x)
    """

    code = "TS311"
    needs = HOOKS
    name = "module-list-slice"
    message = "modules of a sliced `self.{name}` cannot be called in TorchScript; iterate `enumerate(self.{name})` and skip by index"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(4)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers[0](x).relu()
        for layer in self.layers[1:]:
            x = layer(x)
        return x
"""
        ),
        Example(
            """
import torch
from torch import nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rest, last = self.seq[:-1], self.seq[-1]
        h = rest(x)
        return last(h)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(4)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            if i >= 1:
                x = layer(x)
        return x * len(self.layers[1:])
"""
        ),
    ]

    def _sliced(self, node: cst.BaseExpression) -> str | None:
        if (
            not isinstance(node, cst.Subscript)
            or len(node.slice) != 1
            or not isinstance(node.slice[0].slice, cst.Slice)
        ):
            return None
        name = self.ctx.self_attr(node.value)
        cls = self.ctx.cls
        if name is None or cls is None or not cls.is_module:
            return None
        if A.attribute_type(cls, name, self.ctx.module).kind not in _SLICEABLE:
            return None
        return name

    def on_function(self) -> None:
        self._bound: dict[str, str] = {}  # local name -> the container whose slice it holds

    def visit_Assign(self, node: cst.Assign) -> None:
        """``rest = self.seq[:-1]`` / ``rest, last = self.seq[:-1], self.seq[-1]``."""
        for t in node.targets:
            pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = [(t.target, node.value)]
            if isinstance(t.target, cst.Tuple) and isinstance(node.value, cst.Tuple):
                if len(t.target.elements) == len(node.value.elements):
                    pairs = [(a.value, b.value) for a, b in zip(t.target.elements, node.value.elements, strict=True)]
            for target, value in pairs:
                if isinstance(target, cst.Name):
                    name = self._sliced(value)
                    if name is not None:
                        self._bound[target.value] = name
                    else:
                        self._bound.pop(target.value, None)

    def _sliced_or_bound(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Name):
            return self._bound.get(node.value)
        return self._sliced(node)

    def visit_For(self, node: cst.For) -> None:
        name = self._sliced_or_bound(node.iter)
        if name is None or not isinstance(node.target, cst.Name):
            return
        calls = _Calls(node.target.value)
        walk(node.body, calls)
        if calls.called:
            self.report(node.iter, self.message.format(name=name))

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        name = self._sliced(f)
        if name is None and isinstance(f, cst.Subscript):
            name = self._sliced_or_bound(f.value)
            f = f.value
        if name is None and isinstance(f, cst.Name) and f.value in self._bound:
            # the compiler: "cannot call a value of type 'Tuple[...]'", at this call
            self.report(node, self._BOUND.format(var=f.value, name=self._bound[f.value]))
        elif name is not None:
            self.report(f, self.message.format(name=name))

    _BOUND = (
        "`{var}` holds modules of a sliced `self.{name}`, a tuple in TorchScript, which cannot be called: the"
        " compiler will say \"cannot call a value of type 'Tuple[...]'\"; iterate `enumerate(self.{name})` and"
        " skip by index"
    )
