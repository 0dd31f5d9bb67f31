"""Who calls whom among the functions of one file that the compiler compiles: free functions
called by name and methods called through ``self``. Used to find recursion, which TorchScript
rejects ("function 'f' is called recursively. Recursive calls are not supported")."""

from __future__ import annotations

import ast

from tsscan.semantic import astwalk
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo, self_name

# a node of the call graph: ("f", name) for a free function, ("m", name) for a method
Callee = tuple[str, str]

_NOT_COMPILED = ("torch.jit.ignore", "torch.jit.unused", "torch.jit._drop")


def _compiled_body(fn: FuncNode, mod: ModuleInfo) -> bool:
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if mod.resolve_node(target) in _NOT_COMPILED:
            return False
    return True


def _params(fn: FuncNode) -> set[str]:
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return set(names)


def callee_of(
    func: ast.expr, mod: ModuleInfo, cls: ClassInfo | None, me: str | None, shadowed: set[str]
) -> Callee | None:
    """The function of this file a call's ``func`` names: ``f(...)`` (a module-level function the
    caller does not shadow), ``self.m(...)`` or ``self(...)`` (``forward``) in a method."""
    if isinstance(func, ast.Name):
        if func.id == me and cls is not None:
            return ("m", "forward")
        if func.id in mod.functions and func.id not in shadowed:
            return ("f", func.id)
    if (
        cls is not None
        and me is not None
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == me
        and cls.find_method(func.attr) is not None
    ):
        return ("m", func.attr)
    return None


def _node(key: Callee, mod: ModuleInfo, cls: ClassInfo | None) -> FuncNode | None:
    kind, name = key
    if kind == "f":
        return mod.functions.get(name)
    found = cls.find_method(name) if cls is not None else None
    return found[0] if found else None


# the functions each function of a file calls, by (id of its class, the function)
_EDGES: Memo[dict[tuple[int, Callee], set[Callee]]] = Memo("call edges of a file")


def _edges(key: Callee, mod: ModuleInfo, cls: ClassInfo | None) -> set[Callee]:
    """The functions ``key`` calls (kept on ``mod``: every compiled function of a file asks)."""
    cache = _EDGES.on(mod, lambda _: {})
    slot = (id(cls), key)
    if slot not in cache:
        cache[slot] = _calls_of(key, mod, cls)
    return cache[slot]


def _calls_of(key: Callee, mod: ModuleInfo, cls: ClassInfo | None) -> set[Callee]:
    fn = _node(key, mod, cls)
    if fn is None or not _compiled_body(fn, mod):
        return set()
    if any(mod.resolve_node(d) == "staticmethod" for d in fn.decorator_list):
        me = None
    else:
        me = self_name(fn) if key[0] == "m" else None
    shadowed = _params(fn) - ({me} if me else set())
    out: set[Callee] = set()
    for node in astwalk.walk(fn):
        if isinstance(node, ast.Call):
            callee = callee_of(node.func, mod, cls if key[0] == "m" else None, me, shadowed)
            if callee is not None and (callee[0] == "f" or key[0] == "m"):
                out.add(callee)
    return out


def recursive_functions(mod: ModuleInfo, cls: ClassInfo | None, start: Callee) -> set[Callee]:
    """The functions reachable from ``start`` (itself included) that can reach themselves
    again through calls: each call of one of them makes the compiler fail."""
    graph: dict[Callee, set[Callee]] = {}
    todo = [start]
    while todo:
        key = todo.pop()
        if key in graph:
            continue
        graph[key] = _edges(key, mod, cls)
        todo.extend(graph[key])

    def reaches(src: Callee, dst: Callee) -> bool:
        seen: set[Callee] = set()
        stack = list(graph.get(src, ()))
        while stack:
            k = stack.pop()
            if k == dst:
                return True
            if k not in seen:
                seen.add(k)
                stack.extend(graph.get(k, ()))
        return False

    return {k for k in graph if _node(k, mod, cls) is not None and reaches(k, k)}


def cycle_path(mod: ModuleInfo, cls: ClassInfo | None, key: Callee) -> list[Callee]:
    """One shortest call path from ``key`` back to itself (``[key, ..., key]``), empty if none."""
    queue: list[list[Callee]] = [[key]]
    seen: set[Callee] = set()
    while queue:
        path = queue.pop(0)
        for c in sorted(_edges(path[-1], mod, cls)):
            if c == key:
                return path + [key]
            if c not in seen:
                seen.add(c)
                queue.append(path + [c])
    return []
