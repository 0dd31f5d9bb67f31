"""What ``torch.jit.script`` compiles in one file, found with the stdlib ``ast`` (cheap).

The compiler compiles, for every ``nn.Module`` subclass: ``forward``, every method reachable
from compiled code through ``self.method(...)``, every ``@torch.jit.export`` method and every
``@property`` (unless listed in ``__jit_unused_properties__``); for ``@torch.jit.unused``
methods only the signature; never ``__init__`` or ``@torch.jit.ignore`` methods. Functions
decorated ``@torch.jit.script`` (or passed to ``torch.jit.script(...)`` at module level) and
every free function of the file called from compiled code are compiled too, recursively.
Classes decorated ``@torch.jit.script`` are TorchScript classes: all their methods compile.

The result also records facts the compiler derives from code it does *not* compile (import
aliases, what ``__init__`` assigns, class-level attributes), because rules need them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from tsscan.semantic import astwalk, foreign
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo, module_facts, self_name
from tsscan.semantic.static import in_ranges, regions
from tsscan.semantic.wrappers import FACT_PREFIX, Wrapper, decode

# CompiledFunction.why of a function compiled because compiled code in another file calls it
FROM_ANOTHER_FILE = "called from another file"


@dataclass
class CompiledFunction:
    node: FuncNode
    cls: ClassInfo | None
    why: str  # "forward", "export", "property", "called from X.forward", "script", ...
    body_compiled: bool = True  # False for @torch.jit.unused (signature only)
    # line ranges of the body the compiler drops (static conditions, see tsscan/semantic/static.py):
    # ``dead`` surely, ``maybe_dead`` depending on how the module was built
    dead: list[tuple[int, int]] = field(default_factory=list)
    maybe_dead: list[tuple[int, int]] = field(default_factory=list)
    # for code compiled because of another file (tsscan.semantic.index): which file and line
    # compiled it, said in each finding ("compiled from `M.forward` at model.py:12")
    note: str = ""
    # the other compiled functions of the file that call it (``why`` names the first one)
    callers: list[str] = field(default_factory=list)

    @property
    def qualname(self) -> str:
        return f"{self.cls.name}.{self.node.name}" if self.cls else self.node.name

    @property
    def start_line(self) -> int:
        return first_line(self.node)

    @property
    def end_line(self) -> int:
        return self.node.end_lineno or self.node.lineno


@dataclass
class FileScope:
    module: ModuleInfo
    compiled: list[CompiledFunction]
    # code the compiler never compiles but whose effects it sees when scripting: the
    # ``__init__`` of every nn.Module subclass (why="__init__") and module-level functions,
    # not compiled themselves, that build torch.nn modules (why="builder"). Only rules with
    # ``sees_init = True`` are run over these.
    init_functions: list[CompiledFunction] = field(default_factory=list)
    # functools.wraps decorators of other files of the package, as the package index found them
    # (by their dotted name as written here; see tsscan.semantic.wrappers)
    foreign_wrappers: dict[str, Wrapper] = field(default_factory=dict)
    # signatures of functions and module classes of other files this file calls, by the name
    # it calls them by (see tsscan.semantic.foreign)
    foreign_signatures: dict[str, foreign.Foreign] = field(default_factory=dict)
    # what the reachability was computed from: the names other files compile in this file (name
    # -> note) and ``roots_only`` (see :func:`analyse`, which reuses it when they are the same)
    notes: dict[str, str] = field(default_factory=dict)
    roots_only: bool = False

    @property
    def empty(self) -> bool:
        return not self.compiled


def _decorator_names(fn: FuncNode, mod: ModuleInfo) -> dict[str, ast.expr]:
    out = {}
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        name = mod.resolve_node(target)
        if name:
            out[name] = d
    return out


def _is_drop_ignore(dec: ast.expr) -> bool:
    return isinstance(dec, ast.Call) and any(
        k.arg == "drop" and isinstance(k.value, ast.Constant) and k.value.value is True for k in dec.keywords
    )


def _is_property(fn: FuncNode, mod: ModuleInfo) -> bool:
    decs = _decorator_names(fn, mod)
    return "property" in decs or "functools.cached_property" in decs


def first_line(node: ast.stmt) -> int:
    """The first line of a statement, its decorators included."""
    return min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])


def properties_reading(cls: ClassInfo, mod: ModuleInfo, attrs: Iterable[str]) -> list[str]:
    """The properties the class body itself defines, in source order, that read an attribute
    named in ``attrs`` (``self.__dict__``, ...) anywhere in their getter."""
    wanted = set(attrs)
    return [
        name
        for name, fn in cls.methods.items()
        if _is_property(fn, mod) and any(isinstance(n, ast.Attribute) and n.attr in wanted for n in astwalk.walk(fn))
    ]


def calls_in(fn: FuncNode, mod: ModuleInfo | None = None) -> list[ast.Call]:
    """The calls of a function's body: its decorators and default values are run by Python when
    the ``def`` runs, never compiled. Found once per function node and kept on it: they depend on
    the function alone, and the language server keeps the nodes an edit left alone. (``mod``, the
    file's facts, is accepted for the callers that have it.)"""
    return _CALLS.on(fn, _calls_of_body)


_CALLS: Memo[list[ast.Call]] = Memo("calls of a function's body")
_CALLED_NAMES: Memo[frozenset[str]] = Memo("names a function's calls call")


def _calls_of_body(fn: FuncNode) -> list[ast.Call]:
    return [node for stmt in fn.body for node in astwalk.walk(stmt) if isinstance(node, ast.Call)]


def called_names(fn: FuncNode) -> frozenset[str]:
    """The last part of the name of everything ``fn`` calls (``f(...)`` -> ``f``, ``a.b(...)`` ->
    ``b``), its decorators and default values included; kept on the node, like :func:`calls_in`."""
    return _CALLED_NAMES.on(fn, _find_called_names)


def _find_called_names(fn: FuncNode) -> frozenset[str]:
    return frozenset(
        f.attr if isinstance(f, ast.Attribute) else f.id
        for node in astwalk.walk(fn)
        if isinstance(node, ast.Call) and isinstance(f := node.func, (ast.Attribute, ast.Name))
    )


def analyse(
    tree: ast.Module,
    external: Iterable[str] | Mapping[str, str] = (),
    roots_only: bool = False,
    reuse: FileScope | None = None,
) -> FileScope:
    """The module facts of ``tree`` and what the compiler compiles in it; ``external`` names
    module-level functions (``f``) and methods (``Cls.m``) that compiled code in another file of
    the package compiles (:mod:`tsscan.semantic.index`); as a mapping, each with the note its
    findings carry. ``roots_only``: only those, and what they call (a file checked only because
    another file's compiled code reaches into it). Entries that start with
    :data:`tsscan.semantic.wrappers.FACT_PREFIX` are facts of decorators of other files, those
    that start with :data:`tsscan.semantic.foreign.SIG_PREFIX` signatures of other files.

    ``reuse``: an earlier analysis of the same ``tree`` (the package index's, handed to the
    check of the file): its module facts are used again, and its compiled functions too when it
    was made from the same names and ``roots_only``."""
    if reuse is not None and reuse.module.tree is not tree:
        raise ValueError("analyse: reuse is an analysis of another tree")
    mod = reuse.module if reuse is not None else module_facts(tree)
    notes = dict(external) if isinstance(external, Mapping) else dict.fromkeys(external, "")
    facts = {e for e in notes if e.startswith(FACT_PREFIX)}
    sigs = {e for e in notes if e.startswith(foreign.SIG_PREFIX)}
    for fact in facts | sigs:
        del notes[fact]
    if reuse is not None and reuse.notes == notes and reuse.roots_only == roots_only:
        compiled, init = reuse.compiled, reuse.init_functions
    else:
        compiled = _compiled_functions(mod, notes, roots_only)
        init = None
    _record(mod, compiled)
    if init is None:
        init = _init_functions(mod, compiled)
    return FileScope(mod, compiled, init, decode(facts), foreign.decode(sigs), notes, roots_only)


def record_compiled_methods(mod: ModuleInfo) -> None:
    """Set ``mod.compiled_methods`` for module facts made without :func:`analyse`."""
    _record(mod, _compiled_functions(mod))


def _record(mod: ModuleInfo, compiled: list[CompiledFunction]) -> None:
    table: dict[str, set[str]] = {}
    for cf in compiled:
        if cf.cls is not None:
            for c in mod.classes.values():
                if cf.cls in list(c.mro()):
                    table.setdefault(c.name, set()).add(cf.node.name)
    mod.compiled_methods = table


def _init_functions(mod: ModuleInfo, compiled: list[CompiledFunction]) -> list[CompiledFunction]:
    """``__init__`` of module classes and uncompiled module-level builders of torch.nn modules."""
    out: list[CompiledFunction] = []
    for cls in mod.classes.values():
        init = cls.methods.get("__init__")
        if cls.is_module and init is not None:
            out.append(CompiledFunction(init, cls, "__init__"))
    done = {id(cf.node) for cf in compiled}
    for fn in mod.functions.values():
        if id(fn) in done:
            continue
        for call in calls_in(fn, mod):
            name = mod.resolve_node(call.func) or ""
            head, _, last = name.rpartition(".")
            local = mod.classes.get(name)
            if (head.startswith("torch.nn") and last[:1].isupper()) or (local is not None and local.is_module):
                out.append(CompiledFunction(fn, None, "builder"))
                break
    out.sort(key=lambda c: c.node.lineno)
    return out


def self_function_attribute(cls: ClassInfo, name: str, mod: ModuleInfo) -> str | None:
    """The name of the module-level function (local, or imported: its alias) that ``__init__``
    stores on ``self.<name>`` (``self.fn = some_function``): ``self.fn(x)`` in compiled code
    compiles it (the compiler scripts a function attribute when the module is scripted)."""
    if cls.find_method(name) is not None:
        return None
    attr = cls.attribute(name)
    if attr is None or attr.annotation or not isinstance(attr.value, ast.Name):
        return None
    for c in cls.mro():
        if name in c.init_assigned_later:
            return None  # assigned twice: which one is unknown
    target = attr.value.id
    return target if target in mod.functions or target in mod.aliases else None


def class_roots(cls: ClassInfo, mod: ModuleInfo) -> Iterator[tuple[str, str]]:
    """(method name, why) of what the compiler compiles first in a module class: ``forward``,
    ``@torch.jit.export`` methods and properties (with their setters), its bases' included."""
    unused = {n for c in cls.mro() for n in c.unused_properties}
    seen: set[str] = set()
    if cls.find_method("forward"):
        seen.add("forward")
        yield "forward", "forward"
    for c in cls.mro():
        for name, fn in c.methods.items():
            found = cls.find_method(name)
            if name in seen or found is None or found[0] is not fn:
                continue  # overridden by a class before it
            seen.add(name)
            decs = _decorator_names(fn, mod)
            if "torch.jit.export" in decs or "torch.jit.script_method" in decs:
                yield name, "export"
            elif ("property" in decs or "functools.cached_property" in decs) and name not in unused:
                yield name, "property"


def _compiled_functions(
    mod: ModuleInfo, external: Mapping[str, str] | frozenset[str] = frozenset(), roots_only: bool = False
) -> list[CompiledFunction]:
    out: list[CompiledFunction] = []
    done: dict[int, CompiledFunction] = {}
    queue: list[CompiledFunction] = []

    def add(cf: CompiledFunction) -> None:
        first = done.get(id(cf.node))
        if first is not None:
            caller = cf.why.removeprefix("called from ")
            if caller != cf.why and first.why != cf.why and caller not in first.callers:
                first.callers.append(caller)
            return
        done[id(cf.node)] = cf
        out.append(cf)
        if cf.body_compiled:
            queue.append(cf)

    def add_method(cls: ClassInfo, name: str, why: str, note: str = "") -> None:
        found = cls.find_method(name)
        if not found:
            return
        fn, owner = found
        decs = _decorator_names(fn, mod)
        if "torch.jit.ignore" in decs:
            if _is_drop_ignore(decs["torch.jit.ignore"]):
                add(CompiledFunction(fn, owner, why, body_compiled=False, note=note))
            return
        if "torch.jit.unused" in decs:
            add(CompiledFunction(fn, owner, why, body_compiled=False, note=note))
            return
        if name == "__init__" and not cls.is_script_class:
            return
        add(CompiledFunction(fn, owner, why, note=note))
        setter = owner.setters.get(name)
        if why == "property" and setter is not None:
            add(CompiledFunction(setter, owner, why, note=note))

    def add_function(fn: FuncNode, why: str, note: str = "") -> None:
        decs = _decorator_names(fn, mod)
        if "torch.jit.ignore" not in decs:
            add(CompiledFunction(fn, None, why, body_compiled="torch.jit.unused" not in decs, note=note))

    # roots
    for cls in () if roots_only else mod.classes.values():
        if cls.is_script_class:
            for name in cls.methods:
                add_method(cls, name, "script class")
            continue
        if not cls.is_module:
            continue
        if cls.find_method("__prepare_scriptable__"):
            continue  # torch.jit.script compiles what this hook returns instead (torchvision v2 transforms)
        for name, why in class_roots(cls, mod):
            add_method(cls, name, why)
    for name, fn in () if roots_only else mod.functions.items():
        decs = _decorator_names(fn, mod)
        if "torch.jit.script" in decs or name in mod.scripted_names:
            add(CompiledFunction(fn, None, "script"))

    notes = external if isinstance(external, Mapping) else dict.fromkeys(external, "")
    for name in sorted(notes):
        owner_name, _, method = name.rpartition(".")
        owner = mod.classes.get(owner_name)
        if owner is not None and method in owner.methods:
            add_method(
                owner,
                method,
                "property" if _is_property(owner.methods[method], mod) else FROM_ANOTHER_FILE,
                notes[name],
            )
        elif not owner_name and name in mod.functions:
            add_function(mod.functions[name], FROM_ANOTHER_FILE, notes[name])

    # reachability: calls in code a static condition makes dead are not followed; ``self.m()`` in
    # a base class's method compiles, for each module subclass of this file, its own ``m``
    subclasses: dict[int, list[ClassInfo]] = {}
    for cls in mod.classes.values():
        if cls.is_module:
            for base in list(cls.mro())[1:]:
                subclasses.setdefault(id(base), []).append(cls)

    while queue:
        cf = queue.pop(0)
        cf.dead, cf.maybe_dead = regions(cf.node, mod, cf.cls)
        me = self_name(cf.node) if cf.cls is not None else None
        for call in calls_in(cf.node, mod):
            if cf.dead and in_ranges(call.lineno, cf.dead):
                continue
            f = call.func
            why = f"called from {cf.qualname}"
            note = f"{cf.note} through `{cf.qualname}`" if cf.note else ""
            if cf.cls is not None and isinstance(f, ast.Attribute):
                recv = f.value
                if isinstance(recv, ast.Name) and recv.id in (me, cf.cls.name):
                    add_method(cf.cls, f.attr, why, note)
                    if recv.id == me:  # dispatched on the instance: a module subclass's override
                        for sub in subclasses.get(id(cf.cls), ()):
                            add_method(sub, f.attr, why, note)
                    stored = self_function_attribute(cf.cls, f.attr, mod) if recv.id == me else None
                    if stored is not None and stored in mod.functions:
                        add_function(mod.functions[stored], why, note)
                elif isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super":
                    for base in cf.cls.local_bases:
                        add_method(base, f.attr, why, note)
            elif isinstance(f, ast.Name) and f.id in mod.functions:
                add_function(mod.functions[f.id], why, note)
    out.sort(key=lambda c: c.node.lineno)
    return out
