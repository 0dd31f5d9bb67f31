"""The package: functions the compiler compiles because code in *another* file calls them.

``torch.jit.script`` follows every call it compiles, across files: a ``forward`` that calls
``utils.pad_to(x)`` compiles ``pad_to`` where it is defined. Seen one file at a time, ``pad_to`` is
an ordinary function and nothing checks it. This index joins small per-file summaries (stdlib
``ast`` only, picklable) across the package's imports, so that each such function is checked once,
in its own file, as compiled code.

Files belong to a package the way mypy and ruff find it: a file's dotted module name climbs its
directories while they hold an ``__init__.py``. Imports are resolved through the summaries,
relative ones included, and through one package's ``__init__`` re-exporting a name from a
submodule; names from outside the files indexed are not followed.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tsscan.semantic import wrappers
from tsscan.semantic.compiled import FileScope, analyse
from tsscan.semantic.module import dotted

# how many ``__init__`` re-exports a name is followed through
_REEXPORT_HOPS = 4


def module_name(path: str | Path) -> str:
    """The dotted name a file is imported by: its stem, under every enclosing directory that is
    a package (holds an ``__init__.py``)."""
    p = Path(path).resolve()
    parts = [] if p.stem == "__init__" else [p.stem]
    d = p.parent
    while (d / "__init__.py").is_file():
        parts.insert(0, d.name)
        d = d.parent
    return ".".join(parts)


@dataclass(frozen=True)
class Summary:
    """What the package needs to know of one file."""

    module: str
    is_package: bool
    functions: frozenset[str]  # module-level functions defined here
    aliases: tuple[tuple[str, str], ...]  # imported name -> absolute dotted origin
    calls: frozenset[str]  # absolute dotted targets of the calls its compiled code makes
    # decorators of compiled functions and of module classes, as written (``rope_utils.update``)
    decorators: frozenset[str] = frozenset()
    # functools.wraps decorators defined here: name -> (line, closure, methods replaced)
    wrappers: tuple[tuple[str, tuple[int, tuple[str, ...], tuple[str, ...]]], ...] = ()
    names: tuple[tuple[str, str], ...] | None = ()  # top-level names (tsscan.semantic.wrappers)
    exports: tuple[str, ...] = ()  # what ``from <this module> import *`` takes
    stars: tuple[str, ...] = ()  # absolute names of the modules it imports ``*`` from


def _absolute(origin: str, module: str, is_package: bool) -> str:
    """``..utils.f`` seen from ``pkg.sub.mod`` -> ``pkg.utils.f``."""
    level = len(origin) - len(origin.lstrip("."))
    if not level:
        return origin
    parts = module.split(".") if module else []
    package = parts if is_package else parts[:-1]
    keep = len(package) - (level - 1)
    if keep < 0:
        return origin.lstrip(".")
    rest = origin[level:]
    return ".".join([*package[:keep], *([rest] if rest else [])])


def summarize(path: str | Path, scope: FileScope) -> Summary:
    """The summary of one analysed file."""
    module = module_name(path)
    is_package = Path(path).name == "__init__.py"
    mod = scope.module
    aliases = {name: _absolute(origin, module, is_package) for name, origin in mod.aliases.items()}
    calls: set[str] = set()
    for cf in scope.compiled:
        if not cf.body_compiled:
            continue
        for node in ast.walk(cf.node):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name) and f.id in aliases and f.id not in mod.functions:
                calls.add(aliases[f.id])  # from .utils import pad_to; pad_to(x)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in aliases:
                calls.add(f"{aliases[f.value.id]}.{f.attr}")  # from . import utils; utils.pad_to(x)
    wrapping = wrappers.wrapping_functions(mod)
    stars: list[str] = []
    names = wrappers.top_level_names(mod.tree) if wrapping else {}
    exports = wrappers.exported(mod.tree, stars)
    return Summary(
        module=module,
        is_package=is_package,
        functions=frozenset(mod.functions),
        aliases=tuple(sorted(aliases.items())),
        calls=frozenset(calls),
        decorators=frozenset(_decorators(scope)),
        wrappers=tuple(sorted(wrapping.items())),
        names=tuple(sorted(names.items())) if names is not None else None,
        exports=exports,
        stars=tuple(_absolute(star, module, is_package) for star in stars),
    )


def _decorators(scope: FileScope) -> set[str]:
    """The dotted names (as written) of the decorators of compiled functions and module classes."""
    decs = [d for cf in scope.compiled if cf.body_compiled for d in cf.node.decorator_list]
    decs += [d for c in scope.module.classes.values() if c.is_module for d in c.node.decorator_list]
    return {name for d in decs if (name := dotted(d.func if isinstance(d, ast.Call) else d))}


class PackageIndex:
    """The summaries of the files being checked, joined across their imports."""

    def __init__(self, summaries: Mapping[str, Summary]) -> None:
        self.summaries = dict(summaries)  # path -> summary
        self._by_module = {s.module: path for path, s in self.summaries.items() if s.module}

    def locate(self, target: str) -> tuple[str, str] | None:
        """(path, function name) of the module-level function a dotted call target names,
        following ``__init__`` re-exports; None outside the indexed files."""
        for _ in range(_REEXPORT_HOPS):
            module, _, name = target.rpartition(".")
            path = self._by_module.get(module)
            if path is None:
                return None
            summary = self.summaries[path]
            if name in summary.functions:
                return path, name
            origin = dict(summary.aliases).get(name)
            if origin is None or origin == target:
                return None
            target = origin
        return None

    def wrapper_facts(self) -> dict[str, set[str]]:
        """For each file, the functools.wraps decorators of another file its compiled code or
        module classes use, as :func:`tsscan.semantic.wrappers.encode`-d facts."""
        out: dict[str, set[str]] = {}
        for path, summary in self.summaries.items():
            aliases = dict(summary.aliases)
            for local in summary.decorators:
                head, _, rest = local.partition(".")
                if head not in aliases:
                    continue
                found = self.locate(f"{aliases[head]}.{rest}" if rest else aliases[head])
                if found is None or found[0] == path:
                    continue
                there = self.summaries[found[0]]
                wrapping = dict(there.wrappers).get(found[1])
                if wrapping is None:
                    continue
                line, closure, methods = wrapping
                names = self._names(there)
                out.setdefault(path, set()).add(
                    wrappers.encode(local, there.module, found[0], line, names, closure, methods)
                )
        return out

    def _names(self, summary: Summary) -> dict[str, str] | None:
        """The top-level names of a wrapper's module, with those its ``import *`` take from
        modules of the package; None when they are not known."""
        if summary.names is None:
            return None
        names = dict(summary.names)
        todo, seen = list(summary.stars), set()
        while todo:
            star = todo.pop()
            path = self._by_module.get(star)
            if path is None:
                return None  # a module outside the files indexed
            if star in seen:
                continue
            seen.add(star)
            there = self.summaries[path]
            for name in there.exports:
                names.setdefault(name, wrappers.UNKNOWN)
            todo.extend(there.stars)
        return names

    def external_roots(self) -> dict[str, set[str]]:
        """For each file, the functions it defines that compiled code in another file calls."""
        roots: dict[str, set[str]] = {}
        for path, summary in self.summaries.items():
            for target in summary.calls:
                found = self.locate(target)
                if found is not None and found[0] != path:
                    roots.setdefault(found[0], set()).add(found[1])
        return roots


def package_roots(trees: Mapping[str, ast.Module], rounds: int = 8) -> dict[str, frozenset[str]]:
    """For each parsed file, the functions compiled because another file's compiled code calls
    them, followed to a fixed point (such a function may call into a third file). Each round
    analyses again only the files whose roots changed. A file's set also carries the facts of
    the functools.wraps decorators of other files it uses (:mod:`tsscan.semantic.wrappers`)."""
    roots: dict[str, frozenset[str]] = {}
    summaries = {path: summarize(path, analyse(tree)) for path, tree in trees.items()}
    for _ in range(rounds):
        found = PackageIndex(summaries).external_roots()
        new = {path: frozenset(names) for path, names in found.items()}
        if new == roots:
            break
        for path in set(new) | set(roots):
            if new.get(path) != roots.get(path):
                summaries[path] = summarize(path, analyse(trees[path], new.get(path, ())))
        roots = new
    facts = PackageIndex(summaries).wrapper_facts()
    return {path: roots.get(path, frozenset()) | facts.get(path, set()) for path in set(roots) | set(facts)}
