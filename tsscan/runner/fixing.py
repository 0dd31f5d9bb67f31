"""``tsscan --fix`` / ``--diff``: THE loop over the files to fix.

::

    walk the paths -> the file's configuration -> read -> fix, confirm (tsscan.fix.fixer) -> write

Files with the same configuration share one :class:`~tsscan.fix.fixer.FixRun` (its engine and
verifier); the findings left are those ``check`` gives, with what other files' compiled code
compiles in each file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tsscan.diagnostic import Diagnostic
from tsscan.files import FileError
from tsscan.noqa import file_noqa
from tsscan.package import package_index
from tsscan.runner.configs import Configs, FileConfig, RulesError, Stdin, load_file, walk_files
from tsscan.runner.one_file import check_file

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.fix.fixer import FixRun
    from tsscan.notebook import NotebookText
    from tsscan.report import RunSummary


@dataclass
class FixOptions:
    safeties: tuple[str, ...]
    verify: bool = True
    keep_unverified: bool = False
    write: bool = True  # False: --diff (and stdin): nothing is written


@dataclass
class Changed:
    """A file --fix changed (or --diff would change)."""

    path: str
    old: str
    new: str


def fix_paths(
    paths: Sequence[str],
    configs: Configs,
    summary: RunSummary,
    options: FixOptions,
    stdin: Stdin | None = None,
) -> list[Changed]:
    """Fix every file under ``paths``, each with its configuration; write the fixed files (unless
    ``options.write`` is false); fill ``summary`` with what is left, the fix outcomes, errors."""
    from tsscan.engine import InputError
    from tsscan.files import write_atomic
    from tsscan.fix.fixer import FixRun
    from tsscan.report import record_fixes, run_notes

    runs: dict[int, FixRun] = {}
    changed: list[Changed] = []
    summary.fixing = True
    walked = list(walk_files(paths, configs, stdin, summary))
    # the findings left are those ``check`` gives: with what other files' compiled code compiles
    roots = package_index(_loaded_for_index(walked, stdin), True, configs).roots
    try:
        for path, config_path, fc, problem in walked:
            if fc is None:
                summary.errors.append(f"{path}: {problem}")
                continue
            summary.files += 1
            try:
                source, nb = load_file(config_path, stdin)
                extra = fc.settings.ignores_for(path)
                summary.targets[fc.spec.target_version] = fc.version_source
                if nb is not None or file_noqa(source.text):  # checked, never rewritten
                    _check_unfixed(fc, path, source.text, extra, nb, summary, roots.get(path, {}))
                    continue
                run = runs.get(id(fc))
                if run is None:
                    engine = fc.spec.engine(roots)  # fixed files are checked as `check` checks them
                    run = runs[id(fc)] = FixRun(
                        fc.settings,
                        engine,
                        options.safeties,
                        options.verify,
                        options.keep_unverified,
                        paths=[p for p in paths if p != "-"] or ["."],
                        follow=options.write,  # --diff writes nothing, so it cannot follow
                    )
                new_text, _, result = run.fix(path, source.text, extra)
                records = run.files[-1]
                written, why_not = True, ""
                if result.errors:  # part of the file could not be checked: rewrite none of it
                    new_text, written, why_not = source.text, False, "part of the file could not be checked"
                if new_text != source.text:
                    if options.write and config_path != "-" and not write_atomic(source, new_text):
                        summary.errors.append(f"{path}: changed on disk while being fixed; not written")
                        written, why_not = False, "changed on disk while being fixed"
                        new_text = source.text
                    else:
                        changed.append(Changed(path, source.text, new_text))
                run.written(path, written and new_text != source.text)
                record_fixes(summary, path, records, source.text, new_text, written, why_not)
            except (FileError, InputError) as exc:
                summary.errors.append(f"{path}: {exc}")
                continue
            except RulesError:
                raise  # no file can be fixed
            except (Exception, RecursionError) as exc:  # a bug must not stop the other files
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                summary.errors.append(f"{path}: internal error: {type(exc).__name__}: {msg}")
                continue
            if not written:  # what is left is the file's findings as they stand
                left = _recheck(fc, path, source.text, extra, roots.get(path, {}))
            else:
                left = result.diagnostics
            summary.diagnostics.extend(left)
            summary.errors.extend(f"{path}: {e}" for e in result.errors)
    finally:
        for run in runs.values():
            run.close()
            summary.fix_notes.extend(run_notes(run))
            summary.fixed.extend(run.written_by_following())
            summary.fix_outcomes = [*(summary.fix_outcomes or []), *run.outcomes()]
    return changed


def _check_unfixed(
    fc: FileConfig,
    path: str,
    text: str,
    extra,
    nb: NotebookText | None,
    summary: RunSummary,
    external: Mapping[str, str] = {},  # noqa: B006 - read only
) -> None:
    outcome = check_file(fc.spec, path, text, tuple(extra), external)
    if nb is not None:
        from tsscan.notebook import map_diagnostics

        outcome.diagnostics = map_diagnostics(nb, outcome.diagnostics)
        if any(d.fix for d in outcome.diagnostics):
            summary.fix_notes.append(f"{path}: notebooks are checked, not fixed: fix the cells by hand")
    summary.diagnostics.extend(outcome.diagnostics)
    summary.errors.extend(f"{path}: {e}" for e in outcome.errors)


def _recheck(
    fc: FileConfig,
    path: str,
    text: str,
    extra,
    external: Mapping[str, str] = {},  # noqa: B006 - read only
) -> list[Diagnostic]:
    """The findings of the file as it is left (the fixed text, or the unchanged file when a fix
    was computed but not written), with what other files' compiled code compiles in it."""
    return check_file(fc.spec, path, text, tuple(extra), external).diagnostics


def _loaded_for_index(walked, stdin: Stdin | None) -> list:
    """The files of a walk, read, as :func:`tsscan.package.package_index` takes them (unreadable
    ones left out: the loop over the files says why)."""
    out = []
    for path, config_path, fc, _problem in walked:
        if fc is None or config_path == "-":
            continue
        try:
            source, nb = load_file(config_path, stdin)
        except FileError:
            continue
        out.append((path, config_path, fc, source, nb))
    return out
