#!/usr/bin/env python
"""Measure which comparisons TorchScript compiles, for TS260's table.

    python scripts/measure_comparisons.py OUT.json     # with the torch to measure installed

Compiles ``def f(a: A, b: B) -> bool: return bool(a OP b)`` for every pair of types of
``TYPES`` and every operator of ``OPS`` with ``torch.jit.script`` and writes the message of
each pair that fails. ``tsscan/data/comparisons.json`` is this output (for every torch version
measured; the lead merges them when they agree).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
import tempfile
from pathlib import Path

import torch

TYPES = [
    "Tensor",
    "int",
    "float",
    "bool",
    "str",
    "None",
    "List[int]",
    "List[float]",
    "List[str]",
    "List[Tensor]",
    "Tuple[int, int]",
    "Optional[Tensor]",
    "Optional[int]",
    "Optional[float]",
    "Optional[bool]",
    "Optional[str]",
    "Dict[str, int]",
    "Dict[str, Tensor]",
]
OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
HEADER = "import torch\nfrom torch import Tensor\nfrom typing import Dict, List, Optional, Tuple\n"


def compiles(path: Path, a: str, op: str, b: str) -> str | None:
    path.write_text(HEADER + f"def f(a: {a}, b: {b}) -> bool:\n    return bool(a {op} b)\n", encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    try:
        torch.jit.script(mod.f)
    except Exception as exc:  # the compiler's verdict is the measurement
        return str(exc).strip().splitlines()[0]
    return None


def main() -> None:
    out = Path(sys.argv[1])
    invalid: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, (op, a, b) in enumerate(itertools.product(OPS, TYPES, TYPES)):
            msg = compiles(Path(tmp) / f"cmp{n}.py", a, op, b)
            if msg is not None:
                invalid[f"{a} {op} {b}"] = msg
    data = {"torch": [torch.__version__.split("+")[0]], "types": TYPES, "ops": OPS, "invalid": invalid}
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(invalid)} of {len(OPS) * len(TYPES) ** 2} comparisons fail with torch {torch.__version__}")


if __name__ == "__main__":
    main()
