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
from tsscan.semantic.module import ModuleInfo

_FEATURES: Memo[Features] = Memo("what a function contains, for the pre-filters")
# a function compiled for its signature only (@torch.jit.unused) reaches the rules with the body
# ``...``: an ``Expr`` of a ``Constant``, whatever its real body holds
_HEADER_ONLY = frozenset({"Expr", "Constant"})


def selected(
    infos: Iterable[RuleInfo], target_version: str, select: Sequence[str], ignore: Sequence[str]
) -> list[RuleInfo]:
    """The rules that apply to the torch version and that the selection turns on."""
    return [i for i in infos if version_matches(target_version, i.fails_in) and code_selected(i.code, select, ignore)]


def function_features(cf: CompiledFunction, mod: ModuleInfo, lines: Sequence[str] | None = None) -> Features:
    """What ``cf`` (a function of the module ``mod``) contains; ``lines``: the file's (without
    them, ``TypeComment`` is assumed)."""
    if lines is None:
        return _with_module(cf, mod, features(cf.node))
    text = "".join(lines[cf.start_line - 1 : cf.end_line])
    found = _FEATURES.on(cf.node, lambda node: features(node, text))
    return _with_module(cf, mod, found)


def _with_module(cf: CompiledFunction, mod: ModuleInfo, found: Features) -> Features:
    """``found`` with what depends on the module and the class: ``Decorator`` for a method of a
    decorated class, ``ModuleValue``, the imports, and the body ``...`` of a signature-only
    function."""
    nodes = set(found.nodes)
    if cf.cls is not None and cf.cls.node.decorator_list:
        nodes.add("Decorator")
    if not cf.body_compiled:
        nodes |= _HEADER_ONLY
    imports = set()
    for ident in found.idents:
        origin = mod.aliases.get(ident)
        if ident == "__debug__":
            nodes.add("ModuleValue")
        if origin is not None:
            imports.add(origin.partition(".")[0])
            if origin.rpartition(".")[0] in _VALUE_MODULES:
                nodes.add("ModuleValue")
        elif ident in mod.globals and ident not in mod.functions and ident not in mod.classes:
            nodes.add("ModuleValue")
    # a name imported under another name is called by it: ``from torch import Tensor as T``,
    # ``T(...)`` calls ``Tensor``
    calls = set(found.calls)
    for called in found.calls:
        origin = mod.aliases.get(called)
        if origin is not None:
            calls.add(origin.rpartition(".")[2])
    return Features(frozenset(nodes), frozenset(calls), found.attrs, found.names, found.idents, frozenset(imports))


# modules a constant imported by name from is a Python value to TorchScript (TS511)
_VALUE_MODULES = ("math", "torch")


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


def candidates(
    cf: CompiledFunction, mod: ModuleInfo, infos: Sequence[RuleInfo], lines: Sequence[str] | None
) -> list[RuleInfo]:
    """The rules among ``infos`` that may report in ``cf``, a function of ``mod`` (only
    ``sees_init`` rules for an ``__init__`` or a builder)."""
    if cf.why in INIT_WHYS:
        infos = [i for i in infos if i.sees_init]
    if not infos:
        return []
    found = function_features(cf, mod, lines)
    return [i for i in infos if may_fire(i.needs, found)]


def plan(
    functions: Sequence[CompiledFunction], mod: ModuleInfo, infos: Sequence[RuleInfo], lines: Sequence[str]
) -> list[tuple[CompiledFunction, list[RuleInfo]]]:
    """Those of ``functions`` (of the module ``mod``) that some rule of ``infos`` may report
    in, each with those rules; ``lines``: the file's."""
    out = []
    for cf in functions:
        found = candidates(cf, mod, infos, lines)
        if found:
            out.append((cf, found))
    return out


def needs_libcst(scope: FileScope, infos: Sequence[RuleInfo], lines: Sequence[str]) -> bool:
    """Whether some function of the file is a candidate for one of the rules ``infos``;
    ``lines``: the file's."""
    functions = [*scope.compiled, *wanted_init_functions(scope, infos)]
    return any(candidates(cf, scope.module, infos, lines) for cf in functions)
