"""Checking many files, here or in worker processes: :func:`check_many`.

Worker processes are used when there is enough to check (:data:`PARALLEL_MIN_FILES` files and
:data:`PARALLEL_MIN_BYTES` bytes), one per core; each builds its own engine from the picklable
:class:`~tsscan.runner.configs.EngineSpec`. The outcomes come back in the order of the jobs:
the output does not depend on the number of workers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING

from tsscan.runner.configs import EngineSpec
from tsscan.runner.one_file import Outcome, check_file

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.semantic.compiled import FileScope

PARALLEL_MIN_FILES = 8
PARALLEL_MIN_BYTES = 256 * 1024

# engine, path, text, per-file ignores, what other files compile in it (name -> note), roots only
Job = tuple[EngineSpec, str, str, tuple[str, ...], Mapping[str, str], bool]
# path -> (text, the package index's analysis of that text): see :func:`check_many`
Analysed = MutableMapping[str, "tuple[str, FileScope]"]

# what forked workers inherit of the parent's analyses (set only while a pool runs)
_inherited: Analysed = {}


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
    analysed: Analysed | None = None,
) -> list[Outcome]:
    """:func:`check_file` for each job; the outcomes in the order of ``jobs``. ``analysed``:
    the package index's analyses of the files (:attr:`tsscan.semantic.built.Built.analysed`),
    each used by the check of the same text instead of parsing it again (by forked workers too,
    which inherit them), and taken out of the mapping once used."""
    n = workers_for(jobs, workers)
    out: list[Outcome | None] = [None] * len(jobs)
    analysed = analysed if analysed is not None else {}
    if n > 1:
        _check_in_pool(jobs, n, out, tick, analysed)
    for i, job in enumerate(jobs):  # serially: all of them, or what a broken pool left
        if out[i] is None:
            out[i] = check_file(*job, analysed=_take(analysed, job))
            if tick:
                tick(job[1])
    return out  # type: ignore[return-value]


def _take(analysed: Analysed, job: Job) -> FileScope | None:
    """The index's analysis of the job's file, if it was made from the same text."""
    found = analysed.pop(job[1], None)
    return found[1] if found is not None and found[0] == job[2] else None


def _check_in_pool(jobs, n, out, tick, analysed: Analysed) -> None:
    global _inherited
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    for spec in {j[0] for j in jobs}:
        # here, once, every rule loaded: forked workers inherit them; a broken rule file stops
        # the run here
        spec.engine().load_all()
    # the biggest files first, so that no worker is left with a big one at the end
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][2]))
    context = _mp_context()
    if context.get_start_method() == "fork":
        _inherited = analysed  # the workers get it with the rest of this process's memory
    pool = ProcessPoolExecutor(n, mp_context=context)
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
        _inherited = {}


def _mp_context():
    import multiprocessing
    import threading

    # fork starts a worker in milliseconds with tsscan already imported; it is only safe in a
    # process without other threads, and only the default on Linux
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def batch_gc() -> None:
    """A batch check builds many long-lived trees and summaries and frees little: the cyclic
    collector's default thresholds (a collection every 700 allocations) make it rescan them
    over and over. Collecting far less often, as mypy does, cut a cold check of timm by about
    7 % of CPU (two alternating pairs, docs/performance.md); a long-lived process (the language
    server, flake8) keeps the defaults."""
    import gc

    gc.set_threshold(100_000, 50, 100)


def _work(job: Job) -> Outcome:
    batch_gc()  # a spawned worker does not inherit the parent's setting
    return check_file(*job, analysed=_take(_inherited, job))
