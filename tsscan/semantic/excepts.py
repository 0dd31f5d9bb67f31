"""What a file's ``except`` clauses catch (stdlib ``ast`` only)."""

from __future__ import annotations

import ast

from tsscan.semantic import astwalk
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ModuleInfo

_CAUGHT: Memo[dict[str, int]] = Memo("exception names a file catches")


def caught_exceptions(module: ModuleInfo) -> dict[str, int]:
    """The exception names the file's ``except`` clauses name (``except ValueError``,
    ``except (E, mod.F)``: the last part of a dotted name) -> the line of the first clause that
    names it; found once per file and kept on its facts."""
    return _CAUGHT.on(module, _caught_in)


def _caught_in(module: ModuleInfo) -> dict[str, int]:
    out: dict[str, int] = {}
    for node in astwalk.walk(module.tree):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            for t in types:
                name = t.id if isinstance(t, ast.Name) else (t.attr if isinstance(t, ast.Attribute) else None)
                if name and name not in out:
                    out[name] = node.lineno
    return out
