"""Checking many files: the check of one file as a pure function, and THE loop over the files.

The loop, for ``tsscan check``::

    iter_files -> the file's configuration -> read the bytes -> in the cache? -> check_file,
               here or in worker processes -> into the cache -> outcomes in iter_files's order

and for ``tsscan --fix`` / ``--diff`` (:func:`fix_paths`)::

    iter_files -> the file's configuration -> read -> fix, confirm (tsscan.fix.fixer) -> write

Each file gets its own configuration (:class:`Configs`): the nearest ``[tool.tsscan]`` (see
:mod:`tsscan.config`) with the command line's options over it; files with the same
configuration share an engine, a cache file and, when fixing, a verifier.

:func:`check_file` needs libcst only for a file with code TorchScript compiles: any other file
is answered with the stdlib ``ast`` alone, and the engine (which imports libcst, a fifth of a
second) is built the first time a file needs it. A run answered from the cache never builds it.

Worker processes are used when there is enough to check (:data:`PARALLEL_MIN_FILES` files and
:data:`PARALLEL_MIN_BYTES` bytes), one per core; each builds its own engine from the
picklable :class:`EngineSpec`. The output does not depend on the number of workers.
"""

from __future__ import annotations

import ast
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tsscan.cache import Cache
from tsscan.config import ConfigError, Settings, check_codes, load_config_file, settings_for, target_source
from tsscan.diagnostic import Diagnostic
from tsscan.files import SUFFIXES, FileError, Source, decode, is_excluded, iter_files, read_source
from tsscan.noqa import file_noqa
from tsscan.package import index_key, package_index, reached_files
from tsscan.semantic.compiled import analyse

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.cache import Cache
    from tsscan.engine import Engine
    from tsscan.fix.fixer import FixRun
    from tsscan.notebook import NotebookText
    from tsscan.report import RunSummary
    from tsscan.verify.explain import VerifyJob

PARALLEL_MIN_FILES = 8
PARALLEL_MIN_BYTES = 256 * 1024


@dataclass(frozen=True)
class EngineSpec:
    """What an :class:`~tsscan.engine.Engine` is built from (picklable: workers build their own)."""

    rule_dirs: tuple[str, ...]
    target_version: str
    select: tuple[str, ...] = ("TS",)
    ignore: tuple[str, ...] = ()

    def engine(self) -> Engine:
        """The engine, built once per process (this loads the rules, and libcst)."""
        engine = _ENGINES.get(self)
        if engine is None:
            from tsscan.engine import Engine
            from tsscan.registry import load_rules
            from tsscan.rule import RuleLoadError

            try:
                rules = load_rules([Path(d) for d in self.rule_dirs])
            except RuleLoadError as exc:
                raise RulesError(str(exc)) from None
            engine = _ENGINES[self] = Engine(rules, self.target_version, self.select, self.ignore)
        return engine


class RulesError(Exception):
    """The rules cannot be loaded (a broken rule file): no file can be checked."""


_ENGINES: dict[EngineSpec, Engine] = {}


