import re

import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.knowledge import Arg


def _wants_list(overloads: list[list[Arg]], index: int | None, keyword: str | None) -> tuple[str, set[str]] | None:
    """The parameter name and its list types when every overload that has this argument wants
    a list of tensors there and cannot pack a single value into one, else None."""
    found = None
    types: set[str] = set()
    for ov in overloads:
        if any(a.name.startswith("*") for a in ov):
            return None
        if keyword is not None:
            pos = next((i for i, a in enumerate(ov) if a.name == keyword), None)
        else:
            pos = index if index is not None and index < len(ov) and not ov[index].kwarg_only else None
        if pos is None:
            continue  # this overload does not take the argument: it cannot match anyway
        arg = ov[pos]
        if not (arg.type.startswith("List[") and "Tensor" in arg.type):
            return None
        # the compiler packs trailing positional values into a list parameter when it is the
        # last positional one (`torch.hstack(x)` compiles as `torch.hstack([x])`)
        last = pos + 1 == len(ov) or ov[pos + 1].kwarg_only
        if keyword is None and last:
            return None
        found = arg.name
        types.add(arg.type)
    return None if found is None else (found, types)


class TensorForListArgument(Rule):
    """A Tensor passed where a torch function takes a list of tensors (`torch.cat(x, dim=1)`).

    What it does:
        Flags arguments of `torch.*` operator calls that are certainly a Tensor where every
        schema of the operator takes a list of tensors (`torch.cat`, `torch.stack`,
        `torch.concat`, `torch.index_put`, ..., from the generated table): parameters without
        annotation (TorchScript types them `Tensor`) or annotated `Tensor` and never rebound,
        and locals every assignment of which gives a Tensor. A list parameter that is the
        last positional one (`torch.hstack(x)`) is left alone: the compiler packs a single
        value into a list there.

    Why is this bad:
        Eager `torch.cat` iterates any sequence, a Tensor included (along its first
        dimension). TorchScript matches the schema `cat(Tensor[] tensors, int dim=0)` and a
        Tensor is not a `Tensor[]`: "Arguments for call are not valid". It happens most often
        when a `forward` receives a list but its parameter has no annotation.

    Example:
        def forward(self, x):
            return torch.cat(x, dim=1)

    Use instead:
        Annotate the parameter (`def forward(self, x: List[torch.Tensor])`), or pass a list
        (`torch.cat([x, y], dim=1)`, `torch.cat(x.unbind(0), dim=1)`).

    Fix:
        A parameter without annotation passed there is annotated with the schema's list type
        (`x: List[torch.Tensor]`). SAFE: an annotation does not change what eager code does
        (the compiler then checks the parameter's other uses; a fix it rejects is reverted).
    """

    code = "TS409"
    needs = HOOKS
    name = "tensor-for-list-argument"
    message = "`{func}` takes a list of tensors as `{param}`, and this is a Tensor{why}; annotate it `List[Tensor]` or pass a list"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Select(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mode = "cat"

    def forward(self, x) -> torch.Tensor:
        if self.mode == "index":
            return x[0]
        return torch.cat(x, dim=1)
""",
            fixed="""
import torch
from torch import nn
from typing import List


class Select(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mode = "cat"

    def forward(self, x: List[torch.Tensor]) -> torch.Tensor:
        if self.mode == "index":
            return x[0]
        return torch.cat(x, dim=1)
""",
            inputs="[([torch.randn(2, 3), torch.randn(2, 1)],), ([torch.tensor([[float('nan')]])],)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def pile(x: torch.Tensor) -> torch.Tensor:
    y = x * 2
    return torch.stack(y, 0)
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch
from torch import nn


class Select(nn.Module):
    def forward(self, x: List[torch.Tensor], t, xs: List[List[torch.Tensor]]) -> torch.Tensor:
        parts = [torch.cat(p, 0) for p in xs]
        a = torch.cat(x, dim=1)
        b = torch.cat(t.unbind(0), dim=0)
        c = torch.hstack(t)
        u = t
        u = [t, t]
        return a.sum() + b.sum() + c.sum() + torch.stack(u).sum() + len(parts)
"""
        ),
    ]

    def on_function(self) -> None:
        self._comp = 0

    # names inside comprehensions and lambdas are their own scope: not judged
    def _enter(self, node: cst.CSTNode) -> None:
        self._comp += 1

    def _exit(self, original_node: cst.CSTNode) -> None:
        self._comp -= 1

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda = _enter
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = leave_Lambda = _exit

    def visit_Call(self, node: cst.Call) -> None:
        if self._comp:
            return
        qual = self.ctx.qualname(node.func)
        if not qual or not qual.startswith("torch.") or qual.count(".") != 1:
            return
        kn = self.ctx.knowledge
        if kn.function_kind(qual) != "builtin":
            return
        overloads = kn.overloads(qual)
        if not overloads:
            return
        index = 0
        for arg in node.args:
            if arg.star:
                return  # positions after `*args` are unknown
            keyword = arg.keyword.value if arg.keyword is not None else None
            wants = _wants_list(overloads, None if keyword else index, keyword)
            if keyword is None:
                index += 1
            if wants is None:
                continue
            why = self._tensor(arg.value)
            if why is not None:
                fix = self._annotate(arg.value, wants[1]) if "no annotation" in why else None
                self.report(arg.value, self.message.format(func=qual, param=wants[0], why=why), fix)

    def _annotate(self, e: cst.BaseExpression, types: set[str]) -> Fix | None:
        """The unannotated parameter ``e`` gets the schema's list type."""
        param = self._param(e.value) if isinstance(e, cst.Name) else None
        if param is None or len(types) != 1:
            return None
        (t,) = types
        text = re.sub(r"\bTensor\b", "torch.Tensor", t)
        imports = [f"from typing import {g}" for g in ("List", "Optional") if g + "[" in text] + ["import torch"]
        new = param.with_changes(annotation=cst.Annotation(cst.parse_expression(text)))
        return Fix(
            replacements=[(param, new)],
            imports=imports,
            safety=SAFE,
            description=f"annotate `{param.name.value}: {text}`",
        )

    def _tensor(self, e: cst.BaseExpression) -> str | None:
        """A reason text when ``e`` is certainly a Tensor in the compiled code, else None."""
        types = self.ctx.types
        if isinstance(e, cst.Name):
            name = e.value
            param = self._param(name)
            if param is not None:
                # what the caller passed, when the body never binds the name again
                if types.rebinds(name) or types.params.get(name) != "Tensor" or param.default is not None:
                    return None
                if param.annotation is None:
                    return f" (`{name}` has no annotation, so TorchScript types it `Tensor`)"
                return f" (`{name}` is annotated `Tensor`)"
            if name in types.declared:
                return None  # an annotated local: its annotation says what it holds
        return "" if types.type_at(e) == "Tensor" else None

    def _param(self, name: str) -> cst.Param | None:
        params = self.ctx.function_node.params
        for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            if p.name.value == name:
                return p
        return None
