"""``tsscan check``: THE loop over the files to check (and ``--add-noqa``, which checks first).

::

    walk the paths -> the file's configuration -> read the bytes -> in the cache? -> check_file,
                   here or in worker processes -> into the cache -> outcomes in the walk's order

With ``--verify`` the compiler's verdict on each file is a step after its check, reusing the
check's findings (:mod:`tsscan.verify.explain`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tsscan.diagnostic import Diagnostic
from tsscan.files import FileError, Source, read_source
from tsscan.package import index_key, package_index, reached_files
from tsscan.runner.configs import Configs, EngineSpec, FileConfig, Stdin, load_file, walk_files
from tsscan.runner.one_file import Outcome
from tsscan.runner.workers import Job, check_many

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.cache import Cache
    from tsscan.notebook import NotebookText
    from tsscan.report import RunSummary
    from tsscan.verify.explain import VerifyJob


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
    for path, config_path, fc, problem in walk_files(paths, configs, stdin, summary):
        if fc is None:
            slots.append((path, None, None, Outcome(path, errors=[problem]), False, None))
            continue
        try:
            source, nb = load_file(config_path, stdin)
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
        done = iter(check_many(todo, workers, progress, built.analysed))
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