@dataclass
class Outcome:
    """What checking one file gave."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one-line problems, without the path
    cacheable: bool = True  # False for internal errors: the next run tries again


def check_file(
    spec: EngineSpec,
    path: str,
    text: str,
    extra_ignore: Sequence[str] = (),
    external: frozenset[str] | Mapping[str, str] = frozenset(),
    roots_only: bool = False,
) -> Outcome:
    """Check one file's text; ``external`` names its functions and methods that compiled code
    in another file compiles (:mod:`tsscan.semantic.index`; a mapping: with the note of each);
    ``roots_only``: check only those (a file read because another file's compiled code reaches
    into it). Raises only :class:`RulesError`; a problem with the file, or a bug, is an error of
    its outcome."""
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc.
                tree: ast.Module | None = ast.parse(text, filename=path)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            tree = None  # the engine says what is wrong, in its words
        scope = analyse(tree, external, roots_only) if tree is not None else None
    except (Exception, RecursionError) as exc:
        return _internal_error(path, exc)
    if file_noqa(text):
        return Outcome(path)  # flake8 skips the whole file too
    if scope is not None and scope.empty and not getattr(scope, "init_functions", None):
        return Outcome(path)  # nothing compiled: no rule has anything to see
    engine = spec.engine()
    from tsscan.engine import InputError

    try:
        result = engine.check(path, text, extra_ignore, scope=scope)
    except InputError as exc:
        return Outcome(path, errors=[str(exc)])
    except (Exception, RecursionError) as exc:  # a bug must not stop the other files
        return _internal_error(path, exc)
    return Outcome(path, list(result.diagnostics), list(result.errors))


def _internal_error(path: str, exc: BaseException) -> Outcome:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Outcome(path, errors=[f"internal error: {type(exc).__name__}: {msg}"], cacheable=False)


# --------------------------------------------------------------------------- configuration per file
@dataclass(frozen=True)
class Options:
    """What the command line sets over every file's ``[tool.tsscan]`` (None: the file's own)."""

    config: str | None = None  # --config: this pyproject.toml for every file
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    target_version: str | None = None
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    force_exclude: bool = False


@dataclass
class FileConfig:
    """One configuration in use: the settings, the engine spec, where its torch version came from."""

    settings: Settings
    spec: EngineSpec
    version_source: str


class Configs:
    """Each file's configuration: its nearest ``[tool.tsscan]`` (or ``--config``), the
    :class:`Options` over it. Raises :class:`~tsscan.config.ConfigError` for a bad option at
    construction, and for a file whose configuration is bad from :meth:`for_file`."""

    def __init__(self, options: Options = Options(), paths: Sequence[str] = ()) -> None:
        self.options = options
        self.fixed = load_config_file(options.config) if options.config else None
        self._by_settings: dict[int, FileConfig] = {}
        self._check_options(paths)

    def _check_options(self, paths: Sequence[str]) -> None:
        """The command line's codes must name rules (built-in or of the configurations of
        ``paths``), its torch version must have a table."""
        o = self.options
        dirs: list = []
        for p in paths or ["."]:
            try:
                dirs.extend(self.settings(p).rule_dirs)
            except ConfigError:
                pass  # said for each of its files
        for flag, codes in (
            ("--select", o.select),
            ("--ignore", o.ignore),
            ("--extend-select", o.extend_select),
            ("--extend-ignore", o.extend_ignore),
        ):
            check_codes(codes or (), flag, dirs)
        if o.target_version is not None:
            target_source(Settings(), o.target_version)

    def settings(self, path: str) -> Settings:
        return self.fixed if self.fixed is not None else settings_for(path)

    def for_file(self, path: str) -> FileConfig:
        s = self.settings(path)
        fc = self._by_settings.get(id(s))
        if fc is None:
            o = self.options
            select = [*(s.select if o.select is None else o.select), *o.extend_select]
            ignore = [*(s.ignore if o.ignore is None else o.ignore), *o.extend_ignore]
            version, source = target_source(s, o.target_version)
            spec = EngineSpec(tuple(str(d) for d in s.rule_dirs), version, tuple(select), tuple(ignore))
            fc = self._by_settings[id(s)] = FileConfig(s, spec, source)
        return fc

    def used(self) -> list[FileConfig]:
        return list(self._by_settings.values())

    def excluded(self, path: str) -> bool:
        try:
            s = self.settings(path)
        except ConfigError:
            return False  # checked, and the error said, file by file
        o = self.options
        return is_excluded(path, [*(s.exclude if o.exclude is None else o.exclude), *o.extend_exclude], s.root)

    def files(self, paths: Sequence[str]):
        return iter_files(paths, excluded=self.excluded, force_exclude=self.options.force_exclude, suffixes=SUFFIXES)


@dataclass
class Stdin:
    """``tsscan check -``: the bytes read, checked as the file ``filename``."""

    data: bytes
    filename: str = "-"


def _config_error(summary: RunSummary, exc: ConfigError) -> None:
    """A bad ``[tool.tsscan]``: said once (it names its pyproject.toml), however many files it
    would have configured; those files are not checked, the others are."""
    if str(exc) not in summary.errors:
        summary.errors.append(str(exc))


def _load(path: str, stdin: Stdin | None) -> tuple[Source, NotebookText | None]:
    """The file's source (stdin's bytes for ``-``); for a notebook, also its code as Python."""
    if path == "-" and stdin is not None:
        raw_source = decode(stdin.filename, stdin.data)
    else:
        raw_source = read_source(path)
    if not (stdin.filename if path == "-" and stdin else path).endswith(".ipynb"):
        return raw_source, None
    from tsscan.notebook import NotebookError, code_text

    try:
        nb = code_text(raw_source.raw)
    except NotebookError as exc:
        raise FileError(str(exc)) from None
    return Source(raw_source.path, raw_source.raw, nb.text, "utf-8"), nb


def _walk(paths: Sequence[str], configs: Configs, stdin: Stdin | None, summary: RunSummary):
    """(path as reported, path to read, its configuration, problem) for each file to check; a
    file whose configuration is bad is left out, the configuration's error said once."""
    rest = [p for p in paths if p != "-" or stdin is None]
    found = [(stdin.filename, "-", None)] if stdin is not None and "-" in paths else []
    for path, config_path, problem in [*found, *((p, p, e) for p, e in configs.files(rest))]:
        if problem:
            yield path, config_path, None, problem
            continue
        try:
            fc = configs.for_file(path)
        except ConfigError as exc:
            _config_error(summary, exc)
            continue
        yield path, config_path, fc, None


