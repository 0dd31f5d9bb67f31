"""The package: code the compiler compiles because code in *another* file reaches it.

``torch.jit.script`` follows every call it compiles, across files: a ``forward`` that calls
``utils.pad_to(x)`` compiles ``pad_to`` where it is defined; a module class whose base class lives
in another file compiles that base's ``forward``, properties and the methods its compiled code
calls on ``self``. Seen one file at a time, such code is an ordinary function and nothing checks
it. This index joins small per-file summaries (stdlib ``ast`` only, plain data, cached by
content) across the package's imports, so that each such function is checked once, in its own
file, as compiled code, and each of its findings says which file and line compiled it.

Files belong to a package the way mypy and ruff find it: a file's dotted module name climbs its
directories while they hold an ``__init__.py``; the directory above the top one is the package's
search root. Imports are resolved through the summaries, relative ones included, and through a
package's ``__init__`` re-exporting a name from a submodule. A module of the same package that is
not among the files given is read from disk when compiled code reaches into it
(:func:`build`); names from outside the package are not followed.
"""

from __future__ import annotations

import ast
import os
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path

from tsscan.semantic import foreign, wrappers
from tsscan.semantic.built import Built
from tsscan.semantic.compiled import FileScope, analyse
from tsscan.semantic.module import ModuleInfo, module_facts
from tsscan.semantic.summaries import (
    ClassSummary,
    Summary,
    shown,
    signatures_of,
    summarize,
)

# how many ``__init__`` re-exports a name is followed through
_REEXPORT_HOPS = 4
# at most this many files of a package are read besides the files given
MAX_EXTRA_FILES = 2000


