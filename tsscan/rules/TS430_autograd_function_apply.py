import ast

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import UNSAFE, Example, Fix, Rule
from tsscan.rules._ts1_support import is_pure
from tsscan.semantic import astwalk
from tsscan.semantic.module import ClassInfo, ModuleInfo

FUNCTION_BASES = {"torch.autograd.Function", "torch.autograd.function.Function"}
# expressions that need no parentheses where a name stood
ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float, cst.SimpleString)


class AutogradFunctionApply(Rule):
    """`MyFunction.apply(x)`: a custom `torch.autograd.Function` called in compiled code.

    What it does:
        Flags `.apply(...)` on a subclass of `torch.autograd.Function` defined in the same
        file, in code that `torch.jit.script` compiles (not in the `else` of a
        `torch.jit.is_scripting()` test).

    Why is this bad:
        From torch 2.14 on, TorchScript cannot compile custom autograd functions: "Python
        builtin <built-in method apply of FunctionMeta object> is currently not supported in
        Torchscript" (torch 2.13 still scripted the call as an opaque Python call).

    Example:
        return SwishFn.apply(x)

    Use instead:
        In scripted code, compute the function's forward math and let autograd differentiate
        it: `swish_fwd(x) if torch.jit.is_scripting() else SwishFn.apply(x)`.

    Fix:
        When the function's `forward` is a static method whose body, apart from statements on
        `ctx` (`ctx.save_for_backward(...)`, `ctx.x = ...`), is one `return <expr>` using only
        its parameters and names of the module, the call becomes
        `(<expr> if torch.jit.is_scripting() else F.apply(...))` with the arguments in place of
        the parameters. Eager code still calls `F.apply`. UNSAFE: scripted code's gradients
        come from autograd through the forward math, not from the custom `backward` (the same
        values only when `backward` is the true derivative; a straight-through estimator is
        not).
    """

    code = "TS430"
    needs = Needs(calls={"apply"})
    name = "autograd-function-apply"
    message = "`{cls}.apply` calls a custom `torch.autograd.Function`, which TorchScript cannot compile"
    level = "type"
    fails_in = ">=2.14"
    fix_safety = UNSAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


def swish_fwd(x):
    return x.mul(torch.sigmoid(x))


class SwishFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return swish_fwd(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[0]
        s = torch.sigmoid(x)
        return grad_output * (s * (1 + x * (1 - s)))


class Swish(nn.Module):
    def forward(self, x):
        return SwishFn.apply(x)
""",
            fixed="""
import torch
from torch import nn


def swish_fwd(x):
    return x.mul(torch.sigmoid(x))


class SwishFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return swish_fwd(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[0]
        s = torch.sigmoid(x)
        return grad_output * (s * (1 + x * (1 - s)))


class Swish(nn.Module):
    def forward(self, x):
        return (swish_fwd(x) if torch.jit.is_scripting() else SwishFn.apply(x))
""",
            inputs="[(torch.randn(2, 5),), (torch.tensor([0.0, -3.0, float('nan'), float('inf')]),)]",
            fix=UNSAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Clip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lo: float):
        ctx.lo = lo
        return x.clamp(min=lo) * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2, None


class Scale(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = Clip.apply(x + 1, 0.5) + 1
        return y
""",
            fixed="""
import torch
from torch import nn


class Clip(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lo: float):
        ctx.lo = lo
        return x.clamp(min=lo) * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2, None


class Scale(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = ((x + 1).clamp(min=0.5) * 2 if torch.jit.is_scripting() else Clip.apply(x + 1, 0.5)) + 1
        return y
""",
            inputs="[(torch.randn(3, 4),), (torch.tensor([-2.0, 0.0, float('nan')]),)]",
            fix=UNSAFE,
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class SwishFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, g):
        x = ctx.saved_tensors[0]
        s = torch.sigmoid(x)
        return g * (s * (1 + x * (1 - s)))


class Swish(nn.Module):
    def forward(self, x):
        if torch.jit.is_scripting():
            return x * torch.sigmoid(x)
        return SwishFn.apply(x)


class Swish2(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x) if torch.jit.is_scripting() else SwishFn.apply(x)
"""
        ),
    ]

    def on_function(self) -> None:
        self._eager_only: set[int] = set()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        test = node.test
        if isinstance(test, cst.Call) and (self.ctx.qualname(test.func) or "").endswith("jit.is_scripting"):
            self._eager_only.add(id(node.orelse))

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if not (isinstance(f, cst.Attribute) and f.attr.value == "apply" and isinstance(f.value, cst.Name)):
            return
        if id(node) in self._eager_only:
            return
        info = self.ctx.module.classes.get(f.value.value)
        if info is None or not any(set(c.bases) & FUNCTION_BASES for c in info.mro()):
            return
        self.report(node, self.message.format(cls=f.value.value), _forward_math_fix(self.ctx.module, info, node))


def _forward_math_fix(mod: ModuleInfo, info: ClassInfo, call: cst.Call) -> Fix | None:
    fwd = info.methods.get("forward")
    if not isinstance(fwd, ast.FunctionDef) or not any(
        mod.resolve_node(d) == "staticmethod" for d in fwd.decorator_list
    ):
        return None
    a = fwd.args
    if a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults or not a.args:
        return None
    ctx_name, params = a.args[0].arg, [p.arg for p in a.args[1:]]
    if len(call.args) != len(params) or any(arg.keyword is not None or arg.star for arg in call.args):
        return None
    body = list(fwd.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return None
    if not all(_on_ctx(s, ctx_name) for s in body[:-1]):
        return None
    expr = body[-1].value
    names = [n.id for n in astwalk.walk(expr) if isinstance(n, ast.Name)]
    known = set(mod.functions) | set(mod.globals) | set(mod.aliases) | set(mod.classes) | {"float", "int", "bool"}
    if any(n not in params and n not in known for n in names):
        return None  # a local of forward, or ctx
    args = dict(zip(params, (arg.value for arg in call.args), strict=True))
    for p, v in args.items():
        if names.count(p) > 1 and not is_pure(v):
            return None  # would be evaluated twice
    math = cst.parse_expression(ast.unparse(expr)).visit(_Substitute(args))
    if not isinstance(math, cst.BaseExpression):
        return None
    guarded = cst.IfExp(
        test=cst.parse_expression("torch.jit.is_scripting()"),
        body=math,
        orelse=call,
        lpar=[cst.LeftParen()],
        rpar=[cst.RightParen()],
    )
    return Fix(
        replacements=[(call, guarded)],
        imports=["import torch"],
        safety=UNSAFE,
        description=f"compute {info.name}.forward's math when scripting (autograd differentiates it there)",
    )


def _on_ctx(stmt: ast.stmt, ctx_name: str) -> bool:
    """``ctx.save_for_backward(x)`` / ``ctx.k = v``: bookkeeping for ``backward`` only."""

    def on(node: ast.expr) -> bool:
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return isinstance(node, ast.Name) and node.id == ctx_name

    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return on(stmt.value.func)
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Attribute) and on(t) for t in stmt.targets)
    return False


class _Substitute(cst.CSTTransformer):
    """Parameters of ``forward`` replaced by the call's arguments."""

    def __init__(self, args: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.args = args

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        v = self.args.get(original.value)
        if v is None:
            return updated
        if isinstance(v, ATOMS) or v.lpar:
            return v
        return v.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
