"""The check of one file, as a pure function of its text and configuration: :func:`check_file`.

It needs libcst only for a file with code TorchScript compiles: any other file is answered with
the stdlib ``ast`` alone, and the engine (which imports libcst, a fifth of a second) is built the
first time a file needs it. A run answered from the cache never builds it.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tsscan.diagnostic import Diagnostic
from tsscan.noqa import file_noqa
from tsscan.runner.configs import EngineSpec

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.semantic.compiled import FileScope


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
    analysed: FileScope | None = None,
) -> Outcome:
    """Check one file's text; ``external`` names its functions and methods that compiled code
    in another file compiles (:mod:`tsscan.semantic.index`; a mapping: with the note of each);
    ``roots_only``: check only those (a file read because another file's compiled code reaches
    into it). ``analysed``: the package index's analysis of this same ``text``
    (:attr:`tsscan.semantic.built.Built.analysed`), whose tree and module facts are used instead
    of parsing again. Raises only :class:`RulesError`; a problem with the file, or a bug, is an
    error of its outcome."""
    from tsscan.semantic.compiled import analyse  # not imported by a run answered from the cache

    try:
        if analysed is not None:
            tree: ast.Module | None = analysed.module.tree
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc.
                    tree = ast.parse(text, filename=path)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                tree = None  # the engine says what is wrong, in its words
        scope = analyse(tree, external, roots_only, reuse=analysed) if tree is not None else None
    except (Exception, RecursionError) as exc:
        return internal_error(path, exc)
    if file_noqa(text):
        return Outcome(path)  # flake8 skips the whole file too
    if scope is not None and scope.empty and not getattr(scope, "init_functions", None):
        return Outcome(path)  # nothing compiled: no rule has anything to see
    if scope is not None and not spec.needs_libcst(scope, text, extra_ignore):
        return Outcome(path)  # no function any selected rule may report in: no libcst, no rule
    engine = spec.engine()
    from tsscan.engine import InputError

    try:
        result = engine.check(path, text, extra_ignore, scope=scope)
    except InputError as exc:
        return Outcome(path, errors=[str(exc)])
    except (Exception, RecursionError) as exc:  # a bug must not stop the other files
        return internal_error(path, exc)
    return Outcome(path, list(result.diagnostics), list(result.errors))


def internal_error(path: str, exc: BaseException) -> Outcome:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Outcome(path, errors=[f"internal error: {type(exc).__name__}: {msg}"], cacheable=False)
