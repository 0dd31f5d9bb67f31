"""A mixin for rules that type expressions with the variable types in force where they are."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.context import FunctionContext
    from tsscan.semantic.types import FunctionTypes


class StatementTypes:
    """``type_here(node)``: the type of ``node`` with the variable types at the simple statement
    being walked (the parameter and declared types in compound statements' headers)."""

    ctx: FunctionContext
    _here: cst.BaseSmallStatement | None = None
    _flow: FunctionTypes | None = None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._here = node.body[0] if node.body else None

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._here = None

    def type_here(self, node: cst.BaseExpression) -> str | None:
        if self._flow is None or self._flow.node is not self.ctx.node:
            self._flow = self.ctx.types
        if self._here is not None:
            return self._flow.type_in(self._here, node)
        return self._flow.type_of(node)
