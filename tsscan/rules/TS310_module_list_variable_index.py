import ast
import builtins

import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import SAFE, UNSAFE, Example, Fix, Rule
from tsscan.semantic import astwalk
from tsscan.semantic import attributes as A
from tsscan.semantic.module import ClassInfo
from tsscan.walk import walk

_INDEXED = {A.MODULELIST: "ModuleList", A.SEQUENTIAL: "Sequential", A.PARAMLIST: "ParameterList"}
_ENUMERABLE = {A.MODULELIST, A.SEQUENTIAL}


def literal_index(index: cst.BaseExpression, ctx) -> bool:
    """An integer literal (``0``, ``-1``) or a constant attribute (``self.K`` with Final)."""
    if isinstance(index, cst.Integer):
        return True
    if (
        isinstance(index, cst.UnaryOperation)
        and isinstance(index.operator, cst.Minus)
        and isinstance(index.expression, cst.Integer)
    ):
        return True
    name = ctx.self_attr(index)
    return name is not None and ctx.cls is not None and A.is_constant(ctx.cls, name)


def container_subscript(node: cst.Subscript, ctx, kinds) -> str | None:
    """``A`` when ``node`` is ``self.A[<one index>]`` and ``A`` is a container of ``kinds``."""
    name = ctx.self_attr(node.value)
    cls = ctx.cls
    if name is None or cls is None or not cls.is_module or len(node.slice) != 1:
        return None
    if not isinstance(node.slice[0].slice, cst.Index):
        return None
    if A.attribute_type(cls, name, ctx.module).kind not in kinds:
        return None
    return name


def _index(node: cst.Subscript) -> cst.BaseExpression:
    """The index of a subscript :func:`container_subscript` matched."""
    element = node.slice[0].slice
    assert isinstance(element, cst.Index), "container_subscript matches only self.A[<one index>]"
    return element.value


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.assigned: set[str] = set()
        self.jumps = False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        walk(node.value, self)  # `.m` of `self.m` is no variable
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._targets(node.name)

    def visit_Break(self, node: cst.Break) -> None:
        self.jumps = True

    def visit_Continue(self, node: cst.Continue) -> None:
        self.jumps = True

    def visit_Return(self, node: cst.Return) -> None:
        self.jumps = True

    def _targets(self, t: cst.CSTNode) -> None:
        if isinstance(t, cst.Name):
            self.assigned.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                self._targets(e.value)
        elif isinstance(t, cst.StarredElement):
            self._targets(t.value)


class _Subs(cst.CSTVisitor):
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.subs: list[cst.Subscript] = []
        self.names: dict[int, str] = {}  # id of each of subs: its container's name

    def visit_Subscript(self, node: cst.Subscript) -> None:
        name = container_subscript(node, self.ctx, set(_INDEXED))
        if name is not None:
            self.subs.append(node)
            self.names[id(node)] = name


