"""Printing diagnostics: text and json (more formats plug in here)."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, TextIO

from tsscan import __version__
from tsscan.rule import Diagnostic


@dataclass
class RunSummary:
    files: int = 0
    errors: List[str] = field(default_factory=list)  # "path: problem"
    diagnostics: List[Diagnostic] = field(default_factory=list)
    fixed: List[Diagnostic] = field(default_factory=list)
    fix_notes: List[str] = field(default_factory=list)


def format_text(summary: RunSummary, out: TextIO, statistics: bool = False) -> None:
    for d in summary.diagnostics:
        mark = " [*]" if d.fix == "safe" else ""
        out.write(f"{d.path}:{d.line}:{d.col}: {d.code}{mark} {d.message}\n")
    for note in summary.fix_notes:
        out.write(note + "\n")
    if statistics and summary.diagnostics:
        counts = Counter(d.code for d in summary.diagnostics)
        names: Dict[str, str] = {d.code: d.name for d in summary.diagnostics}
        for code, n in sorted(counts.items()):
            out.write(f"{n:6d}  {code}  {names[code]}\n")
    n = len(summary.diagnostics)
    fixable = sum(1 for d in summary.diagnostics if d.fix == "safe")
    unsafe = sum(1 for d in summary.diagnostics if d.fix == "unsafe")
    parts = [f"Found {n} problem{'s' if n != 1 else ''} in {summary.files} file{'s' if summary.files != 1 else ''}"]
    if summary.fixed:
        parts.append(f"fixed {len(summary.fixed)}")
    if summary.errors:
        parts.append(f"{len(summary.errors)} file error{'s' if len(summary.errors) != 1 else ''}")
    line = "; ".join(parts) + "."
    if fixable:
        line += f" {fixable} fixable with `tsscan --fix`."
    if unsafe:
        line += f" {unsafe} more with `--unsafe-fixes`."
    if n or summary.fixed or summary.errors:
        out.write(line + "\n")
    else:
        out.write(f"All checks passed ({summary.files} file{'s' if summary.files != 1 else ''}).\n")


def diagnostic_dict(d: Diagnostic) -> dict:
    return {
        "path": d.path,
        "line": d.line,
        "column": d.col,
        "end_line": d.end_line,
        "end_column": d.end_col,
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "fix": None if d.fix is None else {"safety": d.fix, "description": d.fix_description},
    }


def format_json(summary: RunSummary, out: TextIO) -> None:
    doc = {
        "version": __version__,
        "files": summary.files,
        "diagnostics": [diagnostic_dict(d) for d in summary.diagnostics],
        "errors": [
            {"path": e.split(": ", 1)[0], "message": e.split(": ", 1)[-1]} for e in summary.errors
        ],
        "fixed": [diagnostic_dict(d) for d in summary.fixed],
    }
    json.dump(doc, out, indent=2)
    out.write("\n")


FORMATTERS = {"text": format_text, "json": format_json}


def write(summary: RunSummary, fmt: str, out: TextIO, statistics: bool = False) -> None:
    if fmt == "text":
        format_text(summary, out, statistics)
    else:
        FORMATTERS[fmt](summary, out)
