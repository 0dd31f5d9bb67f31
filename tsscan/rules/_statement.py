"""A base for rules that ask the type of an expression nested in a statement: not a rule file
(leading ``_``).

The flow types (:attr:`FunctionContext.types`) are recorded per statement: each small
statement, and the ``if``/``while``/``for`` whose test or iterable is being walked.
:class:`StatementRule` keeps the statement the walk is in, and :meth:`StatementRule.type_here`
asks the one expression typer with the variable types in force there. Subclasses hook only
expression nodes (``visit_Call``, ``visit_Subscript``) and leave the statement hooks to this base.
"""

from __future__ import annotations

import libcst as cst

from tsscan.rule import Rule


class StatementRule(Rule):
    """Tracks the statement whose types the expression being visited sees."""

    def on_function(self) -> None:
        self._stmt: cst.CSTNode | None = None

    def _enter(self, node: cst.CSTNode) -> None:
        self._stmt = node

    def _leave(self, node: cst.CSTNode) -> None:
        self._stmt = None  # a block follows: its statements set their own

    visit_Assign = visit_AnnAssign = visit_AugAssign = visit_Return = _enter
    visit_Expr = visit_Assert = visit_Del = visit_If = visit_While = visit_For = _enter
    # the block after a header, and each line of it, start again (no attribute hooks: they slow
    # every rule's walk)
    visit_IndentedBlock = visit_SimpleStatementSuite = visit_SimpleStatementLine = _leave

    def type_here(self, expr: cst.BaseExpression) -> str | None:
        """The type of ``expr`` at the statement being walked (None outside any)."""
        if self._stmt is None:
            return None
        return self.ctx.types.type_in(self._stmt, expr)
