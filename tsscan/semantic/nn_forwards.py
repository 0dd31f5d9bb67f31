"""The ``forward`` signatures of ``torch.nn`` module classes, per torch version: the tables
``scripts/gen_nn_forwards.py`` generates (``tsscan/data/nn-forwards-<major>.<minor>.json``).
Loading never imports torch. The table for a version is picked as the knowledge tables are."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tsscan.semantic.knowledge import DATA_DIR, Signature, parse_signature, pick


@dataclass(frozen=True)
class Forward:
    signature: Signature
    inferred: frozenset[str]  # parameters without annotation (typed Tensor)


@cache
def _load(path: Path) -> dict[str, Forward]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {
        name: Forward(parse_signature(entry["signature"]), frozenset(entry["inferred"]))
        for name, entry in data["forwards"].items()
    }


def forward_of(qualname: str, target_version: str | None) -> Forward | None:
    """The ``forward`` of the ``torch.nn`` class ``qualname`` (``torch.nn.GroupNorm``), or None."""
    knowledge_table = pick(target_version)
    path = DATA_DIR / knowledge_table.name.replace("torch-", "nn-forwards-")
    if not path.is_file():
        return None
    return _load(path).get(qualname)
