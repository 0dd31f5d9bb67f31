"""Printing diagnostics: text, json, sarif (2.1.0) and github (workflow annotations).

The fields of each format are documented in ``docs/output-formats.md``.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from tsscan import __version__
from tsscan.diagnostic import Diagnostic

if TYPE_CHECKING:
    from tsscan.rule import Rule

LEVELS = {
    1: "torch's frontend accepts it",
    2: "torch.jit.script compiles it",
    3: "torch.jit.script compiles it and outputs match",
}


@dataclass
class FixOutcome:
    """What became of one fix tsscan tried (``--fix``/``--diff``); plain data for every format."""

    path: str
    code: str
    name: str
    line: int  # in the file after fixing (what the remaining findings' lines refer to too)
    col: int
    function: str  # the compiled function the fix is in
    status: str  # confirmed | applied (not verified: --no-verify) | reverted | unverified | not written
    level: int  # confirmed: 1 frontend accepts, 2 torch.jit.script compiles, 3 outputs match
    reason: str  # why reverted / unverified / not written (or a remark on a confirmation)
    applied: bool  # in the file written (--diff: in the diff)
    description: str = ""
    safety: str = ""

    def text(self) -> str:
        """One line, deliberately not shaped ``path:line:col: CODE`` (that is a finding's shape,
        and CI problem matchers would read a fix as one)."""
        where = f"{self.path}, line {self.line} ({self.function}): {self.code}"
        if self.status == "confirmed":
            what = f"fixed, confirmed (level {self.level}: {LEVELS.get(self.level, '?')})"
            return f"{where} {what}" + (f"; {self.reason}" if self.reason else "")
        if self.status == "applied":
            return f"{where} fixed (not verified: --no-verify)"
        if self.status == "reverted":
            return f"{where} fix reverted: {self.reason}"
        if self.status == "unverified" and self.applied:
            return f"{where} fixed, unverified (applied: --keep-unverified): {self.reason}"
        if self.status == "unverified":
            return f"{where} fix not applied (unverified; --keep-unverified applies it): {self.reason}"
        return f"{where} fix not written: {self.reason}"


@dataclass
class RunSummary:
    files: int = 0
    errors: list[str] = field(default_factory=list)  # "path: problem"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fixed: list[Diagnostic] = field(default_factory=list)  # the fixes applied (as first reported)
    fix_notes: list[str] = field(default_factory=list)  # other notes (how fixes were confirmed...)
    fix_outcomes: list[dict] | None = None  # --fix/--diff: each fix\'s outcome (FixRecord.outcome)
    rules: list[type[Rule]] = field(default_factory=list)  # the rules that ran (sarif lists them)
    fixing: bool = False  # a --fix / --diff run
    safeties: tuple[str, ...] = ("safe",)  # the fixes asked for (--unsafe-fixes adds "unsafe")
    fixes: list[FixOutcome] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)  # torch version checked against -> why


@dataclass
class TextStyle:
    """How findings are printed: colour (a terminal without NO_COLOR), the offending line."""

    color: bool = False
    show_source: bool = False


_BOLD, _RED, _CYAN, _DIM, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[2m", "\033[0m"


def _paint(style: TextStyle, code: str, text: str) -> str:
    return f"{code}{text}{_RESET}" if style.color else text


def _location(d: Diagnostic) -> str:
    cell = f"cell {d.cell}:" if d.cell else ""
    return f"{d.path}:{cell}{d.line}:{d.col}"


def _source_line(d: Diagnostic, sources: dict[str, list[str]]) -> str | None:
    """The line a finding is on (a notebook's: in its cell), from ``sources`` or the file."""
    key = f"{d.path}#{d.cell}" if d.cell else d.path
    if key not in sources:
        try:
            from tsscan.files import read_source, split_lines

            text = read_source(d.path).text
            if d.cell:
                from tsscan.notebook import code_text

                nb = code_text(text.encode("utf-8"))
                cell_lines = [ln for ln, w in zip(split_lines(nb.text), nb.where, strict=False) if w[0] == d.cell]
                sources[key] = cell_lines
            else:
                sources[key] = split_lines(text)
        except (OSError, ValueError):
            sources[key] = []
    lines = sources[key]
    return lines[d.line - 1].rstrip("\r\n") if 0 < d.line <= len(lines) else None


def _show_source(d: Diagnostic, style: TextStyle, sources: dict[str, list[str]], out: TextIO) -> None:
    line = _source_line(d, sources)
    if line is None:
        return
    width = len(str(d.line))
    start = d.col - 1
    end = d.end_col - 1 if d.end_line == d.line and d.end_col > d.col else len(line.rstrip())
    carets = "^" * max(1, end - start)
    out.write(f"{' ' * width} |\n{d.line} | {line}\n{' ' * width} | {' ' * start}{_paint(style, _RED, carets)}\n")


def format_text(
    summary: RunSummary,
    out: TextIO,
    statistics: bool = False,
    style: TextStyle | None = None,
    sources: dict[str, list[str]] | None = None,
) -> None:
    style = style or TextStyle()
    sources = {} if sources is None else sources
    for d in summary.diagnostics:
        mark = " [*]" if d.fix == "safe" else ""
        where = _paint(style, _BOLD, _location(d))
        out.write(f"{where}: {_paint(style, _RED, d.code)}{mark} {d.message}\n")
        if style.show_source:
            _show_source(d, style, sources, out)
    for fix in summary.fixes:
        out.write(fix.text() + "\n")
    for note in summary.fix_notes:
        out.write(note + "\n")
    if statistics and summary.diagnostics:
        counts = Counter(d.code for d in summary.diagnostics)
        names: dict[str, str] = {d.code: d.name for d in summary.diagnostics}
        for code, n in sorted(counts.items()):
            out.write(f"{n:6d}  {code}  {names[code]}\n")
    out.write(summary_line(summary) + "\n")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary_line(summary: RunSummary) -> str:
    """The last line: what was found, fixed and left; the counts add up
    (found = fixed + remaining)."""
    n = len(summary.diagnostics)
    files = _plural(summary.files, "file")
    if not (n or summary.fixed or summary.errors):
        return f"All checks passed ({files})."
    if summary.fixing:
        found = n + len(summary.fixed)
        line = f"Found {_plural(found, 'problem')} in {files} ({len(summary.fixed)} fixed, {n} remaining)"
    else:
        line = f"Found {_plural(n, 'problem')} in {files}"
    if summary.errors:
        line += f"; {_plural(len(summary.errors), 'file error')}"
    line += "."
    asked = [d for d in summary.diagnostics if d.fix in summary.safeties]
    unsafe = sum(1 for d in summary.diagnostics if d.fix == "unsafe" and "unsafe" not in summary.safeties)
    if summary.fixing and asked:
        line += f" {_plural(len(asked), 'fix', 'fixes')} not applied (see above)."
    elif asked:
        line += f" {len(asked)} fixable with `tsscan --fix`."
    if unsafe:
        line += f" {unsafe} more with `--unsafe-fixes`."
    return line


# --------------------------------------------------------------------------- fix outcomes
def record_fixes(summary: RunSummary, path: str, ff: Any, old: str, new: str, written: bool, why_not: str) -> None:
    """The outcome of each fix tsscan tried in ``path``, its line in the file after fixing."""
    from tsscan.files import line_map

    to_new = line_map(old, new)
    for rec in sorted([*ff.applied, *ff.dropped], key=lambda r: r.diagnostic.sort_key()):
        d = rec.diagnostic
        kept = rec in ff.applied and written
        status = rec.status if written or rec not in ff.applied else "not written"
        summary.fixes.append(
            FixOutcome(
                path=path,
                code=d.code,
                name=d.name,
                line=to_new(d.line),
                col=d.col,
                function=rec.qualname,
                status=status,
                level=rec.level,
                reason=why_not if status == "not written" else rec.reason,
                applied=kept,
                description=d.fix_description,
                safety=d.fix or "",
            )
        )
        if kept:
            summary.fixed.append(d)


def run_notes(run: Any) -> list[str]:
    """What the fix run says besides one line per fix: how the fixes were confirmed, or why not."""
    per_fix = {r.note(ff.path) for ff in run.files for r in [*ff.applied, *ff.dropped]}
    notes = [n for n in run.notes() if n not in per_fix and "fix not applied (unverified" not in n]
    v = run.verifier
    status = getattr(getattr(v, "worker", None), "status", None) if v is not None else None
    if status is not None and not status.get("ok"):
        reason = status.get("reason", "torch is not usable")
        if getattr(run, "keep_unverified", False):
            notes.append(f"Fixes could not be confirmed: {reason}. Applied anyway (--keep-unverified).")
            return notes
        notes.append(
            f"Fixes could not be confirmed: {reason}. Unconfirmed fixes are not applied: set "
            "[tool.tsscan.verify] python to an interpreter that has torch, or pass --keep-unverified "
            "(or --no-verify) to apply them anyway."
        )
    return notes


def diagnostic_dict(d: Diagnostic) -> dict:
    out = {
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
    if d.cell:
        out["cell"] = d.cell  # a notebook: line and column are in this code cell (1-based)
    return out


def targets(summary: RunSummary) -> list[dict]:
    """The torch versions checked against: the version, its knowledge table, and why."""
    from tsscan.config import table_version

    return [
        {"target_version": v, "knowledge_table": table_version(v), "source": why}
        for v, why in sorted(summary.targets.items())
    ]


def format_json(summary: RunSummary, out: TextIO) -> None:
    doc = {
        "version": __version__,
        "files": summary.files,
        "diagnostics": [diagnostic_dict(d) for d in summary.diagnostics],
        "errors": [{"path": e.split(": ", 1)[0], "message": e.split(": ", 1)[-1]} for e in summary.errors],
        "fixed": [diagnostic_dict(d) for d in summary.fixed],
        "fixes": [dataclasses.asdict(f) for f in summary.fixes],
        "torch": targets(summary),
    }
    if summary.fix_outcomes is not None:
        doc["fix_outcomes"] = summary.fix_outcomes
    json.dump(doc, out, indent=2)
    out.write("\n")


# --------------------------------------------------------------------------- sarif
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def docs_url() -> str | None:
    """Where the rule pages are: the ``Documentation`` URL of ``[project.urls]`` (from the
    installed package's metadata, else from a source checkout's ``pyproject.toml``), else
    ``docs/`` of a source checkout as a file URI, else None."""
    from pathlib import Path

    try:
        from importlib.metadata import PackageNotFoundError, metadata

        for entry in metadata("tsscan").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("documentation", "docs") and url.strip():
                return url.strip().rstrip("/")
    except (ImportError, PackageNotFoundError):  # pragma: no cover
        pass
    checkout = Path(__file__).resolve().parent.parent
    try:
        from tsscan.config import toml_parser

        with open(checkout / "pyproject.toml", "rb") as f:
            urls = toml_parser().load(f).get("project", {}).get("urls", {})
        url = urls.get("Documentation") if isinstance(urls, dict) else None
        if isinstance(url, str) and url:
            return url.rstrip("/")
    except (OSError, ValueError):
        pass
    docs = checkout / "docs"
    if (checkout / "pyproject.toml").is_file() and (docs / "rules").is_dir():
        return docs.as_uri()
    return None


def rule_url(code: str, base: str | None = None) -> str | None:
    base = base if base is not None else docs_url()
    return f"{base}/rules/{code}.md" if base else None


def _artifact_location(path: str, root: str) -> dict:
    import os
    from pathlib import Path
    from urllib.parse import quote

    absolute = os.path.abspath(path)
    try:
        rel = Path(absolute).relative_to(root).as_posix()
    except ValueError:
        return {"uri": Path(absolute).as_uri()}
    return {"uri": quote(rel), "uriBaseId": "%SRCROOT%"}


def _sarif_rule(rule: type[Rule], base: str | None) -> dict:
    from tsscan.docs import rule_page

    sections = rule.doc_sections()
    what = " ".join((sections.get("What it does") or "").split())
    why = " ".join((sections.get("Why is this bad") or "").split())
    out = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": " ".join(t for t in (what, why) if t) or rule.message},
        "help": {"text": " ".join(t for t in (rule.summary(), what, why) if t), "markdown": rule_page(rule)},
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["torchscript"],
            "fix": rule.fix_safety or "none",
            "fails_in": rule.fails_in,
        },
    }
    url = rule_url(rule.code, base)
    if url:
        out["helpUri"] = url
    return out


