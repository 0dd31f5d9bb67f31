"""Locals first bound to ``None`` and given another type in a nested block.

TorchScript types ``v = None`` as ``NoneType``; a later ``v = tensor`` inside an ``if`` arm or a
loop is then an error ("Variable 'v' previously had type NoneType but is now being assigned to a
value of type Tensor"), unless ``v`` is annotated ``Optional[...]``.

The flow analysis (:mod:`tsscan.semantic.flow`) stays silent inside ``if`` arms the compiler may
drop (an ``is None`` test on an attribute whose type is not known). Such a retype is still
certain when the *other* arm of an enclosing ``if`` also binds the variable to something other
than ``None``: whichever arm the compiler keeps, the variable is retyped (the beit/maxxvit
pattern ``b = None; if self.table is not None: b = ... elif shared is not None: b = shared``).
"""

from __future__ import annotations

import libcst as cst

from tsscan.semantic.function_types import FunctionTypes, Retype
from tsscan.walk import walk


class _Parents(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.parent: dict[int, cst.CSTNode] = {}
        self.stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.parent[id(node)] = self.stack[-1]
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


class _Binds(cst.CSTVisitor):
    """Does a block assign ``var`` a value other than the literal ``None``?"""

    def __init__(self, var: str) -> None:
        super().__init__()
        self.var = var
        self.found = False

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "None":
            return
        if any(isinstance(t.target, cst.Name) and t.target.value == self.var for t in node.targets):
            self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _binds(block: cst.CSTNode | None, var: str) -> bool:
    if block is None:
        return False
    v = _Binds(var)
    walk(block, v)
    return v.found


def none_retypes(types: FunctionTypes) -> list[tuple[Retype, cst.If | None]]:
    """Every retype of a local first bound to ``None`` that the compiler will report: those the
    flow analysis found on compiled paths (with None), and those in droppable arms that every
    arm of an enclosing ``if`` shares (with that ``if``; see the module docstring)."""
    out: list[tuple[Retype, cst.If | None]] = [(r, None) for r in types.retypes if r.old == "None"]
    if not types.quiet_retypes:
        return out
    parents = _Parents()
    walk(types.node, parents)
    for r in types.quiet_retypes:
        child: cst.CSTNode = r.node
        node = parents.parent.get(id(child))
        while node is not None and node is not types.node:
            if isinstance(node, cst.If) and child is not node.test:
                other = node.orelse if child is node.body else node.body
                if _binds(other, r.var):
                    out.append((r, node))
                    break
            child, node = node, parents.parent.get(id(node))
    return out
