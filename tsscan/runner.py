"""Checking many files: the check of one file as a pure function, and the loop over the files.

The loop, for ``tsscan check``::

    iter_files -> read the bytes -> in the cache? -> check_file, here or in worker processes
               -> into the cache -> outcomes in the order iter_files gave the files

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tsscan.diagnostic import Diagnostic
from tsscan.semantic.compiled import analyse

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.config import Settings
    from tsscan.engine import Engine
    from tsscan.report import RunSummary

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


def check_file(spec: EngineSpec, path: str, text: str, extra_ignore: Sequence[str] = ()) -> Outcome:
    """Check one file's text. Raises only :class:`RulesError`; a problem with the file, or a
    bug, is an error of its outcome."""
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc.
                tree: ast.Module | None = ast.parse(text, filename=path)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            tree = None  # the engine says what is wrong, in its words
        scope = analyse(tree) if tree is not None else None
    except (Exception, RecursionError) as exc:
        return _internal_error(path, exc)
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


# --------------------------------------------------------------------------- many files
Job = tuple[str, str, tuple[str, ...]]  # path, text, per-file ignores


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def workers_for(jobs: Sequence[Job], requested: int | None = None) -> int:
    """How many processes to check ``jobs`` with: 1 (this one) for little work."""
    if requested is not None:
        return max(1, min(requested, len(jobs)))
    if len(jobs) < PARALLEL_MIN_FILES or sum(len(t) for _, t, _ in jobs) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(cpu_count(), len(jobs)))


def check_many(
    spec: EngineSpec,
    jobs: Sequence[Job],
    workers: int | None = None,
    tick: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """:func:`check_file` for each job; the outcomes in the order of ``jobs``."""
    n = workers_for(jobs, workers)
    out: list[Outcome | None] = [None] * len(jobs)
    if n > 1:
        _check_in_pool(spec, jobs, n, out, tick)
    for i, (path, text, extra) in enumerate(jobs):  # serially: all of them, or what a
        if out[i] is None:  # broken pool left
            out[i] = check_file(spec, path, text, extra)
            if tick:
                tick(path)
    return out  # type: ignore[return-value]


def _check_in_pool(spec, jobs, n, out, tick) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    spec.engine()  # here, once: forked workers inherit it; a broken rule file stops the run here
    # the biggest files first, so that no worker is left with a big one at the end
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][1]))
    pool = ProcessPoolExecutor(n, mp_context=_mp_context(), initializer=_init_worker, initargs=(spec,))
    try:
        futures = {pool.submit(_work, jobs[i]): i for i in order}
        for fut in as_completed(futures):
            out[futures[fut]] = fut.result()
            if tick:
                tick(jobs[futures[fut]][0])
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


_WORKER_SPEC: EngineSpec | None = None


def _init_worker(spec: EngineSpec) -> None:
    global _WORKER_SPEC
    _WORKER_SPEC = spec


def _work(job: Job) -> Outcome:
    assert _WORKER_SPEC is not None
    return check_file(_WORKER_SPEC, *job)


# --------------------------------------------------------------------------- tsscan check
def check_paths(
    paths: Sequence[str],
    settings: Settings,
    spec: EngineSpec,
    summary: RunSummary,
    workers: int | None = None,
    use_cache: bool = True,
) -> None:
    """Check every file under ``paths``; add files, diagnostics and errors to ``summary``."""
    from tsscan.files import FileError, iter_files, read_source

    cache = _open_cache(settings, spec) if use_cache else None
    # per path: its cache key, its outcome (None: to check), whether it counts as a file checked
    slots: list[tuple[str, str | None, Outcome | None, bool]] = []
    todo: list[Job] = []
    for path, problem in iter_files(paths, settings.exclude, settings.root):
        if problem:
            slots.append((path, None, Outcome(path, errors=[problem]), False))
            continue
        try:
            source = read_source(path)
        except FileError as exc:
            slots.append((path, None, Outcome(path, errors=[str(exc)]), True))
            continue
        extra = tuple(settings.ignores_for(path))
        key = None
        if cache is not None:
            key = cache.key(source.raw, extra)
            hit = cache.get(path, key)
            if hit is not None:
                slots.append((path, key, Outcome(path, *hit), True))
                continue
        slots.append((path, key, None, True))
        todo.append((path, source.text, extra))

    progress = _progress(len(todo))
    try:
        done = iter(check_many(spec, todo, workers, progress))
    finally:
        if progress is not None and hasattr(progress, "close"):
            progress.close()  # erase the line, also when interrupted
    for path, key, outcome, counts in slots:
        if outcome is None:
            outcome = next(done)
            if cache is not None and key is not None and outcome.cacheable:
                cache.put(path, key, outcome.diagnostics, outcome.errors)
        summary.files += counts
        summary.diagnostics.extend(outcome.diagnostics)
        summary.errors.extend(f"{path}: {e}" for e in outcome.errors)
    if cache is not None:
        cache.save()


def _open_cache(settings: Settings, spec: EngineSpec):
    from tsscan.cache import Cache, fingerprint

    try:
        fp = fingerprint([Path(d) for d in spec.rule_dirs], spec.select, spec.ignore, spec.target_version)
        return Cache(settings.root, fp)
    except OSError:
        return None  # a rule file that cannot be read: the rule loader will say so


def _progress(total: int) -> Callable[[str], None] | None:
    """A progress display on a terminal, when ``tsscan.progress`` provides one."""
    try:
        from tsscan import progress  # type: ignore[attr-defined]
    except ImportError:
        return None
    make = getattr(progress, "for_run", None)
    return make(total) if callable(make) else None
