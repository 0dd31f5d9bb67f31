"""Checking many files: THE loop over the files, with check, fix and verify as steps per file.

The loop, for ``tsscan check`` (:mod:`tsscan.runner.check`)::

    iter_files -> the file's configuration -> read the bytes -> in the cache? -> check_file,
               here or in worker processes -> into the cache -> outcomes in iter_files's order

and for ``tsscan --fix`` / ``--diff`` (:mod:`tsscan.runner.fixing`)::

    iter_files -> the file's configuration -> read -> fix, confirm (tsscan.fix.fixer) -> write

The steps, one module each:

* :mod:`~tsscan.runner.configs`: each file's configuration (:class:`Configs`): the nearest
  ``[tool.tsscan]`` with the command line's :class:`Options` over it, and the
  :class:`EngineSpec` its rules are built from; the walk over the paths;
* :mod:`~tsscan.runner.one_file`: :func:`check_file`, the check of one file as a pure function;
* :mod:`~tsscan.runner.workers`: :func:`check_many`, many files here or in worker processes;
* :mod:`~tsscan.runner.check` and :mod:`~tsscan.runner.fixing`: the two loops.

The front ends import what they use from here.
"""

from __future__ import annotations

from tsscan.runner.check import add_noqa_paths, check_paths
from tsscan.runner.configs import Configs, EngineSpec, FileConfig, Options, RulesError, Stdin
from tsscan.runner.fixing import Changed, FixOptions, fix_paths
from tsscan.runner.one_file import Outcome, check_file
from tsscan.runner.workers import PARALLEL_MIN_BYTES, PARALLEL_MIN_FILES, Job, check_many, cpu_count, workers_for

__all__ = [
    "PARALLEL_MIN_BYTES",
    "PARALLEL_MIN_FILES",
    "Changed",
    "Configs",
    "EngineSpec",
    "FileConfig",
    "FixOptions",
    "Job",
    "Options",
    "Outcome",
    "RulesError",
    "Stdin",
    "add_noqa_paths",
    "check_file",
    "check_many",
    "check_paths",
    "cpu_count",
    "fix_paths",
    "workers_for",
]