class _Targets(cst.CSTVisitor):
    """ids of the expressions assigned to or deleted (``self.m[i] = ...``, ``del self.m[i]``)."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.ids.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.ids.add(id(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.ids.add(id(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self.ids.add(id(node.target))


class _ReplaceSubs(cst.CSTTransformer):
    def __init__(self, mapping: dict[int, str]) -> None:
        super().__init__()
        self.mapping = mapping

    def leave_Subscript(self, original_node, updated_node):
        name = self.mapping.get(id(original_node))
        return cst.Name(name) if name else updated_node


def _fresh(base: str, taken: set[str]) -> str:
    one = base[:-1] if len(base) > 3 and base.endswith("s") and not base.endswith("ss") else base
    for cand in (one, base, one + "_", f"{one}_i", "layer", "mod"):
        if cand.isidentifier() and cand not in taken and not hasattr(builtins, cand):
            taken.add(cand)
            return cand
    n = 0
    while f"{base}{n}" in taken:
        n += 1
    taken.add(f"{base}{n}")
    return f"{base}{n}"


def _names_in(canon_src: ast.expr) -> set[str]:
    return {n.id for n in astwalk.walk(canon_src) if isinstance(n, ast.Name)} - {"len", "range"}


class ModuleListVariableIndex(Rule):
    """A `ModuleList` / `Sequential` / `ParameterList` indexed with a variable (`self.m[i]`).

    What it does:
        Flags `self.layers[i]` in compiled code when `layers` is an `nn.ModuleList`,
        `nn.Sequential` or `nn.ParameterList` and the index is not an integer literal
        (`0`, `-1`) or a `Final` constant.

    Why is this bad:
        TorchScript unrolls module containers: each element may be a different type, so it
        must know which one at compile time. "Expected integer literal for index but got a
        variable or non-integer. ModuleList/Sequential indexing is only supported with
        integer literals". `for i in range(len(self.m)): self.m[i](x)` fails too. A variable
        annotated with a `@torch.jit.interface` class may take an item with any index
        (`block: BlockInterface = self.blocks[k]`, then `block.forward(x)`).

    Example:
        for i in range(self.nl):
            x[i] = self.m[i](x[i])

    Use instead:
        for i, m in enumerate(self.m):
            x[i] = m(x[i])

    Fix:
        A loop `for i in range(len(self.m))` or `for i in range(n)` whose body indexes module
        containers only with `i` becomes `for i, m in enumerate(self.m):` (several containers:
        `enumerate(zip(self.a, self.b))`, which TorchScript accepts), and `self.m[i]` becomes
        `m`. The fix is safe when the loop runs exactly over the containers: `range(len(self.m))`,
        or a bound that `__init__` shows equal to every container's length (`self.nl = 3` and
        `ModuleList([... for _ in range(3)])`). Otherwise (a count that could differ, where
        the original raises IndexError or skips layers) it is offered as unsafe. Loops with
        `break`, `continue` or `return` are left alone.
    """

    code = "TS310"
    needs = HOOKS
    name = "module-list-variable-index"
    message = "`self.{name}[...]`: TorchScript indexes a {kind} only with an integer literal; iterate it with `enumerate(self.{name})`"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch
from torch import nn
from typing import List


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.nl = 3
        self.m = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

    def forward(self, x: List[torch.Tensor]) -> List[torch.Tensor]:
        out: List[torch.Tensor] = []
        for i in range(self.nl):
            out.append(self.m[i](x[i]) * i)
        return out
""",
            fixed="""
import torch
from torch import nn
from typing import List


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.nl = 3
        self.m = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

    def forward(self, x: List[torch.Tensor]) -> List[torch.Tensor]:
        out: List[torch.Tensor] = []
        for i, m in enumerate(self.m):
            out.append(m(x[i]) * i)
        return out
""",
            inputs="[([torch.randn(1, 2), torch.randn(4, 2), torch.zeros(0, 2)],), ([torch.randn(1, 2)],)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Tower(nn.Module):
    def __init__(self, width: int = 4):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(width, width), nn.Linear(width, width)])
        self.norms = nn.ModuleList([nn.LayerNorm(width), nn.LayerNorm(width)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k in range(len(self.blocks)):
            x = self.norms[k](x + self.blocks[k](x))
        return x
""",
            fixed="""
import torch
from torch import nn


class Tower(nn.Module):
    def __init__(self, width: int = 4):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(width, width), nn.Linear(width, width)])
        self.norms = nn.ModuleList([nn.LayerNorm(width), nn.LayerNorm(width)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k, (norm, block) in enumerate(zip(self.norms, self.blocks)):
            x = norm(x + block(x))
        return x
""",
            inputs="[(torch.randn(3, 4),), (torch.zeros(0, 4),), (torch.full((1, 4), float('nan')),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
from torch import nn


class Pick(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))

    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        return self.seq[k](x)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import Final, List


class Heads(nn.Module):
    last: Final[int] = 2

    def __init__(self):
        super().__init__()
        self.m = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        self.scales = [1.0, 2.0, 3.0]

    def forward(self, x: List[torch.Tensor]) -> torch.Tensor:
        y = self.m[0](x[0]) + self.m[-1](x[0]) + self.m[self.last](x[0])
        for i, m in enumerate(self.m):
            y = y + m(x[i]) * self.scales[i]
        return y
"""
        ),
        Example(
            """
import torch
from torch import nn


@torch.jit.interface
class BlockInterface(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:  # the parameter names of nn.Linear
        pass


class Pick(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        block: BlockInterface = self.blocks[k]
        return block.forward(x)
"""
        ),
    ]

    def on_function(self) -> None:
        self._loops: list[dict] = []

    def visit_For(self, node: cst.For) -> None:
        self._loops.append(self._plan(node))

    def leave_For(self, original_node: cst.For) -> None:
        self._loops.pop()

    def visit_Subscript(self, node: cst.Subscript) -> None:
        name = container_subscript(node, self.ctx, set(_INDEXED))
        if name is None or self.ctx.interface_typed(node):
            return
        if literal_index(_index(node), self.ctx):
            return
        fix = None
        for plan in reversed(self._loops):
            if plan.get("fix") is not None and id(node) in plan["subs"]:
                fix, plan["fix"] = plan["fix"], None  # one fix per loop
                break
        cls = self.ctx.cls
        assert cls is not None, "container_subscript matches only in methods of a module class"
        kind = _INDEXED[A.attribute_type(cls, name, self.ctx.module).kind]
        self.report(node, self.message.format(name=name, kind=kind), fix)

    # ------------------------------------------------------------------ the fix
    def _plan(self, loop: cst.For) -> dict:
        plan: dict = {"subs": set(), "fix": None}
        ctx, cls = self.ctx, self.ctx.cls
        me = ctx.self_name
        if cls is None or me is None or loop.orelse is not None or loop.asynchronous is not None:
            return plan
        if not isinstance(loop.target, cst.Name):
            return plan
        it = loop.iter
        if not (
            isinstance(it, cst.Call)
            and isinstance(it.func, cst.Name)
            and it.func.value == "range"
            and ctx.qualname(it.func) == "range"
            and len(it.args) == 1
            and it.args[0].keyword is None
            and it.args[0].star == ""
        ):
            return plan
        i = loop.target.value
        subs = _Subs(ctx)
        walk(loop.body, subs)
        mine = [s for s in subs.subs if isinstance(index := _index(s), cst.Name) and index.value == i]
        if not mine:
            return plan
        order: list[str] = []
        for s in mine:
            n = subs.names[id(s)]
            if n not in order:
                order.append(n)
        kinds = {n: A.attribute_type(cls, n, ctx.module).kind for n in order}
        if any(k not in _ENUMERABLE for k in kinds.values()):
            return plan
        # every subscript of these containers in the body must be `[i]`
        if any(ctx.self_attr(s.value) in order and s not in mine for s in subs.subs):
            return plan
        names = _Names()
        walk(loop.body, names)
        if i in names.assigned or names.jumps:
            return plan
        targets = _Targets()
        walk(loop.body, targets)
        if any(id(s) in targets.ids for s in mine):  # `self.m[i] = ...` is no call site
            return plan
        plan["subs"] = {id(s) for s in mine}
        safety = self._safety(cls, it.args[0].value, order)
        if safety is None:
            return plan
        fn_names = _Names()
        # every name of the function (params too) and of the file is taken
        root = self.ctx.node
        if root is not None:
            walk(root, fn_names)
        taken = (
            fn_names.names
            | set(ctx.module.aliases)
            | set(ctx.module.functions)
            | set(ctx.module.classes)
            | set(ctx.module.globals)
            | {i}
        )
        var = {n: _fresh(n, taken) for n in order}
        if len(order) == 1:
            head = f"for {i}, {var[order[0]]} in enumerate({me}.{order[0]}):\n    pass\n"
        else:
            vs = ", ".join(var[n] for n in order)
            cs = ", ".join(f"{me}.{n}" for n in order)
            head = f"for {i}, ({vs}) in enumerate(zip({cs})):\n    pass\n"
        proto = cst.parse_statement(head)
        assert isinstance(proto, cst.For)
        mapping = {id(s): var[subs.names[id(s)]] for s in mine}
        new_body = loop.body.visit(_ReplaceSubs(mapping))
        new = loop.with_changes(target=proto.target, iter=proto.iter, body=new_body)
        what = ", ".join(f"self.{n}[{i}]" for n in order)
        plan["fix"] = Fix(
            replacements=[(loop, new)],
            safety=safety,
            description=f"iterate with enumerate instead of indexing {what}",
        )
        return plan

    def _safety(self, cls: ClassInfo, bound: cst.BaseExpression, order: list[str]) -> str | None:
        ctx = self.ctx
        lengths = [A.module_container_length(cls, n, ctx.module) for n in order]
        init = cls.find_method("__init__")
        init_assigned: set[str] = set()
        if init is not None:
            for node in astwalk.walk(init[0]):
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
                    tgts = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in tgts:
                        for n in astwalk.walk(t):
                            if isinstance(n, ast.Name):
                                init_assigned.add(n.id)

        def canon_ok(c: str | None) -> bool:
            if c is None:
                return False
            expr = eval(c, {k: getattr(ast, k) for k in dir(ast)})  # ast.dump without fields -> node
            return not (_names_in(expr) & init_assigned)

        # range(len(self.X)) with X one of the containers
        if (
            isinstance(bound, cst.Call)
            and isinstance(bound.func, cst.Name)
            and bound.func.value == "len"
            and len(bound.args) == 1
        ):
            x = ctx.self_attr(bound.args[0].value)
            if x in order:
                own = lengths[order.index(x)]
                if len(order) == 1:
                    return SAFE
                return SAFE if own is not None and canon_ok(own) and all(ln == own for ln in lengths) else UNSAFE
            return UNSAFE
        expect: str | None = None
        if isinstance(bound, cst.Integer):
            expect = A._canon(ast.Constant(int(bound.evaluated_value)))
        else:
            attr = ctx.self_attr(bound)
            if attr is not None:
                w = A.class_writes(cls)
                if all(m == "__init__" for m, _ in w.assigned.get(attr, [])) and not w.mutated.get(attr):
                    expect = A.init_value_canon(cls, attr)
        if expect is not None and canon_ok(expect) and all(ln == expect for ln in lengths):
            return SAFE
        return UNSAFE