# --------------------------------------------------------------------------- many files
# engine, path, text, per-file ignores, what other files compile in it (name -> note), roots only
Job = tuple[EngineSpec, str, str, tuple[str, ...], Mapping[str, str], bool]


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def workers_for(jobs: Sequence[Job], requested: int | None = None) -> int:
    """How many processes to check ``jobs`` with: 1 (this one) for little work."""
    if requested is not None:
        return max(1, min(requested, len(jobs)))
    if len(jobs) < PARALLEL_MIN_FILES or sum(len(j[2]) for j in jobs) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(cpu_count(), len(jobs)))


def check_many(
    jobs: Sequence[Job],
    workers: int | None = None,
    tick: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """:func:`check_file` for each job; the outcomes in the order of ``jobs``."""
    n = workers_for(jobs, workers)
    out: list[Outcome | None] = [None] * len(jobs)
    if n > 1:
        _check_in_pool(jobs, n, out, tick)
    for i, job in enumerate(jobs):  # serially: all of them, or what a broken pool left
        if out[i] is None:
            out[i] = check_file(*job)
            if tick:
                tick(job[1])
    return out  # type: ignore[return-value]


def _check_in_pool(jobs, n, out, tick) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    for spec in {j[0] for j in jobs}:
        spec.engine()  # here, once: forked workers inherit it; a broken rule file stops the run here
    # the biggest files first, so that no worker is left with a big one at the end
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][2]))
    pool = ProcessPoolExecutor(n, mp_context=_mp_context())
    try:
        futures = {pool.submit(_work, jobs[i]): i for i in order}
        for fut in as_completed(futures):
            out[futures[fut]] = fut.result()
            if tick:
                tick(jobs[futures[fut]][1])
    except BrokenProcessPool:
        pass  # a worker died (out of memory?): the caller checks the rest here
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _mp_context():
    import multiprocessing
    import threading

    # fork starts a worker in milliseconds with tsscan already imported; it is only safe in a
    # process without other threads, and only the default on Linux
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _work(job: Job) -> Outcome:
    return check_file(*job)


