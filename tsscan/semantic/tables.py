"""Which torch versions tsscan has a knowledge table for (``tsscan/data/torch-<major>.<minor>.json``),
without loading any: the configuration checks a target version with this alone, so a run
answered from the cache never imports :mod:`tsscan.semantic.knowledge`."""

from __future__ import annotations

import re
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_NAME_RE = re.compile(r"^torch-(\d+)\.(\d+)\.json$")


def available(data_dir: Path = DATA_DIR) -> dict[tuple[int, int], Path]:
    """The tables in ``data_dir``, by (major, minor)."""
    out = {}
    if data_dir.is_dir():
        for p in data_dir.iterdir():
            m = _NAME_RE.match(p.name)
            if m:
                out[(int(m.group(1)), int(m.group(2)))] = p
    return out
