"""``[tool.tsscan]`` in the nearest ``pyproject.toml``.

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
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]


class ConfigError(Exception):
    pass


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
    start = Path(os.path.realpath(start))  # (Path.resolve raises on a symlink loop)
    if start.is_file():
        start = start.parent
    for d in [start, *start.parents]:
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _codes(value: object, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[tool.tsscan] {key} must be a list of codes")
    return [v.strip().upper() for v in value]


def load_settings(paths: Sequence[str] = (), config: str | None = None) -> Settings:
    """Settings from ``config`` (a pyproject.toml path) or the nearest pyproject.toml above
    the first path (else the current directory)."""
    if config:
        pyproject: Path | None = Path(config)
        if not pyproject.is_file():
            raise ConfigError(f"config file not found: {config}")
    else:
        pyproject = find_pyproject(Path(paths[0]) if paths else Path.cwd())
    settings = Settings()
    if pyproject is None:
        return settings
    try:
        with open(pyproject, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: {exc}") from None
    table = data.get("tool", {}).get("tsscan")
    settings.root = pyproject.parent.resolve()
    if table is None:
        return settings
    settings.source = pyproject
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{pyproject}: unknown [tool.tsscan] keys: {', '.join(sorted(unknown))}")
    if "select" in table:
        settings.select = _codes(table["select"], "select")
    settings.select += _codes(table.get("extend-select", []), "extend-select")
    settings.ignore = _codes(table.get("ignore", []), "ignore") + _codes(
        table.get("extend-ignore", []), "extend-ignore"
    )
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{pyproject}: per-file-ignores must be a table")
    settings.per_file_ignores = {k: _codes(v, "per-file-ignores") for k, v in pfi.items()}
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list):
        raise ConfigError(f"{pyproject}: exclude must be a list of patterns")
    settings.exclude = [str(e) for e in exclude]
    tv = table.get("target-version")
    if tv is not None:
        settings.target_version = str(tv)
    settings.rule_dirs = [settings.root / d for d in table.get("rule-dirs", [])]
    verify = table.get("verify", {})
    if not isinstance(verify, dict):
        raise ConfigError(f"{pyproject}: [tool.tsscan.verify] must be a table")
    settings.verify = verify
    return settings


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
    import re

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
    from tsscan.semantic import knowledge as knowledge

    tables = knowledge.available()
    if not tables:
        return DEFAULT_TARGET
    major, minor = max(tables)
    return f"{major}.{minor}"


def target_version(settings: Settings, cli_value: str | None = None) -> str:
    return cli_value or settings.target_version or installed_torch_version() or newest_known_version()
