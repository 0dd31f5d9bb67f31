"""Which TorchScript signatures a call in compiled code is checked against, when the callee is a
torch operator (``torch.zeros``, ``torch.nn.functional.relu``: a registered schema) or a method
of a value the compiler types ``Tensor`` (``x.view``); from the generated knowledge tables."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from tsscan.semantic.function import FunctionFacts
from tsscan.semantic.knowledge import Signature
from tsscan.semantic.receivers import kinds_for


def operator_overloads(
    ctx: FunctionFacts, func: cst.BaseExpression, type_of: Callable[[cst.BaseExpression], str | None]
) -> list[Signature]:
    """The overloads the compiler tries for a call of ``func``; empty when ``func`` is neither a
    torch operator reached through an import nor a method of a ``Tensor`` (``type_of`` types
    the receiver)."""
    knowledge = ctx.knowledge
    head = func
    while isinstance(head, cst.Attribute):
        head = head.value
    assert ctx.node is not None, "the engine sets the function before the rules run"
    if (
        isinstance(head, cst.Name)
        and head.value in ctx.module.aliases
        and head.value not in kinds_for(ctx, ctx.node).local_names
    ):
        qual = ctx.qualname(func) or ""
        return knowledge.function_overloads(qual) if knowledge.function_kind(qual) == "builtin" else []
    if isinstance(func, cst.Attribute) and type_of(func.value) == "Tensor":
        return knowledge.method_overloads(func.attr.value)
    return []
