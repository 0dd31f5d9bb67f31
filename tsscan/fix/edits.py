"""Edits: a round of non-overlapping rule fixes spliced into the file, repeated to a fixed point.

The engine (:mod:`tsscan.engine`) checks a file and hands back each proposed fix as a
:class:`~tsscan.engine.PendingFix`: CST replacements in the snippet module of the compiled
code, line inserts, imports. Here they are chosen (none touching code another one touches),
applied by regenerating each changed snippet and splicing it back into the file by line range,
and the file is checked again, until nothing more applies.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence

import libcst as cst

from tsscan.engine import CheckResult, Engine, InputError, PendingFix, Snippet
from tsscan.files import newline_of, split_lines
from tsscan.rule import SAFE, Diagnostic, Replacement


class _Replace(cst.CSTTransformer):
    def __init__(self, mapping: dict[int, Replacement]) -> None:
        super().__init__()
        self.mapping = mapping

    def on_leave(self, original_node, updated_node):
        new = self.mapping.get(id(original_node))
        return new if new is not None else updated_node


def _overlaps(a, b) -> bool:
    (as_, ae), (bs, be) = a, b
    return as_ < be and bs < ae


def choose_fixes(fixes: Sequence[PendingFix], safeties: Sequence[str]) -> list[PendingFix]:
    """The fixes to apply in one round: of an allowed safety, none touching code another touches.

    The rest wait for the next round (:func:`fix_text` repeats to a fixed point)."""
    chosen: list[PendingFix] = []
    spans: list = []
    touched: dict[int, tuple[int, int]] = {}  # snippets whose lines this round rewrites
    inserts: list[int] = []
    inserted: set[tuple[int, str]] = set()  # (line, text) of the chosen fixes' inserts
    for pf in sorted(fixes, key=lambda f: f.diagnostic.sort_key()):
        if pf.fix.safety not in safeties:
            continue
        if pf.fix.inserts and not pf.fix.replacements and set(pf.fix.inserts) <= inserted:
            chosen.append(pf)  # the same lines another fix inserts (one class-level list for two
            continue  # findings): applied once (apply_fixes), both findings fixed
        if any(_overlaps(s, t) or s == t for s in pf.spans for t in spans):
            continue
        mine = {id(t): (t.file_start, t.file_end) for t in pf.touched}
        ranges = list({**touched, **mine}.values())
        own_inserts = [line for line, _ in pf.fix.inserts]
        if any(lo <= line < hi for line in own_inserts + inserts for lo, hi in ranges):
            continue
        chosen.append(pf)
        spans.extend(pf.spans)
        touched.update(mine)
        inserts.extend(own_inserts)
        inserted.update(pf.fix.inserts)
    return chosen


def apply_fixes(text: str, result: CheckResult, chosen: Sequence[PendingFix]) -> str:
    """Apply ``chosen`` fixes (from :func:`choose_fixes`) to ``text``, the file ``result`` checked."""
    if not chosen:
        return text
    lines = split_lines(text)
    newline = newline_of(text)
    edits: list[tuple[int, int, list[str]]] = []  # (first line, last line, new lines): 1-based, inclusive
    by_snippet: dict[int, tuple[Snippet, dict[int, Replacement]]] = {}
    inserted: set[tuple[int, str]] = set()
    for pf in chosen:
        for k, (old, repl) in enumerate(pf.fix.replacements):
            snip = pf.snippet_of(k)
            by_snippet.setdefault(id(snip), (snip, {}))[1][id(old)] = repl
        for after, ins in pf.fix.inserts:
            if (after, ins) in inserted:
                continue  # two fixes, one insert (choose_fixes)
            inserted.add((after, ins))
            edits.append((after + 1, after, [ln + ("" if ln.endswith("\n") else newline) for ln in ins.splitlines()]))
    assert result.snippet_module is not None
    for snip, mapping in by_snippet.values():
        assert snip.stmt is not None
        new_stmt = snip.stmt.visit(_Replace(mapping))
        assert isinstance(new_stmt, cst.CSTNode)
        # rendered with the snippet module's own default indent and newline: a fresh
        # cst.Module would re-indent tab- or 2-space-indented code to 4 spaces
        code = result.snippet_module.code_for_node(new_stmt)
        new_lines = split_lines(code)
        if snip.wrapped:
            new_lines = new_lines[1:]
        if snip.header_only:
            new_lines = new_lines[:-1]
        # keep the original file's ending of the last line (it may have had none)
        last_orig = lines[snip.file_end - 1]
        if new_lines:  # (libcst also drops a final lone "\r")
            new_lines[-1] = new_lines[-1].rstrip("\r\n") + last_orig[len(last_orig.rstrip("\r\n")) :]
        edits.append((snip.file_start, snip.file_end, new_lines))
    imports = _missing_imports(result, [imp for pf in chosen for imp in pf.fix.imports])
    merged, imports = _merge_imports(text, lines, imports)
    edits.extend(merged)
    if imports:
        at = _import_line(result, lines)
        edits.append((at + 1, at, [imp + newline for imp in imports]))
    for first, last, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[first - 1 : last] = new
    return "".join(lines)


def _missing_imports(result: CheckResult, wanted: Iterable[str]) -> list[str]:
    assert result.scope is not None
    aliases = result.scope.module.aliases
    out: list[str] = []
    for imp in dict.fromkeys(wanted):
        tree = ast.parse(imp)
        stmt = tree.body[0]
        needed = False
        if isinstance(stmt, ast.ImportFrom):
            for a in stmt.names:
                bound = a.asname or a.name
                if aliases.get(bound) != f"{stmt.module}.{a.name}":
                    needed = True
        elif isinstance(stmt, ast.Import):
            for a in stmt.names:
                bound = a.asname or a.name.split(".")[0]
                if bound not in aliases:
                    needed = True
        if needed:
            out.append(imp)
    return out


def _merge_imports(text: str, lines: list[str], imports: list[str]) -> tuple[list, list[str]]:
    """``from M import a`` joins a one-line ``from M import ...`` already at module level (the
    names appended in order, the line's comment kept): (line edits, the imports left to add)."""
    wanted: dict[str, list[str]] = {}
    rest: list[str] = []
    for imp in imports:
        parsed = ast.parse(imp).body[0]
        if isinstance(parsed, ast.ImportFrom) and parsed.module and not parsed.level:
            wanted.setdefault(parsed.module, []).extend(
                a.name if a.asname is None else f"{a.name} as {a.asname}" for a in parsed.names
            )
        else:
            rest.append(imp)
    if not wanted:
        return [], rest
    existing: dict[str, ast.ImportFrom] = {}
    for top in ast.parse(text).body:
        if (
            isinstance(top, ast.ImportFrom)
            and top.module in wanted
            and not top.level
            and top.lineno == top.end_lineno
            and top.names[0].name != "*"
        ):
            existing.setdefault(top.module, top)
    edits = []
    for module, names in wanted.items():
        node = existing.get(module)
        if node is None or node.end_col_offset is None:
            rest.append(f"from {module} import {', '.join(names)}")
            continue
        line = lines[node.lineno - 1]
        # ast columns are UTF-8 byte offsets
        raw = line.encode("utf-8")
        have = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names]
        joined = f"from {module} import {', '.join(have + [n for n in names if n not in have])}"
        new = raw[: node.col_offset].decode("utf-8") + joined + raw[node.end_col_offset :].decode("utf-8")
        edits.append((node.lineno, node.lineno, [new]))
    return edits, rest


