"""What the package index keeps of one file: its summary (stdlib ``ast`` facts, plain data,
cached by content; see :mod:`tsscan.semantic.index`, which joins the summaries of a package)."""

from __future__ import annotations

import ast
import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tsscan.semantic import astwalk, foreign, wrappers
from tsscan.semantic.compiled import FileScope, calls_in, class_roots, self_function_attribute
from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo, dotted, is_torch_module_name, self_name
from tsscan.semantic.static import in_ranges


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
class ClassSummary:
    """What another file needs to know of one class: its bases and which of its methods the
    compiler compiles when a subclass is scripted."""

    name: str
    line: int
    bases: tuple[str, ...]  # absolute dotted names (a class of the same file: ``<module>.<Name>``)
    torch_module: bool  # a base is a torch ``nn.Module`` class
    guessed_module: bool  # module.py's guess: ``forward`` and a base from elsewhere
    methods: frozenset[str]
    roots: tuple[tuple[str, str], ...]  # (method, why) compiled first: forward, exports, properties
    self_calls: tuple[tuple[str, frozenset[str]], ...]  # method -> names it calls on self/super()


@dataclass(frozen=True)
class Summary:
    """What the package needs to know of one file."""

    module: str
    is_package: bool
    functions: frozenset[str]  # module-level functions defined here
    aliases: tuple[tuple[str, str], ...]  # imported name -> absolute dotted origin
    calls: frozenset[str]  # absolute dotted targets of the calls its compiled code makes
    # (target, caller's qualified name, line) of each of those calls
    call_sites: tuple[tuple[str, str, int], ...] = ()
    classes: tuple[ClassSummary, ...] = ()
    # decorators of compiled functions and of module classes, as written (``rope_utils.update``)
    decorators: frozenset[str] = frozenset()
    # functools.wraps decorators defined here: name -> (line, closure, methods replaced)
    wrappers: tuple[tuple[str, tuple[int, tuple[str, ...], tuple[str, ...]]], ...] = ()
    names: tuple[tuple[str, str], ...] | None = ()  # top-level names (tsscan.semantic.wrappers)
    exports: tuple[str, ...] = ()  # what ``from <this module> import *`` takes
    stars: tuple[str, ...] = ()  # absolute names of the modules it imports ``*`` from
    # TorchScript signatures of its module-level functions (``f``) and methods (``Cls.m``);
    # None: not read yet (they need libcst's annotation reader: read only when compiled code
    # of the run may call into the file, see :func:`build`)
    signatures: tuple[tuple[str, foreign.Packed], ...] | None = ()
    # imported names (as written) of the classes its module classes' ``__init__`` instantiate
    # into an attribute (``self.mlp = Mlp(...)``): the calling file needs their ``forward``
    instantiated: frozenset[str] = frozenset()

    def to_json(self) -> list:
        return [
            self.module,
            self.is_package,
            sorted(self.functions),
            [list(a) for a in self.aliases],
            sorted(self.calls),
            [list(c) for c in self.call_sites],
            [
                [
                    c.name,
                    c.line,
                    list(c.bases),
                    c.torch_module,
                    c.guessed_module,
                    sorted(c.methods),
                    [list(r) for r in c.roots],
                    [[m, sorted(n)] for m, n in c.self_calls],
                ]
                for c in self.classes
            ],
            sorted(self.decorators),
            [[n, [w[0], list(w[1]), list(w[2])]] for n, w in self.wrappers],
            None if self.names is None else [list(n) for n in self.names],
            list(self.exports),
            list(self.stars),
            None if self.signatures is None else [[n, foreign.to_json(p)] for n, p in self.signatures],
            sorted(self.instantiated),
        ]

    @classmethod
    def from_json(cls, data: list) -> Summary:
        """The summary :meth:`to_json` gave; raises ValueError/TypeError/IndexError for anything else."""
        (
            module,
            is_package,
            functions,
            aliases,
            calls,
            sites,
            classes,
            decorators,
            wrapping,
            names,
            exports,
            stars,
            signatures,
            instantiated,
        ) = data
        return cls(
            module=str(module),
            is_package=bool(is_package),
            functions=frozenset(map(str, functions)),
            aliases=tuple((str(a), str(b)) for a, b in aliases),
            calls=frozenset(map(str, calls)),
            call_sites=tuple((str(t), str(q), int(n)) for t, q, n in sites),
            classes=tuple(
                ClassSummary(
                    str(c[0]),
                    int(c[1]),
                    tuple(map(str, c[2])),
                    bool(c[3]),
                    bool(c[4]),
                    frozenset(map(str, c[5])),
                    tuple((str(m), str(w)) for m, w in c[6]),
                    tuple((str(m), frozenset(map(str, n))) for m, n in c[7]),
                )
                for c in classes
            ),
            decorators=frozenset(map(str, decorators)),
            wrappers=tuple((str(n), (int(w[0]), tuple(map(str, w[1])), tuple(map(str, w[2])))) for n, w in wrapping),
            names=None if names is None else tuple((str(a), str(b)) for a, b in names),
            exports=tuple(map(str, exports)),
            stars=tuple(map(str, stars)),
            signatures=None if signatures is None else tuple((str(n), foreign.unpack_json(p)) for n, p in signatures),
            instantiated=frozenset(map(str, instantiated)),
        )


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