def _rule_named(code: str) -> type[Rule] | None:
    from tsscan.compiler_rule import COMPILER_CODES

    return next((r for r in COMPILER_CODES if r.code == code), None)


def format_sarif(summary: RunSummary, out: TextIO) -> None:
    import os
    from pathlib import Path

    root = os.getcwd()
    base = docs_url()
    rules = list(summary.rules)
    known = {r.code for r in rules}
    index: dict[str, int] = {}
    sarif_rules = [_sarif_rule(r, base) for r in rules]
    for d in summary.diagnostics:  # a finding of a rule the summary does not list (TS9xx)
        if d.code not in known:
            known.add(d.code)
            rule = _rule_named(d.code)
            sarif_rules.append(
                _sarif_rule(rule, base)
                if rule is not None
                else {"id": d.code, "name": d.name or d.code, "shortDescription": {"text": d.message}}
            )
    for i, r in enumerate(sarif_rules):
        index[r["id"]] = i
    results = []
    for d in summary.diagnostics:
        region: dict = {"startLine": d.line, "startColumn": d.col}
        if d.end_line >= d.line and d.end_col > 0:
            region["endLine"] = d.end_line
            region["endColumn"] = d.end_col
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": "error",
            "message": {"text": d.message},
            "locations": [
                {"physicalLocation": {"artifactLocation": _artifact_location(d.path, root), "region": region}}
            ],
        }
        if d.fix:
            result["properties"] = {"fix": d.fix, "fixDescription": d.fix_description}
        if d.cell:  # a notebook: the region is in this code cell
            props = result.get("properties")
            if not isinstance(props, dict):
                props = result["properties"] = {}
            props["cell"] = d.cell
        results.append(result)
    notifications = []
    for e in summary.errors:
        path, _, message = e.partition(": ")
        note: dict[str, object] = {"level": "error", "message": {"text": message or e}}
        if message:
            note["locations"] = [{"physicalLocation": {"artifactLocation": _artifact_location(path, root)}}]
        notifications.append(note)
    driver = {
        "name": "tsscan",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": sarif_rules,
    }
    if base:
        driver["informationUri"] = base + "/index.md" if base.startswith("file:") else base
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root).as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "properties": {"torch": targets(summary)},
                "invocations": [
                    {"executionSuccessful": not summary.errors, "toolExecutionNotifications": notifications}
                ],
                "results": results,
            }
        ],
    }
    json.dump(doc, out, indent=2)
    out.write("\n")