class PackageIndex:
    """The summaries of the files indexed, joined across their imports."""

    def __init__(self, summaries: Mapping[str, Summary]) -> None:
        self.summaries = dict(summaries)  # path -> summary
        self._by_module = {s.module: path for path, s in self.summaries.items() if s.module}
        self._classes = {
            (path, c.name): c for path, s in self.summaries.items() for c in s.classes
        }  # (path, name) -> summary

    def _follow(self, target: str, found: Callable[[Summary, str], bool]) -> tuple[str | None, str | None]:
        """((path, name) as ``path:name``, None) where ``target`` is defined, following
        ``__init__`` re-exports; (None, module) when a module on the way is not indexed."""
        for _ in range(_REEXPORT_HOPS):
            module, _, name = target.rpartition(".")
            path = self._by_module.get(module)
            if path is None:
                return None, module or None
            summary = self.summaries[path]
            if found(summary, name):
                return f"{path}\0{name}", None
            origin = dict(summary.aliases).get(name)
            if origin is None and summary.stars:
                star = self._star_source(summary, name)  # ``from .pool import *`` in the __init__
                if star is not None and star not in self._by_module:
                    return None, star
                origin = f"{star}.{name}" if star is not None else None
            if origin is None or origin == target:
                # ``from pkg import sub`` names a submodule that the package's __init__ does not import
                submodule = f"{module}.{name}"
                return None, (submodule if submodule not in self._by_module else None)
            target = origin
        return None, None

    def _star_source(self, summary: Summary, name: str) -> str | None:
        """The module one of ``summary``'s ``import *`` takes ``name`` from (one not indexed yet:
        it may be there)."""
        for star in summary.stars:
            path = self._by_module.get(star)
            if path is None:
                return star
            there = self.summaries[path]
            if there.exports and name not in there.exports:
                continue
            has = name in there.functions or any(c.name == name for c in there.classes)
            if has or name in dict(there.aliases) or there.stars:
                return star
        return None

    def locate(self, target: str) -> tuple[str, str] | None:
        """(path, function name) of the module-level function a dotted call target names,
        following ``__init__`` re-exports; None outside the indexed files."""
        hit, _ = self._follow(target, lambda s, n: n in s.functions)
        return tuple(hit.split("\0")) if hit else None  # type: ignore[return-value]

    def locate_class(self, target: str) -> tuple[str, ClassSummary] | None:
        """(path, summary) of the class a dotted name names; None outside the indexed files."""
        hit, _ = self._follow(target, lambda s, n: any(c.name == n for c in s.classes))
        if hit is None:
            return None
        path, name = hit.split("\0")
        return path, self._classes[(path, name)]

    def missing(self) -> set[str]:
        """Modules not indexed that a call target, a base class or a decorator of the indexed
        files names."""
        out: set[str] = set()
        for s in self.summaries.values():
            decorators = [t for _, t in _decorator_targets(s)]
            built = [t for _, t in _instantiated_targets(s)]  # submodules' classes: their forward is called
            for target in [*s.calls, *(b for c in s.classes for b in c.bases), *decorators, *built]:
                _, module = self._follow(target, lambda s, n: n in s.functions or any(c.name == n for c in s.classes))
                if module:
                    out.add(module)
        return out

    def wrapper_facts(self) -> dict[str, set[str]]:
        """For each file, the functools.wraps decorators of another file its compiled code or
        module classes use, as :func:`tsscan.semantic.wrappers.encode`-d facts."""
        out: dict[str, set[str]] = {}
        for path, summary in self.summaries.items():
            for local, target in _decorator_targets(summary):
                found = self.locate(target)
                if found is None or found[0] == path:
                    continue
                there = self.summaries[found[0]]
                wrapping = dict(there.wrappers).get(found[1])
                if wrapping is None:
                    continue
                line, closure, methods = wrapping
                fact = wrappers.encode(local, there.module, shown(found[0]), line, self._names(there), closure, methods)
                out.setdefault(path, set()).add(fact)
        return out

    def signature_facts(self) -> dict[str, set[str]]:
        """For each file, the signatures of the functions of other files its compiled code calls
        and of the ``forward`` of the classes of other files its module classes hold, as
        :func:`tsscan.semantic.foreign.encode`-d facts."""
        out: dict[str, set[str]] = {}
        for path, summary in self.summaries.items():
            aliases = dict(summary.aliases)
            wanted = {(local, target) for target in summary.calls for local in _written(target, aliases)}
            wanted.update(_instantiated_targets(summary))
            facts = {self._signature_fact(path, local, target) for local, target in sorted(wanted)}
            for cls in summary.classes:
                facts.update(self._inherited_facts(path, cls))
            facts.discard(None)
            if facts:
                out[path] = facts  # type: ignore[assignment]
        return out

    def _inherited_facts(self, path: str, cls: ClassSummary) -> set[str | None]:
        """Facts ``self:<Cls>.<m>`` for the methods ``cls`` calls on ``self`` that a base class of
        another file defines (when every base is known, so the method found is the one called)."""
        called = {name for _, names in cls.self_calls for name in names} - cls.methods
        if not called or not cls.bases:
            return set()
        mro, _, unknown = self.mro(path, cls)
        if unknown or len(mro) == 1:
            return set()
        out: set[str | None] = set()
        for name in sorted(called):
            owner = next(((p, c) for p, c in mro if name in c.methods), None)
            if owner is None or owner[0] == path:
                continue
            packed = dict(self.summaries[owner[0]].signatures or ()).get(f"{owner[1].name}.{name}")
            if packed is not None:
                out.add(foreign.encode(f"self:{cls.name}.{name}", shown(owner[0]), packed))
        return out

    def _signature_fact(self, path: str, local: str, target: str) -> str | None:
        """The signature fact of ``target`` (a function, or a module class's ``forward``) of another
        file, called ``local`` in ``path``."""
        found = self.locate(target)
        if found is not None:
            there, name = found
        else:
            cls = self.locate_class(target)
            if cls is None:
                return None
            mro, torch_module, unknown = self.mro(*cls)
            owner = next(((p, c) for p, c in mro if "forward" in c.methods), None)
            if owner is None or (owner[1] is not cls[1] and unknown) or not (torch_module or cls[1].guessed_module):
                return None  # a forward the index does not see (a torch base's, an unknown base's)
            there, name = owner[0], f"{owner[1].name}.forward"
        packed = dict(self.summaries[there].signatures or ()).get(name) if there != path else None
        return foreign.encode(local, shown(there), packed) if packed is not None else None

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

    def mro(self, path: str, cls: ClassSummary) -> tuple[list[tuple[str, ClassSummary]], bool, bool]:
        """The classes of ``cls``'s MRO that the index knows (breadth first), whether one of
        them has a torch ``nn.Module`` base, and whether a base is not known (outside the package)."""
        out: list[tuple[str, ClassSummary]] = []
        seen: set[tuple[str, str]] = set()
        stack = [(path, cls)]
        torch_module = unknown = False
        while stack:
            p, c = stack.pop(0)
            if (p, c.name) in seen:
                continue
            seen.add((p, c.name))
            out.append((p, c))
            torch_module = torch_module or c.torch_module
            for b in c.bases:
                found = self.locate_class(b)
                if found is not None:
                    stack.append(found)
                elif not b.startswith("torch.") and b not in ("object", "typing.Generic", "abc.ABC"):
                    unknown = True
        return out, torch_module, unknown

    def external_roots(self) -> dict[str, set[str]]:
        """For each file, the functions it defines that compiled code in another file calls."""
        return {path: set(names) for path, names in self.roots().items()}

    def roots(self) -> dict[str, dict[str, str]]:
        """For each file, what compiled code in another file compiles in it: module-level
        functions (``f``) and methods (``Cls.m``), each with the note its findings carry (which
        file and line compiled it)."""
        roots: dict[str, dict[str, str]] = {}
        for path, summary in self.summaries.items():
            for target, caller, line in summary.call_sites or [(t, "", 0) for t in sorted(summary.calls)]:
                found = self.locate(target)
                if found is not None and found[0] != path:
                    note = f"compiled from `{caller}` at {shown(path)}:{line}" if caller else ""
                    roots.setdefault(found[0], {}).setdefault(found[1], note)
            for cls in summary.classes:
                self._class_roots(path, cls, roots)
        return roots

    def _class_roots(self, path: str, cls: ClassSummary, roots: dict[str, dict[str, str]]) -> None:
        """The methods compiled for module class ``cls`` that its own file's analysis cannot
        see: those of bases in other files, or all of them when only another file shows that
        ``cls`` is a module."""
        mro, torch_module, unknown = self.mro(path, cls)
        if len(mro) == 1:
            return  # nothing from another file: compiled.py sees it all
        if not torch_module and not (unknown and cls.guessed_module):
            return
        if all(p == path for p, _ in mro) and cls.guessed_module:
            return  # compiled.py sees it all
        if any("__prepare_scriptable__" in c.methods for _, c in mro):
            return  # torch.jit.script compiles what this hook returns instead

        def find(name: str) -> tuple[str, ClassSummary] | None:
            return next(((p, c) for p, c in mro if name in c.methods), None)

        queue: list[str] = []
        for _, c in mro:
            queue.extend(name for name, _ in c.roots)
        done: set[str] = set()
        note = f"compiled with the module `{cls.name}` at {shown(path)}:{cls.line}"
        while queue:
            name = queue.pop(0)
            if name in done:
                continue
            done.add(name)
            owner = find(name)
            if owner is None:
                continue
            p, c = owner
            if p != path or not cls.guessed_module:
                roots.setdefault(p, {}).setdefault(f"{c.name}.{name}", note if p != path else "")
            queue.extend(dict(c.self_calls).get(name, ()))


