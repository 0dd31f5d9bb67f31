"""``# noqa`` comments: what they silence (flake8's rules, for the CLI and the flake8 plugin
alike), and ``tsscan check --add-noqa``: a ``# noqa: CODE`` comment on each line with a finding.

As ruff's ``--add-noqa``: codes already in a line's ``# noqa: ...`` are kept and the new ones
merged in; a line inside a multi-line string (where a comment would change the string) is left
alone and counted as skipped, as is a line ending in a ``\\`` continuation.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable

from tsscan.diagnostic import Diagnostic
from tsscan.files import split_lines

# flake8's own patterns (flake8/defaults.py), so that a comment means the same to the CLI and
# to flake8: a bare noqa comment silences the line, one with codes silences those codes and
# their prefixes, and a line *starting* with the flake8-noqa comment exempts the whole file.
NOQA_RE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
FILE_NOQA_RE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
_SEP_RE = re.compile(r"[,\s]+")


def noqa_suppresses(line: str, code: str) -> bool:
    """Whether ``line``'s ``# noqa`` comment silences ``code`` (as flake8 decides it)."""
    m = NOQA_RE.search(line)
    if not m:
        return False
    codes = m.group("codes")
    if not codes:
        return True
    return any(code.startswith(c.upper()) for c in _SEP_RE.split(codes.strip()) if c)


def file_noqa(text: str) -> bool:
    """Whether ``text`` has a line starting with ``# flake8: noqa`` (flake8 then skips the file:
    ``re.match`` on each physical line, so a trailing ``x = 1  # flake8: noqa`` does not)."""
    return "noqa" in text.lower() and any(FILE_NOQA_RE.match(line) for line in text.splitlines())


def _inside_strings(text: str) -> set[int]:
    """1-based lines that end inside a multi-line string token (no comment can go there)."""
    out: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                out.update(range(tok.start[0], tok.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return out


def add_noqa(text: str, diagnostics: Iterable[Diagnostic]) -> tuple[str, int, int]:
    """(new text, directives added, findings skipped: on a line inside a multi-line string)."""
    by_line: dict[int, set[str]] = {}
    for d in diagnostics:
        by_line.setdefault(d.line, set()).add(d.code)
    lines = split_lines(text)
    blocked = _inside_strings(text)
    added = skipped = 0
    for line, codes in sorted(by_line.items()):
        if not 0 < line <= len(lines) or line in blocked:
            skipped += len(codes)
            continue
        raw = lines[line - 1]
        body = raw.rstrip("\r\n")
        ending = raw[len(body) :]
        m = NOQA_RE.search(body)
        if body.endswith("\\") and not m:  # a comment after a line continuation is a syntax error
            skipped += len(codes)
            continue
        if m and not m.group("codes"):
            continue  # a bare # noqa already silences everything on the line
        if m:
            have = [c.upper() for c in re.split(r"[,\s]+", m.group("codes").strip()) if c]
            merged = have + sorted(codes - set(have))
            body = body[: m.start()] + "# noqa: " + ", ".join(merged) + body[m.end() :]
        else:
            body = body.rstrip() + "  # noqa: " + ", ".join(sorted(codes))
        lines[line - 1] = body + ending
        added += 1
    return "".join(lines), added, skipped
