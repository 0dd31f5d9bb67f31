"""A mixin for rules whose fixes put a new expression in place of an old one."""

from __future__ import annotations

import libcst as cst


class BareExpressions:
    """``self.bare``: ids of the expressions where any expression may stand without parentheses
    (a statement's whole value, an argument, an ``if``/``while`` test). Rules reset it in
    ``on_function`` with :meth:`reset_bare`."""

    bare: set[int]

    def reset_bare(self) -> None:
        self.bare = set()

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.bare.add(id(node.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        self.bare.add(id(node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.bare.add(id(node.value))

    def visit_If(self, node: cst.If) -> None:
        self.bare.add(id(node.test))

    def visit_While(self, node: cst.While) -> None:
        self.bare.add(id(node.test))

    def visit_Arg(self, node: cst.Arg) -> None:
        self.bare.add(id(node.value))