# --------------------------------------------------------------------------- tsscan check
def check_paths(
    paths: Sequence[str],
    configs: Configs,
    summary: RunSummary,
    workers: int | None = None,
    use_cache: bool = True,
    stdin: Stdin | None = None,
    verify: bool = False,
) -> None:
    """Check every file under ``paths`` (``-``: ``stdin``), each with its own configuration;
    add files, diagnostics and errors to ``summary``. ``verify`` (``check --verify``): the files
    are checked with every rule, each file's selection is applied afterwards, and the compiler
    is run on each file; its errors that no rule reports become TS901 findings."""
    caches: dict[tuple[Path, EngineSpec], Cache | None] = {}
    # per path: its cache, key, outcome (None: to check), whether it counts as a file checked, notebook
    slots: list[tuple[str, Cache | None, str | None, Outcome | None, bool, NotebookText | None]] = []
    to_verify: dict[str, tuple[str, FileConfig, tuple[str, ...]]] = {}
    todo: list[Job] = []
    loaded: list[tuple[str, str, FileConfig, Source, NotebookText | None]] = []
    for path, config_path, fc, problem in _walk(paths, configs, stdin, summary):
        if fc is None:
            slots.append((path, None, None, Outcome(path, errors=[problem]), False, None))
            continue
        try:
            source, nb = _load(config_path, stdin)
        except FileError as exc:
            slots.append((path, None, None, Outcome(path, errors=[str(exc)]), True, None))
            continue
        loaded.append((path, config_path, fc, source, nb))
    built = package_index(loaded, use_cache, configs)
    reached = [
        (path, path, fc, Source(path, text.encode("utf-8", "surrogatepass"), text, "utf-8"), None)
        for path, text, fc in reached_files(built, configs)
    ]
    for path, config_path, fc, source, nb in [*loaded, *reached]:
        external = built.roots.get(path, {})
        roots_only = path in built.extra
        extra = tuple(fc.settings.ignores_for(path))
        spec = fc.spec
        if verify and config_path != "-" and nb is None and not roots_only:
            to_verify[path] = (source.text, fc, extra)
            spec, extra = _every_rule(spec), ()
        cache = None
        if use_cache and config_path != "-":
            where = (fc.settings.root, spec)
            if where not in caches:
                caches[where] = _open_cache(fc.settings.root, spec)
            cache = caches[where]
        key = None
        if cache is not None:
            key = cache.key(source.raw, (*extra, *index_key(external, roots_only)))
            hit = cache.get(path, key)
            if hit is not None:
                slots.append((path, None, key, Outcome(path, *hit), not roots_only, None))
                continue
        slots.append((path, cache, key, None, not roots_only, nb))
        todo.append((spec, path, source.text, extra, external, roots_only))
        summary.targets[fc.spec.target_version] = fc.version_source

    progress = _progress(len(todo))
    try:
        done = iter(check_many(todo, workers, progress))
    finally:
        if progress is not None and hasattr(progress, "close"):
            progress.close()  # erase the line, also when interrupted
    verify_jobs: list[VerifyJob] = []
    for path, cache, key, outcome, counts, nb in slots:
        if outcome is None:
            outcome = next(done)
            if nb is not None:
                from tsscan.notebook import map_diagnostics

                outcome.diagnostics = map_diagnostics(nb, outcome.diagnostics)
            if cache is not None and key is not None and outcome.cacheable:
                cache.put(path, key, outcome.diagnostics, outcome.errors)
        summary.files += counts
        diagnostics = outcome.diagnostics
        if path in to_verify:
            from tsscan.rule import code_selected  # libcst: only when verifying

            text, fc, extra = to_verify[path]
            known, ignore = diagnostics, [*fc.spec.ignore, *extra]
            diagnostics = [d for d in known if code_selected(d.code, fc.spec.select, ignore)]
            ts901 = code_selected("TS901", fc.spec.select, ignore)
            verify_jobs.append(_verify_job(path, text, fc.settings, known, ts901))
        summary.diagnostics.extend(diagnostics)
        summary.errors.extend(f"{path}: {e}" for e in outcome.errors)
    for c in caches.values():
        if c is not None:
            c.save()
    if verify_jobs:
        from tsscan.verify.explain import add_compiler_findings

        add_compiler_findings(summary, verify_jobs)
    for fc in configs.used():
        summary.targets.setdefault(fc.spec.target_version, fc.version_source)


