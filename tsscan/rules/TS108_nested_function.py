from collections.abc import Sequence

import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.rules.TS210_untyped_default import literal_type
from tsscan.semantic.annotations import param_list, spelled
from tsscan.semantic.closures import Nested, movable
from tsscan.semantic.compiled import first_line
from tsscan.semantic.function_types import FunctionTypes
from tsscan.semantic.receivers import torch_prefix


class NestedFunction(Rule):
    """A `def` inside a compiled function.

    What it does:
        Flags function definitions nested in code that `torch.jit.script` compiles
        (closures, local helpers).

    Why is this bad:
        TorchScript has no closures: the frontend stops with "function definitions aren't
        supported". `nonlocal` can only appear in such a nested function, so it goes with it.

    Example:
        def forward(self, x):
            def scale(t):
                return t * self.alpha
            return scale(x)

    Use instead:
        Move the helper to module level (or make it a method) and pass what it captured as
        arguments.

    Fix:
        When every nested function of the compiled function can move out together (each is a
        statement of the outer body, only called by name, reads no `self`, and nothing it reads
        from the outer function is bound again after its `def`: see
        `tsscan.semantic.closures`), each becomes a module-level function before the class (or
        the function) that held it, named `_<outer>_<inner>` (leading underscores of both
        dropped). What it read from the outer function comes first among its parameters and
        every call passes it; parameters without annotation get the type of the arguments at
        the calls (or of their literal default).
        SAFE: each call computes what it computed (the names passed hold what the closure would
        have read); only the new annotations are for TorchScript.
    """

    code = "TS108"
    needs = Needs(nodes={"NestedFunction"})
    name = "nested-function"
    message = "nested function definitions are not supported by TorchScript; move it to module level"
    fails_in = ">=1.0"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn


class Scaler(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.alpha = 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def scale(t: torch.Tensor) -> torch.Tensor:
            return t * self.alpha

        return scale(x)
"""
        ),
        Example(
            """
import torch
from torch import nn


class Grid(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stride = 2

    def forward(self, x: torch.Tensor, scale: float = 0.5) -> torch.Tensor:
        n = x.shape[-1]

        def cells(ratio, limit=4):
            return min(int(n * ratio), limit)

        def area(ratio):
            c = cells(ratio)
            return c * c

        return x * area(scale) + cells(scale, 3)
""",
            fixed="""
import torch
from torch import nn


def _forward_cells(n: int, ratio: float, limit: int = 4):
    return min(int(n * ratio), limit)


def _forward_area(n: int, ratio: float):
    c = _forward_cells(n, ratio)
    return c * c


class Grid(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stride = 2

    def forward(self, x: torch.Tensor, scale: float = 0.5) -> torch.Tensor:
        n = x.shape[-1]

        return x * _forward_area(n, scale) + _forward_cells(n, scale, 3)
""",
            inputs="[(torch.randn(2, 8),), (torch.randn(3, 5), 1.5)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Counter(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = 1

        def bump(t: torch.Tensor) -> torch.Tensor:
            return t + k

        k = 2
        return bump(x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


def scale(t: torch.Tensor, alpha: float) -> torch.Tensor:
    return t * alpha


class Scaler(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.alpha = 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scale(x, self.alpha)
"""
        ),
    ]

    def on_function(self) -> None:
        self._depth = 0
        self._fix: Fix | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1
        if self._depth == 1:
            self._fix = _lift(self)
        elif self._depth > 1:
            self.report(node, fix=self._fix)
            self._fix = None  # one fix moves them all; reported on the first

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1


def _spell(t: str, torch_head: str | None, imports: set[str]) -> str | None:
    """The annotation for TorchScript type ``t`` (None: a type this fix does not write)."""
    found = spelled(t, torch_head)
    if found is None:
        return None
    imports.update(found[1])
    return found[0]


def _agreed(found: set[str | None], torch_head: str | None, imports: set[str]) -> str | None:
    """The annotation of the one type all sites agree on (None: none, or they differ)."""
    if len(found) != 1:
        return None
    t = next(iter(found))
    return None if t is None else _spell(t, torch_head, imports)


def _argument(call: cst.Call, index: int, name: str) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None]
    if index < len(positional):
        return positional[index].value
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _lift(rule: NestedFunction) -> Fix | None:
    """The fix that moves every nested function of the compiled function out (None: cannot)."""
    ctx = rule.ctx
    outer = ctx.function_node
    cf = ctx.function
    top = cf.cls.node if cf.cls is not None else cf.node
    if top.col_offset != 0:
        return None  # the class or function is not at module level
    p = outer.params
    names = {q.name.value for q in param_list(outer) + [p.star_arg, p.star_kwarg] if isinstance(q, cst.Param)}
    group = movable(outer, names, ctx.self_name)
    if group is None:
        return None
    types = ctx.types
    head, imports = torch_prefix(ctx, ""), set[str]()
    captured: dict[str, str] = {}
    for n in group:
        for c in n.captures:
            sites = [call for m in group if c in m.captures for call in m.calls]
            found = {types.type_at(call, expr=cst.Name(c)) for call in sites}
            spelled = _agreed(found, head, imports)
            if spelled is None:
                return None
            captured[c] = spelled
    taken = set(ctx.module.functions) | set(ctx.module.classes) | set(ctx.module.aliases) | set(ctx.module.globals)
    taken |= ctx.fresh_names
    new_names: dict[str, str] = {}
    for n in group:
        base = f"_{outer.name.value.lstrip('_')}_{n.node.name.value.lstrip('_')}"  # never `__x`: mangled in a class
        name, k = base, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        new_names[n.node.name.value] = name
    lifted: list[str] = []
    for n in group:
        text = _lifted(n, group, new_names, captured, types, head, imports)
        if text is None:
            return None
        lifted.append(text)
    ctx.fresh_names.update(new_names.values())
    by_name = {n.node.name.value: n for n in group}
    calls = {id(c): c for n in group for c in n.calls}
    replacements: list = [(n.node, cst.RemoveFromParent()) for n in group]
    for stmt in outer.body.body:
        if isinstance(stmt, cst.FunctionDef):
            continue
        new = stmt.visit(_PassCaptures(calls, by_name, new_names))
        if new is not stmt:
            replacements.append((stmt, new))
    line = first_line(top) - 1
    return Fix(
        replacements=replacements,
        inserts=[(line, "".join(t + "\n\n\n" for t in lifted))],
        imports=sorted(imports),
        safety=SAFE,
        description="move the nested functions to module level, passing what they captured",
    )