def _import_line(result: CheckResult, lines: list[str]) -> int:
    assert result.scope is not None
    at = result.scope.module.last_import_line
    if at == 0:
        # after a shebang / encoding cookie / leading comments
        while at < len(lines) and lines[at].lstrip().startswith("#"):
            at += 1
    return at


def fix_text(
    engine: Engine,
    path: str,
    text: str,
    safeties: Sequence[str] = (SAFE,),
    extra_ignore: Iterable[str] = (),
    max_rounds: int = 10,
    allow: Callable[[PendingFix, str], bool] | None = None,
) -> tuple[str, list[Diagnostic], CheckResult]:
    """Apply fixes to a fixed point (at most ``max_rounds`` rounds).

    ``allow(fix, text)``, when given, is asked about every proposed fix of each round (``text``
    is the text that round fixes); fixes it refuses are left out (the fixer uses this to leave
    out fixes the compiler rejected). Returns the new text, the diagnostics whose fixes were
    applied, and the check of the final text (what remains)."""
    applied: list[Diagnostic] = []
    current = text
    result = engine.check(path, current, extra_ignore)
    for _ in range(max_rounds):
        proposed = result.fixes if allow is None else [pf for pf in result.fixes if allow(pf, current)]
        chosen = choose_fixes(proposed, safeties)
        if not chosen:
            break
        new = apply_fixes(current, result, chosen)
        if new == current:
            break
        try:
            new_result = engine.check(path, new, extra_ignore)
        except InputError:
            break  # a fix that breaks the file is never kept
        applied.extend(pf.diagnostic for pf in chosen)
        current, result = new, new_result
    return current, applied, result
