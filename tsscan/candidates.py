"""Which functions of a file the rules need to see, and which rules each (no libcst here).

The runner asks :func:`needs_libcst` before building the engine: a file whose compiled
functions are candidates for no selected rule (:mod:`tsscan.prefilter`) is answered without
importing libcst or any rule. The engine asks :func:`plan` for the functions to parse with libcst
and the rules to run over each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tsscan.prefilter import Features, features, may_fire
from tsscan.registry import RuleInfo
from tsscan.selection import code_selected, version_matches
from tsscan.semantic.compiled import CompiledFunction, FileScope, called_names
from tsscan.semantic.memo import Memo

_FEATURES: Memo[Features] = Memo("what a function contains, for the pre-filters")
# a function compiled for its signature only (@torch.jit.unused) reaches the rules with the body
# ``...``: an ``Expr`` of a ``Constant``, whatever its real body holds
_HEADER_ONLY = frozenset({"Expr", "Constant"})


def selected(
    infos: Iterable[RuleInfo], target_version: str, select: Sequence[str], ignore: Sequence[str]
) -> list[RuleInfo]:
    """The rules that apply to the torch version and that the selection turns on."""
    return [i for i in infos if version_matches(target_version, i.fails_in) and code_selected(i.code, select, ignore)]


def function_features(cf: CompiledFunction) -> Features:
    found = _FEATURES.on(cf.node, features)
    if not cf.body_compiled:
        found = Features(found.nodes | _HEADER_ONLY, found.calls, found.attrs, found.names)
    return found


def wanted_init_functions(scope: FileScope, infos: Sequence[RuleInfo]) -> list[CompiledFunction]:
    """The ``__init__`` methods and module builders that the ``sees_init`` rules among
    ``infos`` need: those calling one of the rules' ``init_calls`` (all of them if a rule names
    none)."""
    wanted = [r for r in infos if r.sees_init]
    if not wanted or not scope.init_functions:
        return []
    names: set[str] = set()
    for r in wanted:
        if not r.init_calls:
            return list(scope.init_functions)
        names |= set(r.init_calls)
    return [cf for cf in scope.init_functions if not called_names(cf.node).isdisjoint(names)]


INIT_WHYS = ("__init__", "builder")


def candidates(cf: CompiledFunction, infos: Sequence[RuleInfo]) -> list[RuleInfo]:
    """The rules among ``infos`` that may report in ``cf`` (only ``sees_init`` rules for an
    ``__init__`` or a builder)."""
    if cf.why in INIT_WHYS:
        infos = [i for i in infos if i.sees_init]
    if not infos:
        return []
    found = function_features(cf)
    return [i for i in infos if may_fire(i.needs, found)]


def plan(
    scope: FileScope, infos: Sequence[RuleInfo], functions: Sequence[CompiledFunction] | None = None
) -> list[tuple[CompiledFunction, list[RuleInfo]]]:
    """The functions (compiled ones first, then the ``__init__``/builders the rules want, or
    ``functions``) that some rule may report in, each with those rules."""
    if functions is None:
        functions = [*scope.compiled, *wanted_init_functions(scope, infos)]
    out = []
    for cf in functions:
        found = candidates(cf, infos)
        if found:
            out.append((cf, found))
    return out


def needs_libcst(scope: FileScope, infos: Sequence[RuleInfo]) -> bool:
    """Whether some function of the file is a candidate for one of the rules ``infos``."""
    functions = [*scope.compiled, *wanted_init_functions(scope, infos)]
    return any(candidates(cf, infos) for cf in functions)
