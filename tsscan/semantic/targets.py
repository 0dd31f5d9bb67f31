"""The names an assignment target binds: one answer for the flow walk, the branch model and the
rules (``a, (b, *c) = ...`` binds ``a``, ``b`` and ``c``; ``self.x = ...`` and ``x[i] = ...``
bind no name)."""

from __future__ import annotations

import libcst as cst


def bound_names(target: cst.BaseExpression) -> list[cst.Name]:
    """The ``Name`` nodes that ``target`` binds, left to right, through tuples, lists and
    starred elements."""
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in bound_names(el.value)]
    if isinstance(target, cst.StarredElement):
        return bound_names(target.value)
    return []