def _self_calls(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: Sequence[str] | None = None) -> frozenset[str]:
    """Names called on ``self`` or ``super()`` in a method. With the file's ``lines``, read from
    the method's text (a word-level match: a hundred times cheaper than walking its tree; a
    match in a comment or a string only adds a method to check)."""
    me = self_name(fn)
    if lines is not None and me is not None:
        text = "\n".join(lines[fn.lineno - 1 : fn.end_lineno or fn.lineno])
        return frozenset(m.group(1) for m in _self_call_pattern(me).finditer(text))
    out = set()
    for node in astwalk.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            recv = node.func.value
            if (isinstance(recv, ast.Name) and recv.id == me) or (
                isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super"
            ):
                out.add(node.func.attr)
    return frozenset(out)


@functools.cache
def _self_call_pattern(me: str) -> re.Pattern[str]:
    return re.compile(rf"(?:\b{re.escape(me)}|\bsuper\(\s*\))\s*\.\s*(\w+)\s*\(")


def _class_summary(
    info: ClassInfo, scope: FileScope, module: str, is_package: bool, lines: Sequence[str] | None
) -> ClassSummary:
    mod = scope.module
    bases = tuple(f"{module}.{b}" if b in mod.classes else _absolute(b, module, is_package) for b in info.bases)
    own = ClassInfo(info.name, info.node, info.bases, methods=info.methods, unused_properties=info.unused_properties)
    return ClassSummary(
        name=info.name,
        line=info.node.lineno,
        bases=bases,
        torch_module=any(is_torch_module_name(b) for b in info.bases),
        guessed_module=info.is_module,
        methods=frozenset(info.methods),
        roots=tuple(class_roots(own, mod)),
        self_calls=tuple((name, _self_calls(fn, lines)) for name, fn in sorted(info.methods.items())),
    )


def summarize(path: str | Path, scope: FileScope, text: str | None = None) -> Summary:
    """The summary of one analysed file (``text``: its source, when the caller has it)."""
    module = module_name(path)
    is_package = Path(path).name == "__init__.py"
    mod = scope.module
    lines = text.splitlines() if text is not None else None
    aliases = {name: _absolute(origin, module, is_package) for name, origin in mod.aliases.items()}
    sites: set[tuple[str, str, int]] = set()
    for cf in scope.compiled:
        if not cf.body_compiled:
            continue
        me = self_name(cf.node) if cf.cls is not None else None
        for node in calls_in(cf.node, mod):
            if cf.dead and in_ranges(node.lineno, cf.dead):
                continue  # a call in code the compiler drops compiles nothing
            f = node.func
            target = None
            if isinstance(f, ast.Name) and f.id in aliases and f.id not in mod.functions:
                target = aliases[f.id]  # from .utils import pad_to; pad_to(x)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in aliases:
                target = f"{aliases[f.value.id]}.{f.attr}"  # from . import utils; utils.pad_to(x)
            elif cf.cls is not None and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                stored = self_function_attribute(cf.cls, f.attr, mod) if f.value.id == me else None
                if stored is not None and stored in aliases and stored not in mod.functions:
                    target = aliases[stored]  # self.fn = imported_function; self.fn(x)
            if target is not None:
                sites.add((target, cf.qualname, node.lineno))
    return Summary(
        module=module,
        is_package=is_package,
        functions=frozenset(mod.functions),
        aliases=tuple(sorted(aliases.items())),
        calls=frozenset(t for t, _, _ in sites),
        call_sites=tuple(sorted(sites)),
        classes=tuple(_class_summary(c, scope, module, is_package, lines) for c in mod.classes.values()),
        **_wrapper_fields(scope, module, is_package),
        signatures=None,
        instantiated=_instantiated(mod),
    )


