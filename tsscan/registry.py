"""Loading rules: the built-in ones from the :mod:`tsscan.rules` package (found with
:mod:`pkgutil`), users' own from the directories named in ``[tool.tsscan] rule-dirs`` (by path).

This sits above the rules and the rule API: the rules import :mod:`tsscan.rule`, and this
module imports the rules.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from tsscan.rule import Rule, RuleLoadError, validate_rule


def builtin_rules() -> list[type[Rule]]:
    """The rules of the :mod:`tsscan.rules` package, one per module (``_`` modules are helpers)."""
    if _BUILTIN not in _loaded:
        import tsscan.rules as package

        found: list[type[Rule]] = []
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            found.extend(_rules_of(module, Path(module.__file__ or info.name)))
        _loaded[_BUILTIN] = found
    return _loaded[_BUILTIN]


_BUILTIN = Path("<tsscan.rules>")
_loaded: dict[Path, list[type[Rule]]] = {}


def _rules_of(module: ModuleType, path: Path) -> list[type[Rule]]:
    found = []
    for obj in vars(module).values():
        if (
            isinstance(obj, type)
            and issubclass(obj, Rule)
            and obj is not Rule
            and obj.__module__ == module.__name__
            and obj.code
        ):
            validate_rule(obj, path)
            found.append(obj)
    return found


def load_rule_dir(directory: Path) -> list[type[Rule]]:
    directory = Path(directory).resolve()
    if directory in _loaded:
        return _loaded[directory]
    if not directory.is_dir():
        raise RuleLoadError(f"rule directory not found: {directory}")
    found: list[type[Rule]] = []
    # the directory becomes a package of its own, so its rule files can import their helper
    # modules (``from ._helpers import X``); its name is stable and unique per directory
    package = f"tsscan_user_rules_{hashlib.blake2b(str(directory).encode(), digest_size=6).hexdigest()}"
    if package not in sys.modules:
        module = ModuleType(package)
        module.__path__ = [str(directory)]
        module.__package__ = package
        sys.modules[package] = module
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            module = _load_source(f"{package}.{path.stem}", path)
        except Exception as exc:  # a broken user rule must not look like a tsscan crash
            raise RuleLoadError(f"{path}: cannot load rule file: {type(exc).__name__}: {exc}") from exc
        found.extend(_rules_of(module, path))
    _loaded[directory] = found
    return found


def load_rules(extra_dirs: Iterable[Path] = ()) -> list[type[Rule]]:
    rules: list[type[Rule]] = []
    seen: dict[str, type[Rule]] = {}
    for r in [*builtin_rules(), *(r for d in extra_dirs for r in load_rule_dir(Path(d)))]:
        if r.code in seen:
            raise RuleLoadError(f"duplicate rule code {r.code}: {seen[r.code].__name__} and {r.__name__}")
        seen[r.code] = r
        rules.append(r)
    return sorted(rules, key=lambda r: r.code)


def _load_source(name: str, path: Path) -> ModuleType:
    """A user's rule module, compiled from its source every time: a bytecode file written by an
    earlier run within the same second (same size) would otherwise hide an edit."""
    module = ModuleType(name)
    module.__file__ = str(path)
    module.__package__ = name.rpartition(".")[0]
    sys.modules[name] = module
    try:
        exec(compile(path.read_bytes(), str(path), "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module
