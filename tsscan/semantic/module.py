"""Per-file facts from the stdlib ``ast`` (cheap): imports and aliases, classes with their bases,
methods and the attributes ``__init__`` and the class body assign, module-level functions and
values. These are the facts the compiler derives from code it does *not* compile, and what a
package-wide index joins across files; reachability (what is compiled) is
:mod:`tsscan.semantic.compiled`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeGuard

from tsscan.semantic import astwalk

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


# bases from torch.nn that are nn.Module subclasses (any torch.nn.<Capitalized> name counts)
_MODULE_PREFIXES = ("torch.nn.", "torch.jit.ScriptModule")


_NOT_MODULES = {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for Name/Attribute chains, None otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


@dataclass
class Attr:
    """An attribute of a class as the compiler will type it."""

    name: str
    line: int
    value: ast.expr | None = None  # the value assigned (None: annotation only)
    annotation: str | None = None  # source text of the annotation, if any
    where: str = "init"  # "init" (self.x = ... in __init__), "class" (class body), "buffer", "parameter"


@dataclass
class Writes:
    """Where the methods of a class write ``self.<name>``: assignments and in-place mutation
    (made by :mod:`tsscan.semantic.attribute_writes`)."""

    assigned: dict[str, list[tuple[str, ast.AST]]]  # name -> [(method, node)]
    mutated: dict[str, list[tuple[str, ast.AST]]]  # self.x.append(...), self.x[k] = v, self.x += ...


@dataclass
class MethodWrites:
    """What one method does with ``self``, from one walk of it
    (:func:`tsscan.semantic.attribute_writes.method_writes`)."""

    writes: Writes
    self_calls: list[str]  # ``self.<name>(...)``, in the order of the walk
    hides_attributes: bool  # ``setattr`` with a computed name, ``__setattr__``, writes to ``__dict__``


@dataclass
class ClassInfo:
    name: str
    node: ast.ClassDef
    bases: list[str]  # resolved dotted names
    is_module: bool = False
    is_script_class: bool = False
    is_interface: bool = False  # @torch.jit.interface: a type for annotations, never a module to compile
    local_bases: list[ClassInfo] = field(default_factory=list)
    methods: dict[str, FuncNode] = field(default_factory=dict)
    init_attrs: dict[str, Attr] = field(default_factory=dict)  # own __init__ only
    init_assigned_later: dict[str, list[ast.expr | None]] = field(default_factory=dict)
    class_attrs: dict[str, Attr] = field(default_factory=dict)
    constants: set[str] = field(default_factory=set)  # __constants__ and Final[...]
    unused_properties: set[str] = field(default_factory=set)
    # ``@name.setter`` methods: the compiler compiles them with the property ``name`` (the
    # getter stays in ``methods``)
    setters: dict[str, FuncNode] = field(default_factory=dict)
    # results of tsscan.semantic.attribute_writes, made once per class (not facts of the source:
    # left out of comparisons)
    method_writes: dict[str, MethodWrites] = field(default_factory=dict, repr=False, compare=False)
    writes: Writes | None = field(default=None, repr=False, compare=False)
    fully_known: bool | None = field(default=None, repr=False, compare=False)
    init_called: set[str] | None = field(default=None, repr=False, compare=False)
    # results of tsscan.semantic.config_reach.reached and config_uses' candidate attributes, by
    # the id of the ModuleInfo asked with (the class's own)
    reached: dict[int, dict[int, int]] = field(default_factory=dict, repr=False, compare=False)
    config_candidates: dict[int, set[str]] = field(default_factory=dict, repr=False, compare=False)

    def mro(self) -> Iterator[ClassInfo]:
        seen: set[int] = set()
        stack = [self]
        while stack:
            c = stack.pop(0)
            if id(c) in seen:
                continue
            seen.add(id(c))
            yield c
            stack.extend(c.local_bases)

    def find_method(self, name: str) -> tuple[FuncNode, ClassInfo] | None:
        for c in self.mro():
            if name in c.methods:
                return c.methods[name], c
        return None

    def attribute(self, name: str) -> Attr | None:
        """The attribute as __init__ (own or a local base's) or the class body declares it."""
        for c in self.mro():
            if name in c.init_attrs:
                return c.init_attrs[name]
        return None

    def class_attribute(self, name: str) -> Attr | None:
        for c in self.mro():
            if name in c.class_attrs:
                return c.class_attrs[name]
        return None

    @property
    def has_unknown_bases(self) -> bool:
        """True when a base is imported from elsewhere: it may set attributes we cannot see (a
        private torch base such as ``_InstanceNorm`` or ``_Loss`` sets them in its ``__init__``)."""
        return any(
            (not b.startswith("torch.") or b.rsplit(".", 1)[-1].startswith("_"))
            and b not in ("object",)
            and not any(lb.name == b for lb in self.local_bases)
            for b in self.bases
        )


@dataclass
class ModuleInfo:
    tree: ast.Module
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted origin
    functions: dict[str, FuncNode] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    globals: dict[str, ast.AST] = field(default_factory=dict)  # module-level assignments
    scripted_names: set[str] = field(default_factory=set)  # torch.jit.script(name) at top level
    last_import_line: int = 0  # line after which new imports go
    future_import_line: int = 0
    # class name -> the methods the compiler compiles for it (its own and its bases'), set by
    # the reachability analysis (tsscan.semantic.compiled)
    compiled_methods: dict[str, set[str]] | None = None

    def resolve(self, name: str | None) -> str | None:
        """Resolve the head of a dotted name through the file's imports: ``nn.Linear`` ->
        ``torch.nn.Linear``; unknown heads are returned as written."""
        if not name:
            return name
        head, _, rest = name.partition(".")
        origin = self.aliases.get(head)
        if origin is None:
            return name
        return f"{origin}.{rest}" if rest else origin

    def resolve_node(self, node: ast.AST) -> str | None:
        return self.resolve(dotted(node))

    def binds(self, name: str) -> bool:
        """The file binds ``name`` at module level: an import, a ``def``, a class or an
        assignment. Such a name hides the builtin of that name in the file's code."""
        return name in self.aliases or name in self.functions or name in self.classes or name in self.globals


def _collect_imports(tree: ast.Module, mod: ModuleInfo) -> None:
    for stmt in _module_level_statements(tree):
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.asname:
                    mod.aliases[a.asname] = a.name
                else:
                    head = a.name.split(".")[0]
                    mod.aliases[head] = head
        elif isinstance(stmt, ast.ImportFrom):
            base = ("." * stmt.level) + (stmt.module or "")
            for a in stmt.names:
                if a.name == "*":
                    continue
                origin = f"{base}.{a.name}" if base and not base.endswith(".") else base + a.name
                mod.aliases[a.asname or a.name] = origin
            if stmt.module == "__future__":
                mod.future_import_line = stmt.end_lineno or stmt.lineno
    # new imports go after the leading block of imports (docstring, comments, imports)
    last = 0
    for i, stmt in enumerate(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            last = stmt.end_lineno or stmt.lineno
        elif i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            last = stmt.end_lineno or stmt.lineno
        else:
            break
    mod.last_import_line = max(last, mod.future_import_line)


def _module_level_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Top-level statements, looking inside top-level if/try blocks (guarded imports) and with
    blocks (``with warnings.catch_warnings(): class ...``)."""
    stack = list(tree.body)
    while stack:
        stmt = stack.pop(0)
        yield stmt
        if isinstance(stmt, ast.If):
            stack.extend(stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.With):
            stack.extend(stmt.body)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":  # ast.TryStar: Python 3.11+
            tried: ast.Try = stmt  # type: ignore[assignment]  # TryStar has Try's fields
            stack.extend(tried.body)
            for h in tried.handlers:
                stack.extend(h.body)
            stack.extend(tried.orelse + tried.finalbody)


def _ann_text(src_lines: list[str], node: ast.expr) -> str:
    return ast.unparse(node)


def _is_final(ann: ast.expr, mod: ModuleInfo) -> bool:
    target = ann.value if isinstance(ann, ast.Subscript) else ann
    name = mod.resolve_node(target) or ""
    return name.split(".")[-1] == "Final"


def _analyse_class(node: ast.ClassDef, mod: ModuleInfo) -> ClassInfo:
    bases = [mod.resolve_node(b) or ast.unparse(b) for b in node.bases]
    info = ClassInfo(name=node.name, node=node, bases=bases)
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if mod.resolve_node(target) == "torch.jit.script":
            info.is_script_class = True
        elif mod.resolve_node(target) == "torch.jit.interface":
            info.is_interface = True
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            accessor = _accessor_of(stmt)
            if accessor is not None and accessor[0] in info.methods:
                if accessor[1] == "setter":
                    info.setters[accessor[0]] = stmt
                continue  # the getter stays the method of that name
            info.methods[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    if t.id == "__constants__":
                        info.constants |= _string_items(stmt.value)
                    elif t.id == "__jit_unused_properties__":
                        info.unused_properties |= _string_items(stmt.value)
                    else:
                        info.class_attrs[t.id] = Attr(t.id, stmt.lineno, stmt.value, None, "class")
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name = stmt.target.id
            info.class_attrs[name] = Attr(name, stmt.lineno, stmt.value, _ann_text([], stmt.annotation), "class")
            if _is_final(stmt.annotation, mod):
                info.constants.add(name)
    init = info.methods.get("__init__")
    if init is not None:
        _collect_init_attrs(init, info, mod)
    return info


def _accessor_of(fn: FuncNode) -> tuple[str, str] | None:
    """(property name, "setter"/"deleter") for a ``@name.setter``/``@name.deleter`` method."""
    for d in fn.decorator_list:
        if isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") and isinstance(d.value, ast.Name):
            return d.value.id, d.attr
    return None


def _string_items(node: ast.expr) -> set[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def self_name(fn: FuncNode) -> str | None:
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else None


def is_self_setattr(node: ast.AST, me: str | None) -> TypeGuard[ast.Call]:
    """``setattr(self, name, value)`` with ``me`` the name of ``self``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "setattr"
        and len(node.args) >= 2
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == me
    )


def _collect_init_attrs(init: FuncNode, info: ClassInfo, mod: ModuleInfo) -> None:
    me = self_name(init)
    if me is None:
        return
    for node in astwalk.walk(init):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat: list[ast.expr] = []
            for t in targets:
                flat.extend(t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])
            for t in flat:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me:
                    ann = _ann_text([], node.annotation) if isinstance(node, ast.AnnAssign) else None
                    value = None if isinstance(t, ast.Tuple) or len(flat) > 1 else node.value
                    if t.attr not in info.init_attrs:
                        info.init_attrs[t.attr] = Attr(t.attr, node.lineno, value, ann, "init")
                    else:
                        info.init_assigned_later.setdefault(t.attr, []).append(value)
                        if ann and not info.init_attrs[t.attr].annotation:
                            info.init_attrs[t.attr].annotation = ann
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if (
                isinstance(f.value, ast.Name)
                and f.value.id == me
                and f.attr in ("register_buffer", "register_parameter", "add_module", "register_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                kind = {"register_buffer": "buffer", "register_parameter": "parameter"}.get(f.attr, "submodule")
                name = node.args[0].value
                value = node.args[1] if len(node.args) > 1 else None
                if name in info.init_attrs:  # assigned or registered before: another value
                    info.init_assigned_later.setdefault(name, []).append(value)
                else:
                    info.init_attrs[name] = Attr(name, node.lineno, value, None, kind)
        elif is_self_setattr(node, me):
            # setattr(self, <anything>, v): attributes we cannot name; remember that we can't
            info.init_attrs.setdefault("*setattr*", Attr("*setattr*", node.lineno, None, None, "init"))


def is_torch_module_name(name: str) -> bool:
    """A dotted name of an ``nn.Module`` subclass of torch: ``torch.nn.<Capitalized>``, private
    ones included (``torch.nn.modules.loss._Loss``, ``_WeightedLoss``, ``_ConvNd``)."""
    return (
        name not in _NOT_MODULES
        and name.startswith(_MODULE_PREFIXES)
        and name.rsplit(".", 1)[-1].lstrip("_")[:1].isupper()
    )


def _resolve_bases(classes: dict[str, ClassInfo]) -> None:
    for info in classes.values():
        info.local_bases = [classes[b] for b in info.bases if b in classes and classes[b] is not info]

    def is_module(info: ClassInfo, seen: set[str]) -> bool:
        if info.name in seen:
            return False
        seen.add(info.name)
        for b in info.bases:
            if b in _NOT_MODULES:
                continue
            if is_torch_module_name(b):
                return True
        if any(is_module(lb, seen) for lb in info.local_bases):
            return True
        # a class with forward() whose base comes from another module of the package
        # (timm's ``class X(SomeBlock)``) is taken as a module too.
        return "forward" in info.methods and info.has_unknown_bases

    for info in classes.values():
        info.is_module = not info.is_script_class and not info.is_interface and is_module(info, set())


def module_facts(tree: ast.Module) -> ModuleInfo:
    """Everything :class:`ModuleInfo` knows about one parsed file."""
    mod = ModuleInfo(tree=tree)
    _collect_imports(tree, mod)
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mod.functions[stmt.name] = stmt
        elif isinstance(stmt, ast.ClassDef):
            mod.classes[stmt.name] = _analyse_class(stmt, mod)
    # definitions inside a module-level if/try (``try: from x import f`` / ``except ImportError:
    # def f(...)``): the compiler compiles the one the import left, the fallback when the
    # optional package is missing; a definition at the top level wins
    for stmt in _module_level_statements(tree):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name not in mod.functions:
            mod.functions[stmt.name] = stmt
        elif isinstance(stmt, ast.ClassDef) and stmt.name not in mod.classes:
            mod.classes[stmt.name] = _analyse_class(stmt, mod)
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    mod.globals[t.id] = stmt
    for stmt in _module_level_statements(tree):
        # names bound only inside a top-level if/try (`try: ...; has_x = True except: has_x = False`):
        # the first binding, as the unguarded ones above win
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt not in tree.body:
            for t in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                if isinstance(t, ast.Name):
                    mod.globals.setdefault(t.id, stmt)
        for node in astwalk.walk(stmt) if isinstance(stmt, (ast.Assign, ast.Expr)) else ():
            if (
                isinstance(node, ast.Call)
                and mod.resolve_node(node.func) == "torch.jit.script"
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                mod.scripted_names.add(node.args[0].id)
    _resolve_bases(mod.classes)
    return mod
