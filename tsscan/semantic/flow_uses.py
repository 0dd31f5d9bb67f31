"""The uses of names and if-expressions inside one statement of the flow walk
(:mod:`tsscan.semantic.flow`): names read while maybe undefined or of conflicting types, and the
arms of if-expressions to type."""

from __future__ import annotations

from typing import Any

import libcst as cst

from tsscan.semantic.branches import _has_isinstance
from tsscan.semantic.function_types import CONFLICT, MAYBE, BadUse
from tsscan.semantic.none_tests import uncertain_none_test
from tsscan.semantic.targets import bound_names
from tsscan.walk import walk


class Uses(cst.CSTVisitor):
    """The uses the flow walk checks (``_Analyser.uses``; one class for every call: a class made
    per call costs its creation and the walk's tables for it). ``w``: the walk, whose variables
    (``_find``), typer, quiet depth and output it reads and writes."""

    def __init__(inner, w: Any) -> None:
        super().__init__()
        inner.w = w
        inner.bound: list[str] = []

    def visit_Attribute(inner, n: cst.Attribute) -> bool:
        walk(n.value, inner)
        return False

    def visit_Arg(inner, n: cst.Arg) -> bool:
        walk(n.value, inner)
        return False

    def visit_CompFor(inner, n: cst.CompFor) -> None:
        for nm in bound_names(n.target):
            inner.bound.append(nm.value)

    def _comprehension(inner, n: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp) -> None:
        # the element is visited before the ``for`` clauses: bind their targets first
        # (a comprehension's own variables are not the function's)
        fc: cst.CompFor | None = n.for_in
        while fc is not None:
            for nm in bound_names(fc.target):
                inner.bound.append(nm.value)
            fc = fc.inner_for_in

    def visit_ListComp(inner, n: cst.ListComp) -> None:
        inner._comprehension(n)

    def visit_SetComp(inner, n: cst.SetComp) -> None:
        inner._comprehension(n)

    def visit_DictComp(inner, n: cst.DictComp) -> None:
        inner._comprehension(n)

    def visit_GeneratorExp(inner, n: cst.GeneratorExp) -> None:
        inner._comprehension(n)

    def visit_Lambda(inner, n: cst.Lambda) -> bool:
        return False

    def visit_IfExp(inner, n: cst.IfExp) -> None:
        if (
            not inner.bound
            and not inner.w.quiet
            and not uncertain_none_test(n.test, inner.w.typer)
            and not _has_isinstance(n.test)
        ):
            inner.w.out.ifexps.append((n, inner.w.typer(n.body), inner.w.typer(n.orelse)))

    def visit_Name(inner, n: cst.Name) -> None:
        if n.value in inner.bound:
            return
        _, t = inner.w._find(n.value)
        if inner.w.quiet:
            return
        if t == MAYBE:
            inner.w.out.bad_uses.append(BadUse(n, n.value, "maybe", origin=inner.w.maybe_origin.get(n.value)))
        elif t == CONFLICT:
            inner.w.out.bad_uses.append(BadUse(n, n.value, "conflict"))
