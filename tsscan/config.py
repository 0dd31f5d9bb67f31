"""``[tool.tsscan]``: found per file, as ruff finds its configuration, and checked strictly.

Each file gets the ``[tool.tsscan]`` of the nearest ``pyproject.toml`` above it that has one
(a ``pyproject.toml`` without the table is skipped, as ruff skips one without ``[tool.ruff]``);
``--config FILE`` gives every file the same one. Paths in a table are relative to its
``pyproject.toml``. Without any table the defaults apply, with the nearest ``pyproject.toml``'s
directory (else the current directory) as the project root.

```toml
[tool.tsscan]
select = ["TS"]                    # codes or prefixes
ignore = ["TS6"]
per-file-ignores = {"tests/*" = ["TS1"]}
exclude = ["legacy/", "*_pb2.py"]
target-version = "2.13"            # torch version to check against
rule-dirs = ["tools/tsscan_rules"] # more rule directories (same format as rules/)

[tool.tsscan.verify]
factories = {"models/yolo.py:Detect" = "models.yolo:make_detect"}
```

Nothing is silently off: an unknown key, a value of the wrong type, a code or prefix no rule
has, or a torch version tsscan has no knowledge table for is a :class:`ConfigError` (the
command line prints it as one line and exits 2).
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType


class ConfigError(ValueError):
    """A configuration or option problem; the message is one line."""


KNOWN_KEYS = {
    "select",
    "ignore",
    "extend-select",
    "extend-ignore",
    "per-file-ignores",
    "exclude",
    "target-version",
    "rule-dirs",
    "verify",
}
# [tool.tsscan.verify] (read by tsscan/verify.py): key -> what its value must be
VERIFY_KEYS = {
    "python": "a path or a list of strings (a command)",
    "factories": "a table of strings",
    "inputs": "a table of strings",
    "shapes": "a table of shape lists",
    "timeout": "a positive number of seconds",
    "memory-mb": "a positive integer",
}


@dataclass
class Settings:
    select: list[str] = field(default_factory=lambda: ["TS"])
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    target_version: str | None = None
    rule_dirs: list[Path] = field(default_factory=list)
    verify: dict[str, object] = field(default_factory=dict)
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the pyproject.toml read, if any

    def ignores_for(self, path: str) -> list[str]:
        rel = _relpath(path, self.root)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
                out.extend(codes)
        return out


def _relpath(path: str, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``, whatever it holds."""
    for d in _dirs_up(start):
        candidate = d / "pyproject.toml"
        if _is_file(candidate):
            return candidate
    return None


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a path the system cannot even look at (too long...)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _dirs_up(start: Path) -> list[Path]:
    start = Path(os.path.realpath(start))  # (Path.resolve raises on a symlink loop)
    try:
        is_dir = start.is_dir()
    except OSError:
        is_dir = False
    if not is_dir:
        start = start.parent
    return [start, *start.parents]


# --------------------------------------------------------------------------- codes
_CODE_IN_RULE_RE = re.compile(r"""^\s*code\s*(?::\s*\w+\s*)?=\s*["'](TS\d{3})["']""", re.M)
_SELECTOR_RE = re.compile(r"^TS\d{0,3}$")


