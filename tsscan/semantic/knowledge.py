"""What TorchScript knows, per torch version: the tables ``scripts/gen_knowledge.py`` generates.

The tables live in ``tsscan/data/torch-<major>.<minor>.json``. :func:`load` picks the one for a
target version (the same minor, else the nearest older one, else the newest) and never imports
torch: checking code must not need it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_NAME_RE = re.compile(r"^torch-(\d+)\.(\d+)\.json$")


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    kwarg_only: bool
    has_default: bool


@dataclass
class Knowledge:
    """One generated table. Attribute names follow the JSON; helpers answer rule questions."""

    torch_version: str
    tensor_methods: frozenset[str]
    tensor_properties: frozenset[str]
    unsupported_tensor_methods: frozenset[str]
    unsupported_tensor_properties: frozenset[str]
    builtins_supported: frozenset[str]
    builtins_unsupported: frozenset[str]
    builtins_opaque: frozenset[str]
    math_supported: frozenset[str]
    math_unsupported: frozenset[str]
    math_constants: frozenset[str]
    raw_functions: dict[str, dict] = field(repr=False, default_factory=dict)
    raw_tensor_methods: dict[str, list] = field(repr=False, default_factory=dict)
    source: Path | None = None

    # ---- functions
    def function_kind(self, qualname: str) -> str | None:
        """``"builtin"`` (a registered operator), ``"python"`` (compiled from source),
        ``"unknown-op"`` (maps to an operator with no schema) or None (not in the table)."""
        entry = self.raw_functions.get(qualname)
        return entry["kind"] if entry else None

    def overloads(self, qualname: str) -> list[list[Arg]]:
        """The argument lists TorchScript accepts for ``torch.X`` / ``torch.nn.functional.X``."""
        entry = self.raw_functions.get(qualname)
        if not entry:
            return []
        return [[Arg(*a) for a in ov] for ov in entry.get("overloads", [])]

    def accepts_keyword(self, qualname: str, keyword: str) -> bool | None:
        """Whether some overload of ``qualname`` has an argument named ``keyword``; None when
        the table cannot tell (not in the table, or a signature with ``**kwargs``)."""
        ovs = self.overloads(qualname)
        if not ovs:
            return None
        for ov in ovs:
            for a in ov:
                if a.name.startswith("**"):
                    return None
                if a.name == keyword:
                    return True
        return False

    def tensor_method_overloads(self, name: str) -> list[list[Arg]]:
        """Argument lists (after ``self``) of ``x.NAME(...)`` when it is an ``aten::NAME``
        operator (empty when TorchScript implements the method otherwise)."""
        return [[Arg(*a) for a in ov] for ov in self.raw_tensor_methods.get(name, [])]

    def tensor_member_unsupported(self, name: str) -> str | None:
        """``"method"`` / ``"property"`` when TorchScript's Tensor lacks ``name``, else None."""
        if name in self.unsupported_tensor_methods:
            return "method"
        if name in self.unsupported_tensor_properties:
            return "property"
        return None


def _version_tuple(v: str) -> tuple[int, int]:
    m = re.match(r"^\s*(\d+)(?:\.(\d+))?", v or "")
    if not m:
        raise ValueError(f"not a torch version: {v!r}")
    return int(m.group(1)), int(m.group(2) or 0)


def available(data_dir: Path = DATA_DIR) -> dict[tuple[int, int], Path]:
    out = {}
    if data_dir.is_dir():
        for p in data_dir.iterdir():
            m = _NAME_RE.match(p.name)
            if m:
                out[(int(m.group(1)), int(m.group(2)))] = p
    return out


def pick(target_version: str | None, data_dir: Path = DATA_DIR) -> Path:
    """The table for ``target_version``: exact minor, else the nearest older, else the newest."""
    tables = available(data_dir)
    if not tables:
        raise FileNotFoundError(f"no knowledge tables in {data_dir}")
    newest = max(tables)
    if not target_version:
        return tables[newest]
    try:
        want = _version_tuple(target_version)
    except ValueError:
        return tables[newest]
    if want in tables:
        return tables[want]
    older = [v for v in tables if v < want]
    return tables[max(older)] if older else tables[newest]


def _from_json(data: dict, source: Path | None) -> Knowledge:
    t, b, m = data["tensor"], data["builtins"], data["math"]
    return Knowledge(
        torch_version=data["torch_version"],
        tensor_methods=frozenset(t["methods"]),
        tensor_properties=frozenset(t["properties"]),
        unsupported_tensor_methods=frozenset(t["unsupported_methods"]),
        unsupported_tensor_properties=frozenset(t["unsupported_properties"]),
        builtins_supported=frozenset(b["supported"]),
        builtins_unsupported=frozenset(b["unsupported"]),
        builtins_opaque=frozenset(b["opaque"]),
        math_supported=frozenset(m["supported"]),
        math_unsupported=frozenset(m["unsupported"]),
        math_constants=frozenset(m["constants"]),
        raw_functions=data["functions"],
        raw_tensor_methods=data.get("tensor_method_overloads", {}),
        source=source,
    )


@cache
def _load_path(path: Path) -> Knowledge:
    with open(path, encoding="utf-8") as f:
        return _from_json(json.load(f), path)


def load(target_version: str | None = None) -> Knowledge:
    """The table for ``target_version`` (``"2.13"``, ``"2.13.0"``; None: the newest)."""
    return _load_path(pick(target_version))