def _verify_job(*args) -> VerifyJob:
    from tsscan.verify.explain import VerifyJob

    return VerifyJob(*args)


def _every_rule(spec: EngineSpec) -> EngineSpec:
    """The same rules and target with nothing deselected (``check --verify`` needs every
    rule's findings to tell which compiler errors a rule covers)."""
    return EngineSpec(spec.rule_dirs, spec.target_version)


def _open_cache(root: Path, spec: EngineSpec) -> Cache | None:
    """The cache file of one configuration: its fingerprint names the rules, selection and
    torch version (``Cache.key`` adds the file's bytes and per-file ignores)."""
    from tsscan.cache import Cache, fingerprint

    try:
        fp = fingerprint([Path(d) for d in spec.rule_dirs], spec.select, spec.ignore, spec.target_version)
        return Cache(root, fp)
    except OSError:
        return None  # a rule file that cannot be read: the rule loader will say so


def _progress(total: int) -> Callable[[str], None] | None:
    """A progress display on a terminal, when ``tsscan.progress`` provides one."""
    try:
        from tsscan import progress
    except ImportError:
        return None
    make = getattr(progress, "for_run", None)
    return make(total) if callable(make) else None


# --------------------------------------------------------------------------- tsscan --fix / --diff
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
    walked = list(_walk(paths, configs, stdin, summary))
    # the findings left are those ``check`` gives: with what other files' compiled code compiles
    roots = package_index(_loaded_for_index(walked, stdin), True, configs).roots
    try:
        for path, config_path, fc, problem in walked:
            if fc is None:
                summary.errors.append(f"{path}: {problem}")
                continue
            summary.files += 1
            try:
                source, nb = _load(config_path, stdin)
                extra = fc.settings.ignores_for(path)
                summary.targets[fc.spec.target_version] = fc.version_source
                if nb is not None or file_noqa(source.text):  # checked, never rewritten
                    _check_unfixed(fc, path, source.text, extra, nb, summary, roots.get(path, {}))
                    continue
                run = runs.get(id(fc))
                if run is None:
                    run = runs[id(fc)] = FixRun(
                        fc.settings,
                        fc.spec.engine(),
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
            if roots.get(path) or not written:  # the fixer checked the file alone
                left = _recheck(fc, path, new_text if written else source.text, extra, roots.get(path, {}))
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
            source, nb = _load(config_path, stdin)
        except FileError:
            continue
        out.append((path, config_path, fc, source, nb))
    return out


# --------------------------------------------------------------------------- --add-noqa
def add_noqa_paths(paths: Sequence[str], configs: Configs, summary: RunSummary) -> tuple[int, int]:
    """Check ``paths`` and add a ``# noqa: CODE`` comment to each line with a finding:
    (directives added, findings left without one). Notebooks are not rewritten."""
    from tsscan.files import write_atomic
    from tsscan.noqa import add_noqa

    check_paths(paths, configs, summary, use_cache=False)
    by_path: dict[str, list[Diagnostic]] = {}
    skipped = 0
    for d in summary.diagnostics:
        if d.cell:
            skipped += 1
        else:
            by_path.setdefault(d.path, []).append(d)
    added = 0
    for path, diagnostics in by_path.items():
        try:
            source = read_source(path)
            new, n, left = add_noqa(source.text, diagnostics)
            if new != source.text and not write_atomic(source, new):
                summary.errors.append(f"{path}: changed on disk while adding noqa; not written")
                continue
        except FileError as exc:
            summary.errors.append(f"{path}: {exc}")
            continue
        added += n
        skipped += left
    return added, skipped