@cache
def _codes_in(directory: str) -> frozenset[str]:
    """Codes of the rule files of ``directory``, read as text (no rule is imported)."""
    out: set[str] = set()
    d = Path(directory)
    for path in sorted(d.glob("*.py")) if d.is_dir() else []:
        try:
            out.update(_CODE_IN_RULE_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue  # the rule loader says what is wrong with it
    return frozenset(out)


def known_codes(rule_dirs: Sequence[Path] = ()) -> frozenset[str]:
    """Every code a selector may name: the built-in rules, TS901 (``--verify``), TS000 (the
    flake8 plugin's own errors) and the rules of ``rule_dirs``."""
    here = Path(__file__).resolve().parent
    codes = set(_codes_in(str(here / "rules"))) | {"TS000"}  # the tsscan.rules package
    codes |= {c for c in _codes_in(str(here)) if c.startswith("TS9")}  # tsscan/verify.py
    for d in rule_dirs:
        codes |= _codes_in(str(Path(d).resolve()))
    return frozenset(codes)


def check_codes(codes: Sequence[str], where: str, rule_dirs: Sequence[Path] = ()) -> list[str]:
    """``codes`` (upper-cased) when each is a code or prefix of some rule, else ConfigError
    (what ruff does for an unknown rule selector)."""
    out = [c.strip().upper() for c in codes]
    known: frozenset[str] | None = None
    for c in out:
        if c == "TS":
            continue
        if known is None:
            known = known_codes(rule_dirs)
        if not _SELECTOR_RE.match(c) or not any(k.startswith(c) for k in known):
            raise ConfigError(f"{where}: unknown rule selector {c!r} (no rule code starts with it; see `tsscan rules`)")
    return out


def _codes(value: object, key: str, where: str, rule_dirs: Sequence[Path]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of codes")
    return check_codes(value, f"{where}: {key}", rule_dirs)


# --------------------------------------------------------------------------- versions
def supported_versions() -> list[str]:
    """The torch versions tsscan has a knowledge table for, oldest first."""
    from tsscan.semantic.tables import available  # not knowledge: that loads nothing yet costs an import

    return [f"{a}.{b}" for a, b in sorted(available())]


_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)(?:\.\d+)?(?:[.+-]?[0-9A-Za-z.+-]*)?\s*$")


def check_version(value: object, where: str) -> str:
    """``value`` when it names a torch version with a knowledge table (``2.13``, ``2.13.1``),
    else ConfigError listing the supported versions."""
    supported = supported_versions()
    m = _VERSION_RE.match(value) if isinstance(value, str) else None
    if m is None or not isinstance(value, str):
        raise ConfigError(f"{where}: {value!r} is not a torch version (supported: {', '.join(supported)})")
    if f"{int(m.group(1))}.{int(m.group(2))}" not in supported:
        raise ConfigError(
            f"{where}: torch {value} is not supported: tsscan has knowledge tables for torch "
            f"{', '.join(supported)} only"
        )
    return str(value).strip()


def table_version(version: str) -> str:
    """The torch version of the knowledge table checking against ``version`` uses."""
    from tsscan.semantic import knowledge

    return knowledge.pick(version).stem.removeprefix("torch-")


# --------------------------------------------------------------------------- loading
def toml_parser() -> ModuleType:
    """``tomllib`` (``tomli`` before Python 3.11), imported when a pyproject.toml is read: a run
    without one does not pay for it."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python < 3.11
        import tomli as tomllib
    return tomllib


def _read(pyproject: Path) -> dict:
    tomllib = toml_parser()
    try:
        with open(pyproject, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: {exc}") from None


def _table(data: dict) -> dict | None:
    tool = data.get("tool", {})
    table = tool.get("tsscan") if isinstance(tool, dict) else None
    return table


def load_settings(paths: Sequence[str] = (), config: str | None = None) -> Settings:
    """Settings from ``config`` (a pyproject.toml path), else those of the first path (else the
    current directory): see :func:`settings_for`."""
    if config:
        return load_config_file(config)
    return settings_for(paths[0] if paths else os.getcwd())


def load_config_file(config: str) -> Settings:
    pyproject = Path(config)
    if not pyproject.is_file():
        raise ConfigError(f"config file not found: {config}")
    return _settings(pyproject.resolve(), _table(_read(pyproject)))


_BY_DIR: dict[str, Settings | ConfigError] = {}
_BY_PATH: dict[str, Settings | ConfigError] = {}


def settings_for(path: str | Path) -> Settings:
    """The settings of the file (or directory) ``path``: the nearest ``pyproject.toml`` above
    it with a ``[tool.tsscan]`` table; else the defaults, rooted at the nearest
    ``pyproject.toml`` (else the current directory). Read once per directory per process."""
    by_path = os.path.abspath(path)  # a run asks once per file and again when walking: no realpath twice
    found = _BY_PATH.get(by_path)
    if found is None:
        try:
            found = _settings_for(path)
        except ConfigError as exc:
            found = exc
        _BY_PATH[by_path] = found
    if isinstance(found, ConfigError):
        raise found
    return found


def _settings_for(path: str | Path) -> Settings:
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):  # a plain file: its directory's settings, asked once
        return settings_for(os.path.dirname(os.path.abspath(path)))
    dirs = _dirs_up(Path(path))
    key = str(dirs[0])
    found = _BY_DIR.get(key)
    if isinstance(found, ConfigError):
        raise found
    if found is not None:
        return found
    try:
        settings, searched = _find_settings(dirs)
    except ConfigError as exc:
        _BY_DIR[key] = exc
        raise
    for d in searched:  # every directory on the way up has the same answer
        _BY_DIR.setdefault(str(d), settings)
    return settings


def clear_cache() -> None:
    """Forget the settings read (a long-lived process whose files changed; tests)."""
    _BY_DIR.clear()
    _BY_PATH.clear()


def _find_settings(dirs: Sequence[Path]) -> tuple[Settings, list[Path]]:
    """The settings for the first of ``dirs`` and the directories searched to find them."""
    first: Path | None = None
    for i, d in enumerate(dirs):
        known = _BY_DIR.get(str(d)) if i else None
        if isinstance(known, Settings) and first is None:
            return known, list(dirs[:i])
        candidate = d / "pyproject.toml"
        if not _is_file(candidate):
            continue
        first = first or candidate
        table = _table(_read(candidate))
        if table is not None:
            return _settings(candidate, table), list(dirs[: i + 1])
    return Settings(root=first.parent if first else Path.cwd().resolve()), [dirs[0]]


def _settings(pyproject: Path, table: dict | None) -> Settings:
    settings = Settings(root=pyproject.parent.resolve())
    if table is None:
        return settings
    where = f"{pyproject}: [tool.tsscan]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    settings.source = pyproject
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{pyproject}: unknown [tool.tsscan] keys: {', '.join(sorted(unknown))}")
    dirs = table.get("rule-dirs", [])
    if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
        raise ConfigError(f"{where}: rule-dirs must be a list of paths")
    settings.rule_dirs = [settings.root / d for d in dirs]
    rd = settings.rule_dirs
    if "select" in table:
        settings.select = _codes(table["select"], "select", where, rd)
    settings.select += _codes(table.get("extend-select", []), "extend-select", where, rd)
    settings.ignore = _codes(table.get("ignore", []), "ignore", where, rd) + _codes(
        table.get("extend-ignore", []), "extend-ignore", where, rd
    )
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{where}: per-file-ignores must be a table")
    settings.per_file_ignores = {k: _codes(v, f"per-file-ignores {k!r}", where, rd) for k, v in pfi.items()}
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
        raise ConfigError(f"{where}: exclude must be a list of patterns")
    settings.exclude = list(exclude)
    if "target-version" in table:
        settings.target_version = check_version(table["target-version"], f"{where} target-version")
    settings.verify = _verify(table.get("verify", {}), pyproject, settings.root)
    return settings


def _verify(verify: object, pyproject: Path, root: Path) -> dict[str, object]:
    where = f"{pyproject}: [tool.tsscan.verify]"
    if not isinstance(verify, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(verify) - set(VERIFY_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys: {', '.join(sorted(unknown))} (known: {', '.join(sorted(VERIFY_KEYS))})"
        )
    out = dict(verify)

    def bad(key: str) -> ConfigError:
        return ConfigError(f"{where}: {key} must be {VERIFY_KEYS[key]}, not {verify[key]!r}")

    for key in ("factories", "inputs"):
        if key in verify and not (
            isinstance(verify[key], dict) and all(isinstance(v, str) for v in verify[key].values())
        ):
            raise bad(key)
    if "shapes" in verify and not isinstance(verify["shapes"], dict):
        raise bad("shapes")
    timeout = verify.get("timeout")
    if "timeout" in verify and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise bad("timeout")
    mem = verify.get("memory-mb")
    if "memory-mb" in verify and (isinstance(mem, bool) or not isinstance(mem, int) or mem <= 0):
        raise bad("memory-mb")
    if "python" in verify:
        out["python"] = _python(verify["python"], root, where)
    return out


def _python(value: object, root: Path, where: str) -> list[str]:
    """The interpreter command, its program resolved against the project root; it must exist."""
    command = [value] if isinstance(value, str) else value
    if not isinstance(command, list) or not command or not all(isinstance(c, str) and c for c in command):
        raise ConfigError(f"{where}: python must be {VERIFY_KEYS['python']}, not {value!r}")
    program = os.path.expanduser(command[0])
    if os.sep in program or (os.altsep and os.altsep in program):
        program = str(root / program)
        ok = os.path.isfile(program) and os.access(program, os.X_OK)
    else:
        import shutil

        ok = shutil.which(program) is not None
    if not ok:
        raise ConfigError(f"{where}: python {command[0]!r}: no such executable (relative to {root})")
    return [program, *command[1:]]


# --------------------------------------------------------------------------- torch version
def installed_torch_version() -> str | None:
    """The installed torch's version, from package metadata (torch is not imported)."""
    found = _torch_version_file()
    if found:
        return found
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    try:
        return version("torch").split("+")[0]
    except PackageNotFoundError:
        return None


def _torch_version_file() -> str | None:
    """``torch/version.py``'s ``__version__``, read as text: a tenth of the time of
    importlib.metadata, which every run would pay (torch is found, not imported)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.origin:
            return None
        with open(os.path.join(os.path.dirname(spec.origin), "version.py"), encoding="utf-8") as f:
            m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", f.read(), re.M)
    except (OSError, ImportError, ValueError):
        return None
    return m.group(1).split("+")[0] if m else None


DEFAULT_TARGET = "2.13"


def newest_known_version() -> str:
    """The torch version of the newest shipped knowledge table (``DEFAULT_TARGET`` if none)."""
    versions = supported_versions()
    return versions[-1] if versions else DEFAULT_TARGET


def target_version(settings: Settings, cli_value: str | None = None) -> str:
    """``--target-version``, else ``target-version``, else the installed torch's version when
    tsscan has its table, else the newest table's. An explicit version without a table is a
    ConfigError; see :func:`target_source` for saying which one was used and why."""
    return target_source(settings, cli_value)[0]


def target_source(settings: Settings, cli_value: str | None = None) -> tuple[str, str]:
    """(version, where it came from)."""
    if cli_value is not None:
        return check_version(cli_value, "--target-version"), "--target-version"
    if settings.target_version:
        return settings.target_version, f"target-version in {settings.source}"
    installed = installed_torch_version()
    if installed:
        try:
            return check_version(installed, "installed torch"), "the installed torch"
        except ConfigError:
            newest = newest_known_version()
            return newest, f"the newest table: the installed torch {installed} has none"
    return newest_known_version(), "the newest table (no torch installed)"
