"""Compiler confirmation: the only layer that runs torch (in a worker process).

* :mod:`.errors`: compiler messages as data (file line, covering rule findings);
* :mod:`.process`: the worker process (start, JSON lines, time and memory limits);
* :mod:`.torch_worker`: the worker itself (imports torch and the user's code);
* :mod:`.verifier`: one version of one file through the compiler, levels 1 to 3;
* :mod:`.explain`: ``--verify`` and ``tsscan explain-error``.
"""

from __future__ import annotations

from tsscan.verify.errors import CompilerError, covering, parse_error
from tsscan.verify.process import Worker, WorkerUnavailable
from tsscan.verify.verifier import FACTORY_HINT, ClassOutcome, Outcome, Verifier

__all__ = [
    "FACTORY_HINT",
    "ClassOutcome",
    "CompilerError",
    "Outcome",
    "Verifier",
    "Worker",
    "WorkerUnavailable",
    "covering",
    "parse_error",
]
