"""Command line: arguments, exit codes, output choice; the work is in engine/files/report.

Exit codes: 0 no findings, 1 findings (or, with --diff, changes to make; with --fix and
--exit-non-zero-on-fix, a file changed), 2 usage, configuration or input error (a file that
cannot be read or parsed, or whose configuration is bad: every other file is still checked; a
bad option or output file: nothing is checked or written). Each error is one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, TextIO

from tsscan import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
COMMANDS = ("check", "rules", "explain", "explain-error", "server")


def _codes(value: str) -> list[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def _patterns(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr and exit 2 (not usage + message)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="tsscan",
        description="Find (and fix) what torch.jit.script rejects, without running anything.",
        epilog=(
            "Commands: tsscan [check] PATH... | tsscan rules | tsscan explain TS101 | "
            "tsscan explain-error PATH... (run the compiler, map each error to a line and a rule) | "
            "tsscan server (language server over stdio). "
            "Exit codes: 0 clean, 1 findings, 2 usage, configuration or input error."
        ),
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .); - reads stdin")
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
    p.add_argument("--exit-non-zero-on-fix", action="store_true", help="with --fix: exit 1 when a file was changed")
    p.add_argument("--add-noqa", action="store_true", help="add a `# noqa: CODE` comment to each line with a finding")
    p.add_argument("--select", type=_codes, help="codes or prefixes to check (comma-separated)")
    p.add_argument("--ignore", type=_codes, help="codes or prefixes to skip")
    p.add_argument("--extend-select", type=_codes, default=[], help="add to the selection")
    p.add_argument("--extend-ignore", type=_codes, default=[], help="add to the ignore list")
    p.add_argument("--exclude", type=_patterns, help="patterns to skip while walking (replaces `exclude`)")
    p.add_argument("--extend-exclude", type=_patterns, default=[], help="patterns to skip, added to `exclude`")
    p.add_argument("--force-exclude", action="store_true", help="apply the excludes to files named on the command line")
    p.add_argument("--stdin-filename", help="the name of the file read from stdin (-): its configuration and report")
    p.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    p.add_argument("--output-file", "-o", help="write the report here instead of stdout")
    p.add_argument("--show-source", action="store_true", help="print the offending line with a caret under it")
    p.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour the text report: auto (a terminal, unless NO_COLOR is set), always, never",
    )
    p.add_argument("--statistics", action="store_true", help="count findings per code")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    p.add_argument(
        "--target-version",
        help="torch version to check against (default: config, installed torch, newest); "
        "one tsscan has a knowledge table for",
    )
    p.add_argument("--config", help="pyproject.toml to read [tool.tsscan] from, for every file")
    p.add_argument(
        "--no-cache", action="store_true", help="check every file again (do not read or write .tsscan_cache/)"
    )
    p.add_argument(
        "--jobs", "-j", type=int, help="processes to check with (default: one per core, when there is enough to check)"
    )
    p.add_argument("--verbose", "-v", action="store_true", help="say which settings and torch version each run uses")
    p.add_argument("--version", action="version", version=f"tsscan {__version__}")
    return p


@dataclass
class Run:
    args: argparse.Namespace
    out: TextIO
    err: TextIO
    exit_code: int = EXIT_CLEAN


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    as_program = argv is None  # the console script or `python -m tsscan`, not a caller in-process
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or _tolerant(sys.stdout)
    err = err or _tolerant(sys.stderr)
    command = "check"
    if argv and argv[0] in COMMANDS:
        command = argv.pop(0)
    if as_program and command == "check":
        # process-wide: only when tsscan owns the process (a caller in-process, e.g. a test
        # that goes on to compile with torch, keeps its own collector settings: measured, a
        # pytest process with these thresholds gets other compiler messages from torch)
        from tsscan.runner.workers import batch_gc

        batch_gc()
    try:
        if command == "rules":
            return cmd_rules(argv, out, err)
        if command == "explain":
            return cmd_explain(argv, out, err)
        if command == "server":  # the language server (LSP over stdio): tsscan/server.py
            from tsscan.server import main as server_main

            return server_main(argv, out, err)
        if command == "explain-error":
            from tsscan.verify.explain import cmd_explain_error

            return cmd_explain_error(argv, out, err)
        return cmd_check(argv, out, err)
    except KeyboardInterrupt:
        err.write("tsscan: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN


def _parse(parser: argparse.ArgumentParser, argv: list[str], err: TextIO) -> argparse.Namespace | int:
    """The arguments, or the exit code (``--help``/``--version``: 0; a usage error: 2, said on ``err``)."""
    import contextlib
    import io

    buf = io.StringIO()
    try:
        with contextlib.redirect_stderr(buf):
            return parser.parse_args(argv)
    except SystemExit as exc:
        err.write(buf.getvalue())
        return EXIT_CLEAN if not exc.code else EXIT_ERROR


def _setup(args: argparse.Namespace, err: TextIO, with_rules: bool = True):
    from tsscan.config import ConfigError, clear_cache, load_settings, target_version

    clear_cache()
    try:
        settings = load_settings(args.paths or ["."], getattr(args, "config", None))
        version = target_version(settings, getattr(args, "target_version", None))
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
    return settings, rules, version


def _output_problem(path: str | None) -> str | None:
    """Why the report cannot be written to ``path`` (checked before anything is done)."""
    if not path:
        return None
    import os

    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return f"--output-file {path}: is a directory"
    if not os.path.isdir(directory):
        return f"--output-file {path}: no such directory: {directory}"
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return f"--output-file {path}: not writable"
    return None


def _options(args: argparse.Namespace):
    from tsscan.runner import Options

    def tup(v):
        return None if v is None else tuple(v)

    return Options(
        config=args.config,
        select=tup(args.select),
        ignore=tup(args.ignore),
        extend_select=tuple(args.extend_select),
        extend_ignore=tuple(args.extend_ignore),
        target_version=args.target_version,
        exclude=tup(args.exclude),
        extend_exclude=tuple(args.extend_exclude),
        force_exclude=args.force_exclude,
    )


def _style(args: argparse.Namespace, out: TextIO):
    """Colour on a terminal only, never with NO_COLOR (https://no-color.org); FORCE_COLOR forces
    it; ``--color always|never`` wins over both."""
    import os

    from tsscan.report import TextStyle

    color = args.color == "always" and args.format == "text"
    if args.color == "auto" and args.format == "text" and not args.output_file and not os.environ.get("NO_COLOR"):
        isatty = getattr(out, "isatty", None)
        try:
            color = bool(os.environ.get("FORCE_COLOR")) or bool(isatty and isatty())
        except (ValueError, OSError):
            color = False
    return TextStyle(color=color, show_source=args.show_source)


def cmd_check(argv: list[str], out: TextIO, err: TextIO) -> int:
    from tsscan.config import ConfigError, clear_cache
    from tsscan.diagnostic import SAFE, UNSAFE
    from tsscan.report import RunSummary, write
    from tsscan.runner import Configs, FixOptions, RulesError, Stdin, check_paths, fix_paths

    args = _parse(build_parser(), argv, err)
    if isinstance(args, int):
        return args
    paths = args.paths or (["-"] if args.stdin_filename else ["."])
    problem = _usage_problem(args, paths) or _output_problem(args.output_file)
    if problem:
        err.write(f"tsscan: error: {problem}\n")
        return EXIT_ERROR
    clear_cache()
    try:
        configs = Configs(
            _options(args), [args.stdin_filename if p == "-" and args.stdin_filename else p for p in paths]
        )
    except ConfigError as exc:
        err.write(f"tsscan: error: {exc}\n")
        return EXIT_ERROR
    stdin = Stdin(sys.stdin.buffer.read(), args.stdin_filename or "-") if "-" in paths else None
    fixing = args.fix or args.diff
    summary = RunSummary()
    summary.safeties = (SAFE, UNSAFE) if args.unsafe_fixes else (SAFE,)
    changed = []
    try:
        if args.add_noqa:
            from tsscan.runner import add_noqa_paths

            added, skipped = add_noqa_paths(paths, configs, summary)
            return _noqa_report(summary, added, skipped, out, err)
        if fixing:
            write_files = args.fix and not args.diff
            fix = FixOptions(summary.safeties, not args.no_verify, args.keep_unverified, write_files)
            changed = fix_paths(paths, configs, summary, fix, stdin)
            if args.verify:  # the compiler's errors that no rule reports, in the fixed files
                after = RunSummary()
                check_paths([p for p in paths if p != "-"], configs, after, args.jobs, False, None, verify=True)
                summary.diagnostics += [d for d in after.diagnostics if d.code == "TS901"]
                summary.fix_notes += after.fix_notes
        else:
            check_paths(paths, configs, summary, args.jobs, not args.no_cache, stdin, verify=args.verify)
            if args.format == "sarif":  # it lists the rules that ran
                summary.rules = [r for fc in configs.used() for r in fc.spec.engine().rules_for()]
                summary.rules = list({r.code: r for r in summary.rules}.values())
    except (RulesError, ConfigError) as exc:
        err.write(f"tsscan: error: {exc}\n")
        return EXIT_ERROR
    if args.verbose:
        _verbose(configs, summary, err)
    for e in summary.errors:
        err.write(f"tsscan: error: {e}\n")
    stdin_fixed = stdin is not None and args.fix and not args.diff
    if args.diff or stdin_fixed:
        _print_fixes(args, summary, changed, stdin, out, err)
    else:
        try:
            target = (
                open(args.output_file, "w", encoding="utf-8", errors="backslashreplace") if args.output_file else out
            )
        except OSError as exc:
            err.write(f"tsscan: error: --output-file {args.output_file}: {exc.strerror or exc}\n")
            return EXIT_ERROR
        try:
            write(summary, args.format, target, args.statistics, _style(args, target))
        finally:
            if target is not out:
                target.close()
    if summary.errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    if args.diff:
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    if args.fix and args.exit_non_zero_on_fix and summary.fixed:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if summary.diagnostics else EXIT_CLEAN


def _usage_problem(args: argparse.Namespace, paths: list[str]) -> str | None:
    if "-" in paths and len(paths) > 1:
        return "- (stdin) cannot be combined with other paths"
    if args.stdin_filename and "-" not in paths:
        return "--stdin-filename names the file read from stdin: give - as the path"
    if args.add_noqa and (args.fix or args.diff):
        return "--add-noqa cannot be combined with --fix or --diff"
    if args.add_noqa and "-" in paths:
        return "--add-noqa rewrites files: it cannot read stdin"
    if args.jobs is not None and args.jobs < 1:
        return f"--jobs must be at least 1, not {args.jobs}"
    if args.exit_non_zero_on_fix and not args.fix:
        return "--exit-non-zero-on-fix needs --fix"
    return None


def _print_fixes(args, summary, changed, stdin, out: TextIO, err: TextIO) -> None:
    """--diff: the diff on stdout, what was done on stderr. --fix on stdin: the fixed text on
    stdout (what editors expect), the report on stderr."""
    from tsscan.report import summary_line

    for fix in summary.fixes:
        err.write(fix.text() + "\n")
    err.write("".join(n + "\n" for n in summary.fix_notes))
    if args.diff:
        out.write("".join(_diff(c.path, c.old, c.new) for c in changed))
        if args.format == "text" and summary.files:
            n = len(summary.fixed)
            err.write(f"Would fix {n} problem{'s' if n != 1 else ''}; {len(summary.diagnostics)} would remain.\n")
        return
    out.write(changed[0].new if changed else stdin.data.decode("utf-8", "surrogateescape"))
    for d in summary.diagnostics:
        err.write(f"{d.path}:{d.line}:{d.col}: {d.code} {d.message}\n")
    err.write(summary_line(summary) + "\n")


def _noqa_report(summary, added: int, skipped: int, out: TextIO, err: TextIO) -> int:
    for e in summary.errors:
        err.write(f"tsscan: error: {e}\n")
    out.write(f"Added {added} noqa directive{'s' if added != 1 else ''}.\n")
    if skipped:
        out.write(
            f"{skipped} finding{'s' if skipped != 1 else ''} left without one: on a line inside a multi-line "
            "string or ending in a backslash, where a comment would change the code.\n"
        )
    return EXIT_ERROR if summary.errors else EXIT_CLEAN


def _verbose(configs, summary, err: TextIO) -> None:
    from tsscan.config import table_version

    for fc in configs.used():
        where = str(fc.settings.source) if fc.settings.source else f"defaults (root {fc.settings.root})"
        v = fc.spec.target_version
        err.write(
            f"tsscan: settings from {where}: checking against torch {v} (knowledge table torch-"
            f"{table_version(v)}; from {fc.version_source}); select {','.join(fc.spec.select)}"
            + (f", ignore {','.join(fc.spec.ignore)}" if fc.spec.ignore else "")
            + "\n"
        )


def _diff(path: str, old: str, new: str) -> str:
    import difflib

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
    p = _Parser(prog="tsscan rules", description="List the rules.")
    p.add_argument("--config")
    p.add_argument("--format", choices=["text", "json"], default="text")
    args = _parse(p, argv, err)
    if isinstance(args, int):
        return args
    args.paths = []
    setup = _setup(args, err)
    if setup is None:
        return EXIT_ERROR
    _, rules, _ = setup
    from tsscan.compiler_rule import COMPILER_CODES

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
    p = _Parser(prog="tsscan explain", description="Show a rule's documentation.")
    p.add_argument("code")
    p.add_argument("--config")
    args = _parse(p, argv, err)
    if isinstance(args, int):
        return args
    args.paths = []
    setup = _setup(args, err)
    if setup is None:
        return EXIT_ERROR
    _, rules, _ = setup
    from tsscan.compiler_rule import COMPILER_CODES

    wanted = args.code.strip().upper()
    for r in list(rules) + COMPILER_CODES:
        if r.code == wanted or r.name == args.code.strip():
            from tsscan.docs import rule_page

            out.write(rule_page(r))
            return EXIT_CLEAN
    err.write(f"tsscan: error: no rule {args.code!r} (see `tsscan rules`)\n")
    return EXIT_ERROR
