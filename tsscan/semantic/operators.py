"""Which comparisons TorchScript compiles: the table ``scripts/measure_comparisons.py`` measured
with the compiler (``tsscan/data/comparisons.json``), for pairs of types both of which are in
its vocabulary. A pair outside it is unknown, never guessed."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import libcst as cst

DATA = Path(__file__).resolve().parent.parent / "data" / "comparisons.json"

OPERATORS: dict[type[cst.BaseCompOp], str] = {
    cst.Equal: "==",
    cst.NotEqual: "!=",
    cst.LessThan: "<",
    cst.LessThanEqual: "<=",
    cst.GreaterThan: ">",
    cst.GreaterThanEqual: ">=",
    cst.In: "in",
    cst.NotIn: "not in",
}


@cache
def table() -> dict:
    with open(DATA, encoding="utf-8") as f:
        return json.load(f)


def normal(t: str | None) -> str | None:
    """A type as the table spells it (``NoneType`` is ``None``, ``torch.Tensor`` is ``Tensor``)."""
    if t is None:
        return None
    t = re.sub(r"\s+", "", t).replace("torch.Tensor", "Tensor").replace("NoneType", "None")
    return t.replace(",", ", ")


def comparison_fails(left: str | None, op: str, right: str | None) -> str | None:
    """The compiler's message when ``left op right`` does not compile; None when it compiles
    or when either type is outside the measured vocabulary."""
    data = table()
    a, b = normal(left), normal(right)
    if a not in data["types"] or b not in data["types"] or op not in data["ops"]:
        return None
    return data["invalid"].get(f"{a} {op} {b}")


def measured_with() -> list[str]:
    return list(table()["torch"])