# --------------------------------------------------------------------------- github
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(summary: RunSummary, out: TextIO) -> None:
    """GitHub Actions workflow commands: one ``::error`` annotation per finding."""
    for d in summary.diagnostics:
        props = [f"file={_gh_prop(d.path)}", f"line={d.line}", f"col={d.col}"]
        if d.end_line >= d.line and d.end_col > 0:
            props += [f"endLine={d.end_line}", f"endColumn={d.end_col}"]
        props.append(f"title={_gh_prop(d.code)}")
        where = f"cell {d.cell}, line {d.line}: " if d.cell else ""  # a notebook: lines are in the cell
        out.write(f"::error {','.join(props)}::{_gh_data(where + d.message)}\n")
    for e in summary.errors:
        path, _, message = e.partition(": ")
        if message:
            out.write(f"::error file={_gh_prop(path)},title=tsscan::{_gh_data(message)}\n")
        else:
            out.write(f"::error title=tsscan::{_gh_data(e)}\n")


FORMATTERS = {"text": format_text, "json": format_json, "sarif": format_sarif, "github": format_github}


def write(summary: RunSummary, fmt: str, out: TextIO, statistics: bool = False, style: TextStyle | None = None) -> None:
    if fmt == "text":
        format_text(summary, out, statistics, style)
    else:
        FORMATTERS[fmt](summary, out)
