import libcst as cst

from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule

# context managers torch.jit.script rejects (torch 2.13 measured): exact names and prefixes
_REJECTED = {
    "torch.enable_grad",
    "torch.inference_mode",
    "torch.set_grad_enabled",
    "torch.autograd.enable_grad",
    "torch.autograd.inference_mode",
    "torch.autograd.set_grad_enabled",
    "torch.autograd.grad_mode.enable_grad",
    "torch.autograd.grad_mode.inference_mode",
    "torch.autograd.grad_mode.set_grad_enabled",
    "torch.autograd.set_detect_anomaly",
    "torch.autograd.detect_anomaly",
    "torch.autograd.profiler.profile",
    "torch.profiler.profile",
    "torch.random.fork_rng",
    "torch.device",
    "warnings.catch_warnings",
    "open",
}
_REJECTED_PREFIXES = ("contextlib.", "threading.", "tempfile.")
# accepted ones that are still rejected when written without the call: `with torch.no_grad:`
_NEEDS_CALL = {"torch.no_grad", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"}


class UnsupportedContextManager(Rule):
    """`with` on a context manager TorchScript does not support.

    What it does:
        Flags `with` items in compiled code whose context manager is known to be rejected by
        `torch.jit.script`: `torch.enable_grad()`, `torch.inference_mode()`,
        `torch.set_grad_enabled(...)`, anomaly detection and profilers, `contextlib.*`
        (`nullcontext`, `suppress`, ...), `warnings.catch_warnings()`, `open(...)`,
        `torch.device(...)`, and `torch.no_grad` written without parentheses.

    Why is this bad:
        TorchScript supports `with` only for a few context managers: `torch.no_grad()`,
        `torch.autocast(...)`, `record_function(...)`, `torch.jit._IgnoreContextManager` and
        TorchScript classes with `__enter__`/`__exit__`. The others fail with errors such as
        "Unknown builtin op: aten::enable_grad" or "With item expression must return an
        object". Context managers of unknown origin are not flagged.

    Example:
        with torch.inference_mode():
            y = self.body(x)

    Use instead:
        `with torch.no_grad():` for inference-only blocks (tensors made under
        `inference_mode` differ only in `is_inference()`); drop `nullcontext()` and keep the
        body; move Python-only blocks (files, warnings) into a `@torch.jit.ignore` method.

    Fix:
        `torch.set_grad_enabled(False)` becomes `torch.no_grad()` and `with torch.no_grad:`
        gets its call (SAFE: the same grad mode inside the block); a lone
        `with contextlib.nullcontext():` (no arguments, no `as`) is removed and its body kept
        (SAFE: it does nothing). `torch.inference_mode()` becomes `torch.no_grad()` as an
        UNSAFE fix: values and `requires_grad` are the same, but tensors made inside are no
        longer inference tensors. `with torch.set_grad_enabled(<expr>):` (one item, no `as`;
        timm's `AsymmetricLossMultiLabel`) becomes `if torch.jit.is_scripting(): <body>` with
        the original `with` in the `else` arm: eager code is unchanged and compiled code gets
        the same values. UNSAFE: compiled code runs the body in the grad mode around it, so
        its gradients flow through the block where `<expr>` is false.
    """

    code = "TS123"
    name = "unsupported-context-manager"
    message = "`with {name}` is not supported by TorchScript"
    fails_in = ">=1.0"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            y = self.fc(x)
        return y
""",
            fix=UNSAFE,
        ),
        Example(
            """
import contextlib

import torch


@torch.jit.script
def double(x: torch.Tensor) -> torch.Tensor:
    # the caller may swap in autocast here
    with contextlib.nullcontext():
        y = x * 2
        # doubled
        y = y + 0
    return y
""",
            fixed="""
import contextlib

import torch


@torch.jit.script
def double(x: torch.Tensor) -> torch.Tensor:
    # the caller may swap in autocast here
    y = x * 2
    # doubled
    y = y + 0
    return y
""",
            inputs="[(torch.tensor([1.0, float('nan'), -0.0]),), (torch.zeros(0),), (torch.tensor([3, -4]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def frozen(x: torch.Tensor) -> torch.Tensor:
    with torch.set_grad_enabled(False):
        y = x * 2
    return y
""",
            fixed="""
import torch


@torch.jit.script
def frozen(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = x * 2
    return y
""",
            inputs="[(torch.tensor([1.0, -2.0], requires_grad=True),), (torch.zeros(0),), (torch.tensor([1, 2]),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch


@torch.jit.script
def frozen(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad:
        y = x * 2
    return y
""",
            fixed="""
import torch


@torch.jit.script
def frozen(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = x * 2
    return y
""",
            inputs="[(torch.tensor([1.0, -2.0], requires_grad=True),), (torch.zeros(0),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class FocalWeight(nn.Module):
    def __init__(self, frozen: bool = True) -> None:
        super().__init__()
        self.frozen = frozen

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(x)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            pt = p * y + (1 - p) * (1 - y)
            w = torch.pow(1 - pt, 2.0)
        return w * p
""",
            fixed="""
import torch
from torch import nn


class FocalWeight(nn.Module):
    def __init__(self, frozen: bool = True) -> None:
        super().__init__()
        self.frozen = frozen

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(x)
        if torch.jit.is_scripting():
            pt = p * y + (1 - p) * (1 - y)
            w = torch.pow(1 - pt, 2.0)
        else:
            with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
                pt = p * y + (1 - p) * (1 - y)
                w = torch.pow(1 - pt, 2.0)
        return w * p
""",
            inputs="[(torch.randn(2, 3), torch.ones(2, 3)), (torch.tensor([float('nan'), -2.0, 0.0]), torch.zeros(3))]",
            fix=UNSAFE,
        ),
    ]
    valid = [
        Example(
            """
from typing import Any

import torch
from torch import nn
from torch.autograd.profiler import record_function


class Scaler:
    def __init__(self, k: int) -> None:
        self.k = k

    def __enter__(self) -> int:
        return self.k

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        pass


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            y = self.fc(x)
        with record_function("head"), torch.autocast("cpu", enabled=False):
            y = y + 1
        with Scaler(3) as k:
            y = y * k
        return y
"""
        ),
    ]

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            self._check(node, item)

    def _check(self, stmt: cst.With, node: cst.WithItem) -> None:
        item = node.item
        call = item if isinstance(item, cst.Call) else None
        called = call is not None
        target = call.func if call is not None else item
        name = self.ctx.qualname(target)
        if not name:
            return
        if name == "open" and ("open" in self.ctx.module.functions or "open" in self.ctx.module.aliases):
            return
        if name in _REJECTED or name.startswith(_REJECTED_PREFIXES):
            fix = None
            if call is not None:
                fix = self._fix(stmt, node, name, call)
            self.report(node, self.message.format(name=f"{name}(...)" if called else name), fix)
        elif not called and name in _NEEDS_CALL:
            fix = Fix(
                replacements=[(item, cst.Call(func=item))],
                description=f"call it: {name}()",
            )
            self.report(node, f"`with {name}` needs the call: `with {name}():`", fix)

    def _fix(self, stmt: cst.With, node: cst.WithItem, name: str, call: cst.Call):
        no_grad = cst.Call(func=cst.Attribute(value=cst.Name("torch"), attr=cst.Name("no_grad")))
        last = name.rsplit(".", 1)[-1]
        if last == "set_grad_enabled" and len(call.args) == 1:
            arg = call.args[0]
            if arg.star or (arg.keyword is not None and arg.keyword.value != "mode"):
                return None
            if isinstance(arg.value, cst.Name) and arg.value.value == "False":
                return Fix(
                    replacements=[(call, no_grad)],
                    imports=["import torch"],
                    description="use torch.no_grad()",
                )
            return _scripting_arm(stmt, node)
        return self._other_fix(stmt, node, name, call, no_grad, last)

    def _other_fix(self, stmt: cst.With, node: cst.WithItem, name: str, call: cst.Call, no_grad: cst.Call, last: str):
        if last == "inference_mode":
            if call.args and not (
                len(call.args) == 1 and isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == "True"
            ):
                return None
            return Fix(
                replacements=[(call, no_grad)],
                imports=["import torch"],
                safety=UNSAFE,
                description="use torch.no_grad() (UNSAFE: tensors made inside are no longer inference tensors)",
            )
        if name == "contextlib.nullcontext" and not call.args and node.asname is None and len(stmt.items) == 1:
            body = stmt.body
            if (
                not isinstance(body, cst.IndentedBlock)
                or body.header.comment is not None
                or any(line.comment is not None for line in body.footer)
                or stmt.asynchronous is not None
            ):
                return None
            stmts = list(body.body)
            first = stmts[0]
            if not isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):  # libcst has no other
                return None
            stmts[0] = first.with_changes(leading_lines=list(stmt.leading_lines) + list(first.leading_lines))
            return Fix(
                replacements=[(stmt, cst.FlattenSentinel(stmts))],
                description="remove the no-op `with nullcontext():`, keep its body",
            )
        return None


def _scripting_arm(stmt: cst.With, node: cst.WithItem) -> Fix | None:
    """``with torch.set_grad_enabled(<expr>): body`` -> ``if torch.jit.is_scripting(): body``
    ``else: with ...: body``: eager code keeps the grad mode; compiled code runs the body in the
    grad mode around it (UNSAFE: its gradients then flow where ``<expr>`` turned them off)."""
    if len(stmt.items) != 1 or node.asname is not None or stmt.asynchronous is not None:
        return None
    if not isinstance(stmt.body, cst.IndentedBlock):
        return None
    test = cst.parse_expression("torch.jit.is_scripting()")
    inner = stmt.with_changes(leading_lines=[])
    new = cst.If(
        test=test,
        body=stmt.body,
        orelse=cst.Else(body=cst.IndentedBlock(body=[inner])),
        leading_lines=stmt.leading_lines,
    )
    return Fix(
        replacements=[(stmt, new)],
        imports=["import torch"],
        safety=UNSAFE,
        description="keep the grad mode in eager code only (UNSAFE: compiled code's gradients flow through the block)",
    )
