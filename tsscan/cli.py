"""Command line: arguments, exit codes, output choice; the work is in engine/files/report.

Exit codes: 0 no findings, 1 findings (or, with --diff, changes to make), 2 usage or input
error (a file that cannot be read or parsed; every other file is still checked).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from tsscan import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
COMMANDS = ("check", "rules", "explain", "explain-error")


def _codes(value: str) -> list[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tsscan",
        description="Find (and fix) what torch.jit.script rejects, without running anything.",
        epilog="Commands: tsscan [check] PATH... | tsscan rules | tsscan explain TS101",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    p.add_argument("--fix", action="store_true", help="apply safe fixes")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes (with --fix or --diff)")
    p.add_argument("--diff", action="store_true", help="print the fixes as a diff; write nothing")
    p.add_argument("--no-verify", action="store_true", help="apply fixes without confirming them with torch.jit.script")
    p.add_argument(
        "--keep-unverified",
        action="store_true",
        help="also apply fixes the compiler could not confirm (class cannot be built, torch not usable)",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="also run torch.jit.script on each module (in a worker) and report errors no rule covers as TS901",
    )
    p.add_argument("--select", type=_codes, help="codes or prefixes to check (comma-separated)")
    p.add_argument("--ignore", type=_codes, help="codes or prefixes to skip")
    p.add_argument("--extend-select", type=_codes, default=[], help="add to the selection")
    p.add_argument("--extend-ignore", type=_codes, default=[], help="add to the ignore list")
    p.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    p.add_argument("--output-file", "-o", help="write the report here instead of stdout")
    p.add_argument("--statistics", action="store_true", help="count findings per code")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    p.add_argument("--target-version", help="torch version to check against (default: config, installed torch, newest)")
    p.add_argument("--config", help="pyproject.toml to read [tool.tsscan] from")
    p.add_argument(
        "--no-cache", action="store_true", help="check every file again (do not read or write .tsscan_cache/)"
    )
    p.add_argument(
        "--jobs", "-j", type=int, help="processes to check with (default: one per core, when there is enough to check)"
    )
    p.add_argument("--version", action="version", version=f"tsscan {__version__}")
    return p


@dataclass
class Run:
    args: argparse.Namespace
    out: TextIO
    err: TextIO
    exit_code: int = EXIT_CLEAN


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or _tolerant(sys.stdout)
    err = err or _tolerant(sys.stderr)
    command = "check"
    if argv and argv[0] in COMMANDS:
        command = argv.pop(0)
    try:
        if command == "rules":
            return cmd_rules(argv, out, err)
        if command == "explain":
            return cmd_explain(argv, out, err)
        if command == "explain-error":
            from tsscan.verify import cmd_explain_error

            return cmd_explain_error(argv, out, err)
        return cmd_check(argv, out, err)
    except KeyboardInterrupt:
        err.write("tsscan: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN


def _setup(args: argparse.Namespace, err: TextIO, with_rules: bool = True):
    from tsscan.config import ConfigError, load_settings, target_version

    try:
        settings = load_settings(args.paths or ["."], getattr(args, "config", None))
    except ConfigError as exc:
        err.write(f"tsscan: error: {exc}\n")
        return None
    rules = None
    if with_rules:  # importing the rules imports libcst
        from tsscan.registry import load_rules
        from tsscan.rule import RuleLoadError

        try:
            rules = load_rules(settings.rule_dirs)
        except RuleLoadError as exc:
            err.write(f"tsscan: error: {exc}\n")
            return None
    return settings, rules, target_version(settings, getattr(args, "target_version", None))


def cmd_check(argv: list[str], out: TextIO, err: TextIO) -> int:
    from tsscan.diagnostic import SAFE, UNSAFE
    from tsscan.files import FileError, iter_files, read_source, write_atomic
    from tsscan.report import RunSummary, write

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_CLEAN if exc.code == 0 else EXIT_ERROR
    fixing = args.fix or args.diff
    # only what needs them loads the rules (and libcst): a check answered from the cache does not
    setup = _setup(args, err, with_rules=bool(fixing or args.verify or args.format == "sarif"))
    if setup is None:
        return EXIT_ERROR
    settings, rules, version = setup
    select = (args.select or settings.select) + args.extend_select
    ignore = (args.ignore if args.ignore is not None else settings.ignore) + args.extend_ignore
    engine = None
    if rules is not None:
        from tsscan.engine import Engine, InputError

        engine = Engine(rules, version, select, ignore)
    safeties = (SAFE, UNSAFE) if args.unsafe_fixes else (SAFE,)

    summary = RunSummary(rules=engine.rules_for() if engine else [])
    diff_out: list[str] = []
    fix_run = None
    if fixing:
        from tsscan.fixer import FixRun

        fix_run = FixRun(settings, engine, safeties, not args.no_verify, args.keep_unverified)
    if not fixing:  # checking: tsscan.runner (worker processes, the cache)
        from tsscan.runner import EngineSpec, RulesError, check_paths

        spec = EngineSpec(tuple(str(d) for d in settings.rule_dirs), version, tuple(select), tuple(ignore))
        try:
            check_paths(args.paths or ["."], settings, spec, summary, args.jobs, not args.no_cache)
        except RulesError as exc:
            err.write(f"tsscan: error: {exc}\n")
            return EXIT_ERROR
    to_fix = iter_files(args.paths or ["."], settings.exclude, settings.root) if fixing else []
    for path, problem in to_fix:
        if problem:
            summary.errors.append(f"{path}: {problem}")
            continue
        summary.files += 1
        try:
            source = read_source(path)
            extra = settings.ignores_for(path)
            if fixing:
                new_text, applied, result = fix_run.fix(path, source.text, extra)
                if result.errors:  # part of the file could not be checked: rewrite none of it
                    new_text, applied = source.text, []
                if new_text != source.text:
                    if args.diff:
                        diff_out.append(_diff(path, source.text, new_text))
                    elif not write_atomic(source, new_text):
                        summary.errors.append(f"{path}: changed on disk while being fixed; not written")
                        applied = []
                    summary.fixed.extend(applied)
        except (FileError, InputError) as exc:
            summary.errors.append(f"{path}: {exc}")
            continue
        except (Exception, RecursionError) as exc:  # a bug must not stop the other files
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            summary.errors.append(f"{path}: internal error: {type(exc).__name__}: {msg}")
            continue
        summary.diagnostics.extend(result.diagnostics)
        summary.errors.extend(f"{path}: {e}" for e in result.errors)

    if fix_run is not None:
        fix_run.close()
        if args.diff:
            err.write("".join(n + "\n" for n in fix_run.notes()))
        else:
            summary.fix_notes.extend(fix_run.notes())
    if args.verify:
        from tsscan.verify import add_compiler_findings

        add_compiler_findings(summary, args.paths or ["."], settings, engine)
    for e in summary.errors:
        err.write(f"tsscan: error: {e}\n")
    if args.diff:
        out.write("".join(diff_out))
        if args.format == "text":
            n = len(summary.fixed)
            err.write(f"Would fix {n} problem{'s' if n != 1 else ''}; {len(summary.diagnostics)} would remain.\n")
    else:
        target = open(args.output_file, "w", encoding="utf-8", errors="backslashreplace") if args.output_file else out
        try:
            write(summary, args.format, target, args.statistics)
        finally:
            if target is not out:
                target.close()
    if summary.errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    if args.diff:
        return EXIT_FINDINGS if diff_out else EXIT_CLEAN
    return EXIT_FINDINGS if summary.diagnostics else EXIT_CLEAN


def _diff(path: str, old: str, new: str) -> str:
    from tsscan.files import split_lines

    out = []
    for line in difflib.unified_diff(split_lines(old), split_lines(new), fromfile=f"a/{path}", tofile=f"b/{path}"):
        # a last line without a newline must not run into the next line of the diff
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _tolerant(stream: TextIO) -> TextIO:
    """``stream``, made to print what it cannot encode (a file name that is not valid UTF-8
    arrives as lone surrogates) as escapes instead of raising."""
    if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
        try:
            stream.reconfigure(errors="backslashreplace")
        except Exception:
            pass
    return stream


def cmd_rules(argv: list[str], out: TextIO, err: TextIO) -> int:
    p = argparse.ArgumentParser(prog="tsscan rules", description="List the rules.")
    p.add_argument("--config")
    p.add_argument("--format", choices=["text", "json"], default="text")
    args = p.parse_args(argv)
    args.paths = []
    setup = _setup(args, err)
    if setup is None:
        return EXIT_ERROR
    _, rules, _ = setup
    from tsscan.verify import COMPILER_CODES

    rules = list(rules) + COMPILER_CODES  # TS9xx: found by --verify, not by a static rule
    if args.format == "json":
        import json

        json.dump(
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "message": r.message,
                    "fix": r.fix_safety,
                    "fails_in": r.fails_in,
                    "level": r.level,
                }
                for r in rules
            ],
            out,
            indent=2,
        )
        out.write("\n")
        return EXIT_CLEAN
    out.write(f"{'code':6}  {'name':34}  {'fix':6}  torch versions\n")
    for r in rules:
        out.write(f"{r.code:6}  {r.name:34}  {r.fix_safety or '-':6}  {r.fails_in}\n")
    return EXIT_CLEAN


def cmd_explain(argv: list[str], out: TextIO, err: TextIO) -> int:
    p = argparse.ArgumentParser(prog="tsscan explain", description="Show a rule's documentation.")
    p.add_argument("code")
    p.add_argument("--config")
    args = p.parse_args(argv)
    args.paths = []
    setup = _setup(args, err)
    if setup is None:
        return EXIT_ERROR
    _, rules, _ = setup
    from tsscan.verify import COMPILER_CODES

    wanted = args.code.strip().upper()
    for r in list(rules) + COMPILER_CODES:
        if r.code == wanted or r.name == args.code.strip():
            from tsscan.docs import rule_page

            out.write(rule_page(r))
            return EXIT_CLEAN
    err.write(f"tsscan: error: no rule {args.code!r} (see `tsscan rules`)\n")
    return EXIT_ERROR
