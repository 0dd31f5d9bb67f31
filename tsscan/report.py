"""Printing diagnostics: text, json, sarif (2.1.0) and github (workflow annotations).

The fields of each format are documented in ``docs/output-formats.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from tsscan import __version__
from tsscan.diagnostic import Diagnostic


@dataclass
class RunSummary:
    files: int = 0
    errors: list[str] = field(default_factory=list)  # "path: problem"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fixed: list[Diagnostic] = field(default_factory=list)
    fix_notes: list[str] = field(default_factory=list)
    fix_outcomes: list[dict] | None = None  # --fix/--diff: each fix's outcome (FixRecord.outcome)
    rules: list[type] = field(default_factory=list)  # the rules that ran (sarif lists them)


def format_text(summary: RunSummary, out: TextIO, statistics: bool = False) -> None:
    for d in summary.diagnostics:
        mark = " [*]" if d.fix == "safe" else ""
        out.write(f"{d.path}:{d.line}:{d.col}: {d.code}{mark} {d.message}\n")
    for note in summary.fix_notes:
        out.write(note + "\n")
    if statistics and summary.diagnostics:
        counts = Counter(d.code for d in summary.diagnostics)
        names: dict[str, str] = {d.code: d.name for d in summary.diagnostics}
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
    if summary.fixed or summary.fix_notes:  # this was a --fix run: what is left was not applied
        left = fixable + unsafe
        if left:
            line += f" {left} fix{'es' if left != 1 else ''} not applied (see above)."
    else:
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
        "errors": [{"path": e.split(": ", 1)[0], "message": e.split(": ", 1)[-1]} for e in summary.errors],
        "fixed": [diagnostic_dict(d) for d in summary.fixed],
    }
    if summary.fix_outcomes is not None:
        doc["fix_outcomes"] = summary.fix_outcomes
    json.dump(doc, out, indent=2)
    out.write("\n")


# --------------------------------------------------------------------------- sarif
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def docs_url() -> str | None:
    """Where the rule pages are: the ``Documentation`` project URL of the installed package,
    else ``docs/`` of a source checkout (a file URI), else None."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        for entry in metadata("tsscan").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("documentation", "docs") and url.strip():
                return url.strip().rstrip("/")
    except (ImportError, PackageNotFoundError):  # pragma: no cover
        pass
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent
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


def _sarif_rule(rule: type, base: str | None) -> dict:
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


def _rule_named(code: str) -> type | None:
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
        region = {"startLine": d.line, "startColumn": d.col}
        if d.end_line >= d.line and d.end_col > 0:
            region["endLine"] = d.end_line
            region["endColumn"] = d.end_col
        result = {
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
        results.append(result)
    notifications = []
    for e in summary.errors:
        path, _, message = e.partition(": ")
        note = {"level": "error", "message": {"text": message or e}}
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
        out.write(f"::error {','.join(props)}::{_gh_data(d.message)}\n")
    for e in summary.errors:
        path, _, message = e.partition(": ")
        if message:
            out.write(f"::error file={_gh_prop(path)},title=tsscan::{_gh_data(message)}\n")
        else:
            out.write(f"::error title=tsscan::{_gh_data(e)}\n")


FORMATTERS = {"text": format_text, "json": format_json, "sarif": format_sarif, "github": format_github}


def write(summary: RunSummary, fmt: str, out: TextIO, statistics: bool = False) -> None:
    if fmt == "text":
        format_text(summary, out, statistics)
    else:
        FORMATTERS[fmt](summary, out)
