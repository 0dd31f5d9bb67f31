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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo, module_facts, self_name
from tsscan.semantic.static import in_ranges, regions
from tsscan.semantic.wrappers import FACT_PREFIX, Wrapper, decode


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

    @property
    def qualname(self) -> str:
        return f"{self.cls.name}.{self.node.name}" if self.cls else self.node.name

    @property
    def start_line(self) -> int:
        return min([d.lineno for d in self.node.decorator_list] + [self.node.lineno])

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


def _calls_in(fn: FuncNode) -> Iterator[ast.Call]:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            yield node


def analyse(tree: ast.Module, external: Iterable[str] = ()) -> FileScope:
    """The module facts of ``tree`` and what the compiler compiles in it; ``external`` names
    module-level functions that compiled code in another file of the package calls
    (:mod:`tsscan.semantic.index`)."""
    facts = {e for e in external if e.startswith(FACT_PREFIX)}
    mod = module_facts(tree)
    compiled = _compiled_functions(mod, frozenset(external) - facts)
    _record(mod, compiled)
    return FileScope(mod, compiled, _init_functions(mod, compiled), decode(facts))


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
        for call in _calls_in(fn):
            name = mod.resolve_node(call.func) or ""
            head, _, last = name.rpartition(".")
            local = mod.classes.get(name)
            if (head.startswith("torch.nn") and last[:1].isupper()) or (local is not None and local.is_module):
                out.append(CompiledFunction(fn, None, "builder"))
                break
    out.sort(key=lambda c: c.node.lineno)
    return out


def _compiled_functions(mod: ModuleInfo, external: frozenset[str] = frozenset()) -> list[CompiledFunction]:
    out: list[CompiledFunction] = []
    done: set[int] = set()
    queue: list[CompiledFunction] = []

    def add(cf: CompiledFunction) -> None:
        if id(cf.node) in done:
            return
        done.add(id(cf.node))
        out.append(cf)
        if cf.body_compiled:
            queue.append(cf)

    def add_method(cls: ClassInfo, name: str, why: str) -> None:
        found = cls.find_method(name)
        if not found:
            return
        fn, owner = found
        decs = _decorator_names(fn, mod)
        if "torch.jit.ignore" in decs:
            if _is_drop_ignore(decs["torch.jit.ignore"]):
                add(CompiledFunction(fn, owner, why, body_compiled=False))
            return
        if "torch.jit.unused" in decs:
            add(CompiledFunction(fn, owner, why, body_compiled=False))
            return
        if name == "__init__" and not cls.is_script_class:
            return
        add(CompiledFunction(fn, owner, why))

    # roots
    for cls in mod.classes.values():
        if cls.is_script_class:
            for name in cls.methods:
                add_method(cls, name, "script class")
            continue
        if not cls.is_module:
            continue
        if cls.find_method("__prepare_scriptable__"):
            continue  # torch.jit.script compiles what this hook returns instead (torchvision v2 transforms)
        if "forward" in cls.methods:
            add_method(cls, "forward", "forward")
        for name, fn in cls.methods.items():
            decs = _decorator_names(fn, mod)
            if "torch.jit.export" in decs or "torch.jit.script_method" in decs:
                add_method(cls, name, "export")
            elif ("property" in decs or "functools.cached_property" in decs) and (name not in cls.unused_properties):
                add_method(cls, name, "property")
    for name, fn in mod.functions.items():
        decs = _decorator_names(fn, mod)
        if "torch.jit.script" in decs or name in mod.scripted_names:
            add(CompiledFunction(fn, None, "script"))

    for name in sorted(external):
        called = mod.functions.get(name)
        if called is not None and "torch.jit.ignore" not in (decs := _decorator_names(called, mod)):
            add(
                CompiledFunction(called, None, "called from another file", body_compiled="torch.jit.unused" not in decs)
            )

    # reachability: calls in code a static condition makes dead are not followed

    while queue:
        cf = queue.pop(0)
        cf.dead, cf.maybe_dead = regions(cf.node, mod, cf.cls)
        me = self_name(cf.node) if cf.cls is not None else None
        for call in _calls_in(cf.node):
            if cf.dead and in_ranges(call.lineno, cf.dead):
                continue
            f = call.func
            if cf.cls is not None and isinstance(f, ast.Attribute):
                recv = f.value
                if isinstance(recv, ast.Name) and recv.id in (me, cf.cls.name):
                    add_method(cf.cls, f.attr, f"called from {cf.qualname}")
                elif isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super":
                    for base in cf.cls.local_bases:
                        add_method(base, f.attr, f"called from {cf.qualname}")
            elif isinstance(f, ast.Name) and f.id in mod.functions:
                fn = mod.functions[f.id]
                decs = _decorator_names(fn, mod)
                if "torch.jit.ignore" in decs:
                    continue
                add(
                    CompiledFunction(
                        fn,
                        None,
                        f"called from {cf.qualname}",
                        body_compiled="torch.jit.unused" not in decs,
                    )
                )
    out.sort(key=lambda c: c.node.lineno)
    return out