SummaryStore = tuple[Callable[[str], "Summary | None"], Callable[[str, Summary], None]]


def _parse(path: str, text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None  # its own check reports it


def build(
    files: Mapping[str, str],
    store: SummaryStore | None = None,
    key: Callable[[str, str, Mapping[str, str], bool], str] | None = None,
    follow: bool = True,
    rounds: int = 8,
) -> Built:
    """Join the summaries of ``files`` (path -> text) and, with ``follow``, of the modules of
    their packages that compiled code reaches (read from disk), to a fixed point: a function
    compiled from another file may call into a third. ``store`` (get, put) keeps summaries by
    ``key(path, text, roots, roots_only)``."""
    texts = dict(files)
    known = {os.path.abspath(p) for p in texts}
    trees: dict[str, ast.Module | None] = {}
    scopes: dict[str, FileScope] = {}  # path -> its last analysis (its module facts made once)
    summaries: dict[str, Summary] = {}
    search_roots: dict[str, Path] = {}  # top-level package -> the directory above it

    keys: dict[str, str] = {}  # path -> the store's key of its summary

    def summary_of(path: str, roots: Mapping[str, str]) -> Summary | None:
        roots_only = path not in files
        k = key(path, texts[path], roots, roots_only) if key is not None and store is not None else None
        if k is not None:
            keys[path] = k
        if k is not None and store is not None and (hit := store[0](k)) is not None:
            return hit
        if path not in trees:
            trees[path] = _parse(path, texts[path])
        tree = trees[path]
        if tree is None:
            return None
        scopes[path] = scope = analyse(tree, roots, roots_only=roots_only, reuse=scopes.get(path))
        s = summarize(path, scope, texts[path])
        if k is not None and store is not None:
            store[1](k, s)
        return s

    def add(path: str) -> None:
        s = summary_of(path, {})
        if s is None:
            return
        summaries[path] = s
        if s.module:
            base = Path(path).parent
            for _ in range(s.module.count(".") + (1 if s.is_package else 0)):
                base = base.parent
            search_roots.setdefault(s.module.split(".")[0], base)

    def load(module: str) -> bool:
        base = search_roots.get(module.split(".")[0])
        if base is None or len(texts) - len(files) >= MAX_EXTRA_FILES:
            return False
        found = _module_file(module, base)
        if found is None or os.path.abspath(found) in known:
            return False
        try:
            texts[str(found)] = found.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        known.add(os.path.abspath(found))
        add(str(found))
        return True

    for path in texts:
        add(path)
    roots: dict[str, dict[str, str]] = {}
    for _ in range(rounds):
        loaded = follow and any([load(m) for m in sorted(PackageIndex(summaries).missing())])
        new = PackageIndex(summaries).roots()
        if new == roots and not loaded:
            break
        for path in set(new) | set(roots):
            if new.get(path) != roots.get(path) and path in summaries:
                s = summary_of(path, new.get(path, {}))
                if s is not None:
                    summaries[path] = s
        roots = new
    callers = [p for p, s in summaries.items() if _calls_out(s)]
    if callers:
        for path, s in list(summaries.items()):  # the signatures of the files it may call
            # (only other files read a file's signatures: a file alone in the index, or the only
            # one calling out, needs none of its own, and no libcst to read them)
            if s.signatures is None and any(c != path for c in callers):
                if path in scopes:
                    mod: ModuleInfo | None = scopes[path].module
                else:
                    tree = trees[path] if path in trees else _parse(path, texts[path])
                    mod = module_facts(tree) if tree else None
                summaries[path] = s = replace(s, signatures=signatures_of(mod) if mod else ())
                if store is not None and path in keys:
                    store[1](keys[path], s)
    read = {p: t for p, t in texts.items() if p not in files}
    roots = _with_wrapper_facts(roots, summaries, files)
    analysed = {p: (texts[p], scope) for p, scope in scopes.items()}
    return Built(roots, {p: t for p, t in read.items() if p in roots}, read, analysed)


def _calls_out(summary: Summary) -> bool:
    """Compiled code of the file may call a function or a ``forward`` of another file: calls
    from compiled code to imported names, submodules built from imported classes, classes (their
    bases' methods may be defined elsewhere)."""
    return bool(summary.call_sites or summary.instantiated or any(c.bases for c in summary.classes))


def _decorator_targets(summary: Summary) -> list[tuple[str, str]]:
    """(as written, absolute dotted name) of each imported decorator a summary lists."""
    aliases = dict(summary.aliases)
    out = []
    for local in sorted(summary.decorators):
        head, _, rest = local.partition(".")
        if head in aliases:
            out.append((local, f"{aliases[head]}.{rest}" if rest else aliases[head]))
    return out


def _instantiated_targets(summary: Summary) -> list[tuple[str, str]]:
    """(as written, absolute dotted name) of the imported names module classes' ``__init__``
    builds attributes from."""
    aliases = dict(summary.aliases)
    out = []
    for local in sorted(summary.instantiated):
        head, _, rest = local.partition(".")
        out.append((local, f"{aliases[head]}.{rest}" if rest else aliases[head]))
    return out


def _written(target: str, aliases: Mapping[str, str]) -> list[str]:
    """How a file writes a call of the absolute dotted ``target`` through its imports
    (``pad_to``, ``utils.pad_to``)."""
    out = []
    for local, origin in aliases.items():
        if target == origin:
            out.append(local)
        elif target.startswith(origin + ".") and "." not in target[len(origin) + 1 :]:
            out.append(f"{local}{target[len(origin) :]}")
    return out


def _with_wrapper_facts(
    roots: dict[str, dict[str, str]], summaries: Mapping[str, Summary], files: Collection[str]
) -> dict[str, dict[str, str]]:
    """``roots`` with, for each file checked, the facts of the decorators of other files it uses
    and the signatures of the callees of other files it calls."""
    out = {path: dict(names) for path, names in roots.items()}
    index = PackageIndex(summaries)
    for found in (index.wrapper_facts(), index.signature_facts()):
        for path, facts in found.items():
            if path in files or path in out:
                out.setdefault(path, {}).update(dict.fromkeys(facts, ""))
    return out


def _module_file(module: str, base: Path) -> Path | None:
    """The file of a dotted module name under its package's search root."""
    d = base.joinpath(*module.split("."))
    for candidate in (d / "__init__.py", d.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def package_roots(trees: Mapping[str, ast.Module], rounds: int = 8) -> dict[str, frozenset[str]]:
    """For each parsed file, the functions and methods compiled because another file's compiled
    code reaches them, followed to a fixed point (only among ``trees``)."""
    roots: dict[str, dict[str, str]] = {}
    summaries = {path: summarize(path, analyse(tree)) for path, tree in trees.items()}
    for _ in range(rounds):
        new = PackageIndex(summaries).roots()
        if new == roots:
            break
        for path in set(new) | set(roots):
            if new.get(path) != roots.get(path):
                summaries[path] = summarize(path, analyse(trees[path], new.get(path, {})))
        roots = new
    roots = _with_wrapper_facts(roots, summaries, trees)
    return {path: frozenset(names) for path, names in roots.items()}