def signatures_of(mod: ModuleInfo) -> tuple[tuple[str, foreign.Packed], ...]:
    """The TorchScript signatures of a file's module-level functions and of its classes' methods
    (those the compiler would reject themselves are left out: nothing is checked against them).
    A ``torch.jit._overload`` family has the signatures of its declarations."""
    from tsscan.semantic.callees import overloaded, signature_of  # libcst reads the annotations

    out: list[tuple[str, foreign.Packed]] = []
    memo: dict[str, str | None] = {}  # annotation text -> type (files repeat a few annotations)
    todo = [(name, fn, False, mod.tree.body) for name, fn in mod.functions.items()]
    todo += [(f"{c.name}.{n}", fn, True, c.node.body) for c in mod.classes.values() for n, fn in c.methods.items()]
    for name, fn, method, body in todo:
        if name.endswith("__init__"):
            continue
        defs = [fn]
        if overloaded(body, fn.name):
            defs = _overload_declarations(body, fn.name, mod)
        found = [signature_of(d, mod, method, memo=memo) for d in defs]
        if defs and all(f is not None for f in found):
            out.append((name, foreign.pack(found, defs[0].lineno)))  # type: ignore[arg-type]
    return tuple(sorted(out))


def _overload_declarations(body: list[ast.stmt], name: str, mod: ModuleInfo) -> list[FuncNode]:
    """The ``@torch.jit._overload`` declarations of ``name`` when the last definition is the
    implementation they declare; else none (which definition is called is not known)."""
    defs = [s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name]

    def declared(fn: FuncNode) -> bool:
        return any(mod.resolve_node(d) == "torch.jit._overload" for d in fn.decorator_list)

    if len(defs) < 2 or declared(defs[-1]) or not all(declared(d) for d in defs[:-1]):
        return []
    return defs[:-1]


def _instantiated(mod: ModuleInfo) -> frozenset[str]:
    """Imported names, as written, called in ``self.x = Name(...)`` in module classes' ``__init__``."""
    out = set()
    for c in mod.classes.values():
        for attr in c.init_attrs.values() if c.is_module else ():
            name = dotted(attr.value.func) if isinstance(attr.value, ast.Call) else None
            if name and name.split(".")[0] in mod.aliases:
                out.add(name)
    return frozenset(out)


def _wrapper_fields(scope: FileScope, module: str, is_package: bool) -> dict:
    """The summary's facts about decorators (:mod:`tsscan.semantic.wrappers`)."""
    mod = scope.module
    wrapping = wrappers.wrapping_functions(mod)
    stars: list[str] = []
    names = wrappers.top_level_names(mod.tree) if wrapping else {}
    exports = wrappers.exported(mod.tree, stars)
    decs = [d for cf in scope.compiled if cf.body_compiled for d in cf.node.decorator_list]
    decs += [d for c in mod.classes.values() if c.is_module for d in c.node.decorator_list]
    return {
        "decorators": frozenset(n for d in decs if (n := dotted(d.func if isinstance(d, ast.Call) else d))),
        "wrappers": tuple(sorted(wrapping.items())),
        "names": tuple(sorted(names.items())) if names is not None else None,
        "exports": exports,
        "stars": tuple(_absolute(star, module, is_package) for star in stars),
    }


def shown(path: str) -> str:
    """A path as findings name it: relative to the working directory when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if rel.startswith("..") else rel
