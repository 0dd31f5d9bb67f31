"""What ``torch.jit.script`` compiles for one class of a file, for the constructor-configuration
checks (:mod:`tsscan.semantic.config_uses`): a method the compiler reaches only from a loop over a
module container, or only under a test it decides per instance, is judged with care.
"""

from __future__ import annotations

import ast

from tsscan.semantic import astwalk
from tsscan.semantic import attributes as A
from tsscan.semantic.config_eval import is_self_attr
from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo, self_name

_NOT_FOLLOWED = {"torch.jit.ignore", "torch.jit.unused"}


def loops_over_modules(cls: ClassInfo, module: ModuleInfo, it: ast.expr, me: str | None) -> bool:
    """True when a ``for`` over ``it`` is unrolled per submodule (``self.blocks``,
    ``enumerate(self.blocks)``): its body is not compiled at all when the container is empty."""
    for n in astwalk.walk(it):
        if is_self_attr(n, me):
            assert isinstance(n, ast.Attribute)
            kind = A.attribute_type(cls, n.attr, module).kind
            if kind in A.MODULE_CONTAINERS or kind == A.UNKNOWN:
                return True
    return False


SURE, LOOP, GUARDED = 2, 1, 0  # how surely a method is compiled (see reached)


def reached(cls: ClassInfo, module: ModuleInfo) -> dict[int, int]:
    """The methods ``torch.jit.script`` compiles for an instance of ``cls``: id of the function
    node -> SURE; LOOP when only called from the body of a loop over a module container (not
    compiled when it is empty); GUARDED when only called under a test the compiler decides per
    instance (``if self.rope is not None:``, ``hasattr``, a ``Final`` flag, or after such a test
    that returns), where the attributes are not what they are elsewhere."""
    known = cls.reached.get(id(module))
    if known is not None:
        return known
    out: dict[int, int] = {}
    queue: list[tuple[FuncNode, int]] = []

    def add(name: str, level: int) -> None:
        found = cls.find_method(name)
        if found is None:
            return
        fn = found[0]
        decs = {module.resolve_node(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list}
        if decs & _NOT_FOLLOWED or (name == "__init__"):
            return
        if out.get(id(fn), -1) >= level:
            return
        out[id(fn)] = level
        queue.append((fn, level))

    for c in cls.mro():
        for name, fn in c.methods.items():
            decs = {module.resolve_node(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list}
            if (
                name == "forward"
                or "torch.jit.export" in decs
                or ("property" in decs and name not in c.unused_properties)
            ):
                add(name, SURE)
    while queue:
        fn, level = queue.pop(0)
        me = self_name(fn)
        loop_nodes: set[int] = set()
        for node in astwalk.walk(fn):
            if isinstance(node, (ast.For, ast.comprehension)) and loops_over_modules(cls, module, node.iter, me):
                for part in node.body if isinstance(node, ast.For) else []:
                    loop_nodes |= {id(x) for x in astwalk.walk(part)}
        guarded = _guarded_nodes(fn.body, cls, module, me)
        for node in astwalk.walk(fn):
            if isinstance(node, ast.Call) and is_self_attr(node.func, me):
                assert isinstance(node.func, ast.Attribute)
                here = GUARDED if id(node) in guarded else LOOP if id(node) in loop_nodes else SURE
                add(node.func.attr, min(level, here))
    cls.reached[id(module)] = out
    return out


def _static_test(test: ast.expr, cls: ClassInfo, module: ModuleInfo, me: str | None) -> bool:
    """A test the compiler may decide per instance (so the code it guards sees narrowed attributes)."""
    for n in astwalk.walk(test):
        if isinstance(n, ast.Compare) and any(isinstance(o, (ast.Is, ast.IsNot)) for o in n.ops):
            if any(is_self_attr(x, me) for x in [n.left, *n.comparators]):
                return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "hasattr":
            return True
        if isinstance(n, ast.Call) and module.resolve_node(n.func) == "torch.jit.is_scripting":
            return True
        if is_self_attr(n, me) and A.is_constant(cls, n.attr):
            return True
    return False


def _guarded_nodes(stmts: list[ast.stmt], cls: ClassInfo, module: ModuleInfo, me: str | None) -> set[int]:
    """Ids of the nodes under a test :func:`_static_test` accepts, or after one whose arm leaves."""
    out: set[int] = set()
    for i, s in enumerate(stmts):
        if isinstance(s, ast.If) and _static_test(s.test, cls, module, me):
            for part in (s.body, s.orelse):
                for x in part:
                    out |= {id(n) for n in astwalk.walk(x)}
            if any(isinstance(x, (ast.Return, ast.Raise)) for x in s.body + s.orelse):
                for rest in stmts[i + 1 :]:
                    out |= {id(n) for n in astwalk.walk(rest)}
                return out
            continue
        for n in astwalk.walk(s):
            if isinstance(n, ast.IfExp) and _static_test(n.test, cls, module, me):
                out |= {id(x) for part in (n.body, n.orelse) for x in astwalk.walk(part)}
        for field_name in ("body", "orelse", "finalbody", "handlers"):
            sub = getattr(s, field_name, None)
            if isinstance(sub, list) and sub:
                inner = [h for x in sub for h in (x.body if isinstance(x, ast.ExceptHandler) else [x])]
                out |= _guarded_nodes(inner, cls, module, me)
    return out
