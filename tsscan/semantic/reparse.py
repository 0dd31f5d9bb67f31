"""Parse a new version of a file reusing the ``ast`` of the top-level statements an edit left alone.

The language server parses the whole file at every keystroke; on a 3,000-line file that is 20 ms
CPU, and what is derived from each statement (kept on its nodes with :meth:`Memo.on
<tsscan.semantic.memo.Memo.on>`: the names of a function in :mod:`tsscan.semantic.values`, the
walks of :mod:`tsscan.semantic.compiled` and :mod:`tsscan.semantic.attribute_writes`) is computed
again with it. :func:`reparse` re-parses only
the lines from the top-level statement before the first changed line to the first top-level
statement after the last one, and keeps the other statements' nodes (the same objects, the
later ones moved by the number of lines the edit added or removed: ``ast.increment_lineno``).

The result is the tree ``ast.parse`` gives for the new text (field for field, line numbers
included: :func:`same_tree` says so, and tests/test_server.py checks it on chains of edits), or
None when the shortcut does not apply (an edit at the top of the file, where ``from __future__``
and encoding lines live, or a region that does not parse on its own): the caller then parses the
whole text, which also reports the syntax error where ``ast.parse`` does.

Ownership: the statements of ``old`` that are kept are moved in place, so ``old`` must not be
used afterwards (the server lets go of the previous tree when it passes it here).
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence

# below this many lines a whole parse is as cheap as the bookkeeping
MIN_LINES = 60


def _start(stmt: ast.stmt) -> int:
    decorators = getattr(stmt, "decorator_list", None) or ()
    return min([stmt.lineno, *(d.lineno for d in decorators)])


def reparse(old: ast.Module, old_lines: Sequence[str], new_lines: Sequence[str], filename: str) -> ast.Module | None:
    """The tree of ``new_lines`` (the text split with its line ends kept), made from ``old``, the
    tree of ``old_lines``; None when the caller should parse the whole text."""
    body = old.body
    if not body or len(new_lines) < MIN_LINES or getattr(old, "type_ignores", None):
        return None
    n_old, n_new = len(old_lines), len(new_lines)
    prefix = 0
    limit = min(n_old, n_new)
    while prefix < limit and old_lines[prefix] == new_lines[prefix]:
        prefix += 1
    if prefix == n_old == n_new:
        return None  # no change: nothing to reuse more cheaply than the caller's own tree
    suffix = 0
    while suffix < limit - prefix and old_lines[n_old - 1 - suffix] == new_lines[n_new - 1 - suffix]:
        suffix += 1
    # the changed lines: old [prefix, n_old - suffix), new [prefix, n_new - suffix) (0-based)
    first_changed = prefix + 1  # 1-based, in both texts
    last_changed_old = n_old - suffix  # 1-based; < first_changed when lines were only inserted
    # from the last statement that starts before the change (the change may continue it) ...
    lo = None
    for i, stmt in enumerate(body):
        if _start(stmt) < first_changed:
            lo = i
        else:
            break
    if lo is None:
        return None
    # ... to the first statement that starts after it (kept, and what follows it)
    hi = len(body)
    for j in range(lo + 1, len(body)):
        if _start(body[j]) > max(last_changed_old, first_changed - 1):
            hi = j
            break
    start = _start(body[lo])
    if start <= 2:
        return None  # encoding declarations and ``from __future__`` live up there
    delta = n_new - n_old
    end_new = (_start(body[hi]) - 1 + delta) if hi < len(body) else n_new  # 1-based, inclusive
    region = "".join(new_lines[start - 1 : end_new])
    if "__future__" in region:
        return None
    edited = body[lo]
    if hi == lo + 1 and isinstance(edited, ast.ClassDef):
        # an edit inside one class: the same one level down, so that its other methods keep their
        # nodes (and what is kept on them) too
        cls = _reparse_class(edited, first_changed, last_changed_old, delta, new_lines, end_new, filename)
        if cls is not None:
            kept_after = body[hi:]
            if delta:
                for stmt in kept_after:
                    ast.increment_lineno(stmt, delta)
            return ast.Module(body=[*body[:lo], cls, *kept_after], type_ignores=[])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc.
            part = ast.parse("\n" * (start - 1) + region, filename=filename)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None  # the whole parse says where, as it would without this shortcut
    kept_after = body[hi:]
    if delta:
        for stmt in kept_after:
            ast.increment_lineno(stmt, delta)
    return ast.Module(body=[*body[:lo], *part.body, *kept_after], type_ignores=[])


def _reparse_class(
    cls: ast.ClassDef,
    first_changed: int,
    last_changed_old: int,
    delta: int,
    new_lines: Sequence[str],
    end_new: int,
    filename: str,
) -> ast.ClassDef | None:
    """The class ``cls`` after an edit of its body (lines as in :func:`reparse`; ``end_new``: the
    last new line the class can reach), its body statements the edit left alone kept; None when
    the edit is not inside its body or the edited lines do not parse as statements of it."""
    body = cls.body
    lo = None
    for i, stmt in enumerate(body):
        if _start(stmt) < first_changed:
            lo = i
        else:
            break
    if lo is None:
        return None  # the header, the decorators or what comes before the first statement
    hi = len(body)
    for j in range(lo + 1, len(body)):
        if _start(body[j]) > max(last_changed_old, first_changed - 1):
            hi = j
            break
    start = _start(body[lo])
    end = (_start(body[hi]) - 1 + delta) if hi < len(body) else end_new
    indent = body[0].col_offset
    # the lines as the body of an ``if`` at column 0 on the line before them: positions unchanged
    text = "\n" * (start - 2) + "if 1:\n" + "".join(new_lines[start - 1 : end])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part = ast.parse(text, filename=filename)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if len(part.body) != 1 or not isinstance(part.body[0], ast.If) or part.body[0].orelse:
        # something at column 0 after the class (the edit reaches past it), or an ``else:`` there
        # that only the ``if`` put in front of the lines makes valid
        return None
    new_stmts = part.body[0].body
    if any(s.col_offset != indent for s in new_stmts):
        return None  # another indentation: not statements of this class body as they stand
    kept_after = body[hi:]
    if delta:
        for stmt in kept_after:
            ast.increment_lineno(stmt, delta)
    new_body = [*body[:lo], *new_stmts, *kept_after]
    last = new_body[-1]
    # a new node (what was kept on the old one described the old body)
    out = ast.ClassDef(**{f: getattr(cls, f) for f in cls._fields if f != "body"}, body=new_body)
    out.lineno, out.col_offset = cls.lineno, cls.col_offset
    out.end_lineno, out.end_col_offset = last.end_lineno, last.end_col_offset
    return out


def same_tree(a: ast.AST, b: ast.AST) -> bool:
    """``a`` and ``b`` are equal field for field, positions included (for tests)."""
    return ast.dump(a, include_attributes=True) == ast.dump(b, include_attributes=True)
