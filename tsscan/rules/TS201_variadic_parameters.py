import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import UNSAFE, Example, Fix, Rule


class VariadicParameters(Rule):
    """`*args` / `**kwargs` in the signature of a compiled function.

    What it does:
        Flags `*args` and `**kwargs` parameters of functions that `torch.jit.script`
        compiles: `forward`, exported methods, scripted functions, the functions they call,
        and the signatures of called `@torch.jit.unused` methods. `__init__` is not
        compiled and may take `**kwargs`.

    Why is this bad:
        "Compiled functions can't take variable number of arguments or use keyword-only
        arguments with defaults": every argument of a compiled function needs a name and a
        static type.

    Example:
        def forward(self, x, *extra, **options):
            ...

    Use instead:
        Explicit, typed parameters with defaults (`scale: float = 1.0`); a `List[Tensor]`
        parameter for a variable number of tensors.

    Fix:
        An `*args` or `**kwargs` that the body never uses is removed (keyword-only
        parameters after `*args` stay keyword-only). A `**kwargs` that the body only passes
        on whole (`self.fn(x, **kwargs)`) is removed with the `**kwargs` of those calls: a
        call given an empty `**kwargs` is the same call without it. UNSAFE: an eager caller
        that passed extra arguments, which were ignored or passed on, now gets a
        `TypeError`. No fix when the body uses them otherwise (`kwargs.get(...)`), nor for an
        `*args` passed on (the positional arguments it carries would be lost).
    """

    code = "TS201"
    needs = Needs(nodes={"VarArg"})
    name = "variadic-parameters"
    message = "`{star}{name}` parameters are not supported by TorchScript; use explicit typed parameters"
    fails_in = ">=1.0"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        return self.fc(x)
""",
            fixed="""
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)
""",
            inputs="[(torch.randn(2, 4),), (torch.tensor([[1.0, float('nan'), -2.0, 0.0]]),)]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Scale(nn.Module):
    def forward(self, x: torch.Tensor, scale: float = 2.0) -> torch.Tensor:
        return x * scale


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fn = Scale()

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        return x + self.fn(
            x,
            **kwargs,
        )
""",
            fixed="""
import torch
from torch import nn


class Scale(nn.Module):
    def forward(self, x: torch.Tensor, scale: float = 2.0) -> torch.Tensor:
        return x * scale


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fn = Scale()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fn(
            x,
        )
""",
            inputs="[(torch.randn(2, 4),)]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Blend(nn.Module):
    def forward(self, x: torch.Tensor, *others: torch.Tensor) -> torch.Tensor:
        for o in others:
            x = x + o
        return x
"""
        ),
        Example(
            """
import torch
from torch import nn


class Blend(nn.Module):
    def forward(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return x * options["scale"]
"""
        ),
    ]
    valid = [
        Example(
            """
from typing import List

import torch
from torch import nn


class Blend(nn.Module):
    def __init__(self, **kwargs: float) -> None:
        super().__init__()
        self.scale = kwargs.get("scale", 1.0)

    def forward(self, x: torch.Tensor, others: List[torch.Tensor], scale: float = 1.0) -> torch.Tensor:
        for o in others:
            x = x + o
        return x * scale * self.scale
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self._depth > 1:
            return  # nested defs are reported by TS108
        params = node.params
        for star, p in (("*", params.star_arg), ("**", params.star_kwarg)):
            if not isinstance(p, cst.Param):
                continue
            name = p.name.value
            forwards = self.ctx.star_forwards(name, star)
            fix = None
            if forwards == []:
                fix = Fix(
                    replacements=[(params, _without(params, star))],
                    safety=UNSAFE,
                    description=f"remove the unused `{star}{name}` (callers passing extra arguments get a TypeError)",
                )
            elif forwards and star == "**":
                # ``g(x, **kwargs)`` with ``kwargs == {}`` is ``g(x)``: the same for every caller
                # that passes no extra keyword argument
                calls = [(call, _call_without(call, arg)) for call, arg in forwards]
                fix = Fix(
                    replacements=[(params, _without(params, star)), *calls],
                    safety=UNSAFE,
                    description=f"remove `**{name}`, which is only passed on to {_calls(len(calls))} "
                    "(callers passing extra keyword arguments get a TypeError)",
                )
            self.report(p, self.message.format(star=star, name=name), fix)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1


def _calls(n: int) -> str:
    return "one call" if n == 1 else f"{n} calls"


def _call_without(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``call`` without ``arg``; where ``arg`` was the last, the argument before it takes its
    comma and trailing whitespace, so ``g(x, **kw)`` becomes ``g(x)`` and a call spread over
    lines keeps its layout."""
    args = list(call.args)
    i = next(k for k, a in enumerate(args) if a is arg)
    del args[i]
    if i == len(args) and args:
        args[-1] = args[-1].with_changes(comma=arg.comma, whitespace_after_arg=arg.whitespace_after_arg)
    return call.with_changes(args=args)


def _without(params: cst.Parameters, star: str) -> cst.Parameters:
    """``params`` without its ``*args`` (``star == "*"``) or ``**kwargs``; no trailing comma
    is left where the signature had none."""
    if star == "*":
        new = params.with_changes(star_arg=cst.ParamStar() if params.kwonly_params else cst.MaybeSentinel.DEFAULT)
    else:
        new = params.with_changes(star_kwarg=None)
    order: list[cst.Param | cst.ParamStar] = [*new.posonly_params, *new.params]
    if isinstance(new.star_arg, (cst.Param, cst.ParamStar)):
        order.append(new.star_arg)
    order += [*new.kwonly_params, *([new.star_kwarg] if new.star_kwarg else [])]
    removed = params.star_arg if star == "*" else params.star_kwarg
    was_last = not new.kwonly_params and (star == "**" or params.star_kwarg is None)
    if order and was_last and isinstance(removed, cst.Param):
        # the new last parameter takes the removed one's comma and the space after it, so
        # ``f(x, **kw)`` becomes ``f(x)`` and a signature spread over lines keeps its layout
        last = order[-1]
        if isinstance(last, cst.Param):
            fixed = last.with_changes(comma=removed.comma, whitespace_after_param=removed.whitespace_after_param)
            replaced = new.deep_replace(last, fixed)
            assert isinstance(replaced, cst.Parameters)
            new = replaced
    return new
