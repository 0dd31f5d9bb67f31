"""`tsscan check --verify` and `tsscan explain-error`: each compiler error mapped to a line and
to the rule that covers it, or to TS901."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tsscan.compiler_rule import CompilerErrorCode
from tsscan.rule import Diagnostic
from tsscan.semantic.compiled import FileScope
from tsscan.verify.errors import CompilerError, covering, unit_range
from tsscan.verify.verifier import FACTORY_HINT, Verifier


@dataclass
class ErrorReport:
    """One compiler error of `--verify`, mapped to a line and a rule."""

    unit: str  # class or function name
    error: CompilerError
    covered_by: list[Diagnostic]
    diagnostic: Diagnostic | None  # the TS901 finding, when no rule covers it


def explain_file(verifier: Verifier, path: str, text: str, diagnostics: Sequence[Diagnostic], scope: FileScope):
    """Run the compiler on a file and map each error: (reports, notes). Notes are one-line
    statements about units that script or could not be checked."""
    outcome = verifier.check(path, text, None, scope)
    reports: list[ErrorReport] = []
    notes: list[str] = []
    if outcome.unavailable:
        return reports, [f"{path}: not verified: {outcome.unavailable}"], outcome

    def add(unit: str, err: CompilerError) -> None:
        line = err.line
        if line is None:
            node = scope.module.classes.get(unit) or scope.module.functions.get(unit)
            line = getattr(getattr(node, "node", node), "lineno", 1) if node is not None else 1
        cov = covering(diagnostics, err.line, scope, loose=True)
        if not cov and err.line is None:
            # no location in the message: a finding of the same class/function explains it
            span = unit_range(scope, unit)
            if span:
                cov = [d for d in diagnostics if span[0] <= d.line <= span[1]]
        diag = None
        if not cov:
            diag = Diagnostic(
                path=path,
                line=line,
                col=1,
                code=CompilerErrorCode.code,
                message=f"{CompilerErrorCode.message}: {err.first_line}"
                + ("" if err.line is not None else " (no location in the message)")
                + (f" (in {err.other_file})" if err.other_file else ""),
                name=CompilerErrorCode.name,
                end_line=line,
                end_col=1,
            )
        reports.append(ErrorReport(unit, err, cov, diag))

    seen_frontend = set()
    for qual, err in outcome.frontend.items():
        if err is not None:
            seen_frontend.add((err.line, err.first_line))
            add(qual, err)
    if outcome.import_error is not None:
        if (outcome.import_error.line, outcome.import_error.first_line) not in seen_frontend:
            add("<import>", outcome.import_error)
    for name, err in outcome.scripted.items():
        if err is not None and (err.line, err.first_line) not in seen_frontend:
            add(name, err)
        elif err is None:
            notes.append(f"{path}: {name} scripts")
    for name, c in outcome.classes.items():
        if not c.built:
            notes.append(
                f"{path}: {name} not verified: {c.build_error}; "
                + FACTORY_HINT.format(key=outcome.keys.get(name, name))
            )
        elif c.script_error is not None:
            if (c.script_error.line, c.script_error.first_line) not in seen_frontend:
                add(name, c.script_error)
        else:
            notes.append(f"{path}: {name} scripts")
    return reports, notes, outcome


@dataclass
class VerifyJob:
    """One file for ``tsscan check --verify``, as the runner checked it: ``known`` are the
    findings of every rule (selected or not: "covered" means some rule reports the line)."""

    path: str
    text: str
    settings: Any  # the file's tsscan.config.Settings (the worker's Python, factories)
    known: list[Diagnostic]
    reports_ts901: bool  # TS901 is selected for this file (its per-file ignores included)


def add_compiler_findings(summary: Any, jobs: Sequence[VerifyJob]) -> None:
    """``tsscan check --verify``: TS901 findings for compiler errors no rule covers, one
    verifier per configuration."""
    import ast
    import warnings

    from tsscan.noqa import noqa_suppresses
    from tsscan.semantic.compiled import analyse

    by_settings: dict[int, list[VerifyJob]] = {}
    for job in jobs:
        if job.reports_ts901:
            by_settings.setdefault(id(job.settings), []).append(job)
    for group in by_settings.values():
        with Verifier(group[0].settings, level=2) as verifier:
            reason = verifier.available()
            if reason:
                summary.fix_notes.append(f"--verify: nothing was compiled: {reason}")
                continue
            for job in group:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        scope = analyse(ast.parse(job.text, filename=job.path))
                except (SyntaxError, ValueError, MemoryError, RecursionError):
                    continue  # the check already said what is wrong with it
                if scope.empty:
                    continue
                reports, notes, _ = explain_file(verifier, job.path, job.text, job.known, scope)
                lines = job.text.splitlines()
                for rep in reports:
                    d = rep.diagnostic
                    if d is None:
                        continue
                    if noqa_suppresses(lines[d.line - 1] if 0 < d.line <= len(lines) else "", d.code):
                        continue
                    summary.diagnostics.append(d)
                summary.fix_notes.extend(n for n in notes if "not verified" in n)
    summary.diagnostics.sort(key=Diagnostic.sort_key)


def cmd_explain_error(argv: list[str], out: Any, err: Any) -> int:
    """``tsscan explain-error PATH...``: the compiler's own errors, each mapped to a line and
    to the rule that covers it (or TS901). Exit 0 when everything scripts, 1 when the compiler
    rejects something, 2 when nothing could be compiled."""
    import argparse
    import textwrap

    from tsscan.config import ConfigError, load_settings, target_version
    from tsscan.engine import Engine, InputError
    from tsscan.files import FileError, iter_files, read_source
    from tsscan.registry import load_rules
    from tsscan.rule import RuleLoadError

    p = argparse.ArgumentParser(
        prog="tsscan explain-error",
        description="Run torch.jit.script on each module of the files (in a worker process) and map each error to its line and rule.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--config")
    p.add_argument("--full", action="store_true", help="print the compiler's whole message")
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    try:
        settings = load_settings(args.paths, args.config)
        engine = Engine(load_rules(settings.rule_dirs), target_version(settings))
    except (ConfigError, RuleLoadError) as exc:
        err.write(f"tsscan: error: {exc}\n")
        return 2
    failed = False
    with Verifier(settings, level=2) as verifier:
        reason = verifier.available()
        if reason:
            err.write(f"tsscan: error: cannot run the compiler: {reason}\n")
            return 2
        for path, problem in iter_files(args.paths, settings.exclude, settings.root):
            if problem:
                err.write(f"tsscan: error: {path}: {problem}\n")
                continue
            try:
                source = read_source(path)
                result = engine.check(path, source.text, settings.ignores_for(path))
            except (FileError, InputError) as exc:
                err.write(f"tsscan: error: {path}: {exc}\n")
                continue
            if result.scope is None or result.scope.empty:
                out.write(f"{path}: nothing TorchScript compiles\n")
                continue
            reports, notes, outcome = explain_file(verifier, path, source.text, result.diagnostics, result.scope)
            for rep in reports:
                failed = True
                line = rep.error.line if rep.error.line is not None else "?"
                out.write(f"{path}:{line}: {rep.unit}: {rep.error.short()}\n")
                if rep.covered_by:
                    for d in rep.covered_by:
                        out.write(f"    covered by {d.code} ({d.name}) at {d.line}:{d.col}: {d.message}\n")
                else:
                    out.write(f"    {CompilerErrorCode.code} {CompilerErrorCode.message}\n")
                if rep.error.line is None:
                    out.write("    (the message names no line of this file)\n")
                if args.full:
                    out.write(textwrap.indent(rep.error.message.strip("\n"), "    | ") + "\n")
            for n in notes:
                out.write(n + "\n")
    return 1 if failed else 0