def _lifted(
    n: Nested,
    group: list[Nested],
    new_names: dict[str, str],
    captured: dict[str, str],
    types: FunctionTypes,
    head: str | None,
    imports: set[str],
) -> str | None:
    """The module-level text of ``n``: renamed, captures first, unannotated parameters typed."""
    fn = n.node
    params = fn.params
    own = param_list(fn)
    typed: dict[str, cst.Param] = {}
    for i, q in enumerate(own):
        if q.annotation is not None:
            continue
        args = [_argument(c, i, q.name.value) for c in n.calls] if q not in params.kwonly_params else []
        found = {types.type_at(a) for a in args if a is not None}
        if not found and q.default is not None:
            found = {literal_type(q.default)}
        spelled = _agreed(found, head, imports)
        if spelled is None:
            return None
        spaced = cst.AssignEqual() if q.default is not None else q.equal
        typed[q.name.value] = q.with_changes(annotation=cst.Annotation(cst.parse_expression(spelled)), equal=spaced)
    firsts = [
        cst.Param(cst.Name(c), annotation=cst.Annotation(cst.parse_expression(captured[c]))) for c in sorted(n.captures)
    ]

    def retyped(ps: Sequence[cst.Param]) -> list[cst.Param]:
        return [typed.get(q.name.value, q) for q in ps]

    if params.posonly_params:
        new_params = params.with_changes(
            posonly_params=firsts + retyped(params.posonly_params),
            params=retyped(params.params),
            kwonly_params=retyped(params.kwonly_params),
        )
    else:
        new_params = params.with_changes(
            params=firsts + retyped(params.params), kwonly_params=retyped(params.kwonly_params)
        )
    by_name = {m.node.name.value: m for m in group}
    body = fn.body.visit(_PassCaptures({id(c): c for c in n.sibling_calls}, by_name, new_names))
    new = fn.with_changes(name=cst.Name(new_names[fn.name.value]), params=new_params, body=body, leading_lines=())
    return cst.Module(body=[]).code_for_node(new).rstrip("\n")


class _PassCaptures(cst.CSTTransformer):
    """Calls of moved functions (``calls``, by identity) renamed, their captures passed first."""

    def __init__(self, calls: dict[int, cst.Call], by_name: dict[str, Nested], new_names: dict[str, str]) -> None:
        super().__init__()
        self.calls = calls
        self.by_name = by_name
        self.new_names = new_names

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if id(original_node) not in self.calls or not isinstance(original_node.func, cst.Name):
            return updated_node
        name = original_node.func.value
        first = [cst.Arg(cst.Name(c)) for c in sorted(self.by_name[name].captures)]
        return updated_node.with_changes(func=cst.Name(self.new_names[name]), args=first + list(updated_node.args))
