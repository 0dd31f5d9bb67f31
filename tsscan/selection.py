"""Which rules a run selects, without importing libcst: the torch versions a rule applies to
(:func:`version_matches`) and the selection by code prefix (:func:`code_selected`).

The runner decides with these whether a file needs libcst at all; :mod:`tsscan.rule`
re-exports them for rules and front ends."""

from __future__ import annotations

import re
from collections.abc import Sequence

# --------------------------------------------------------------------------- versions
_SPEC_RE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)\s*$")


def _vtuple(v: str) -> tuple[int, ...]:
    nums = re.match(r"\d+(?:\.\d+)*", v.strip())
    if not nums:
        raise ValueError(f"not a version: {v!r}")
    parts = tuple(int(p) for p in nums.group(0).split("."))
    return parts + (0,) * (3 - len(parts))


def version_matches(version: str, specifier: str) -> bool:
    """``version_matches("2.13.0", ">=1.0,<2.14")``: a small subset of PEP 440 (enough here)."""
    v = _vtuple(version)
    for clause in filter(None, (c.strip() for c in specifier.split(","))):
        m = _SPEC_RE.match(clause)
        if not m:
            raise ValueError(f"bad version specifier: {specifier!r}")
        op, ref = m.group(1), _vtuple(m.group(2))
        ok = {
            ">=": v >= ref,
            "<=": v <= ref,
            "==": v == ref,
            "!=": v != ref,
            ">": v > ref,
            "<": v < ref,
        }[op]
        if not ok:
            return False
    return True


# bands a selection must name to turn on: `TS` alone does not select them, `TS7` or a code does
# (TS7xx: "may fail", findings that depend on constructor arguments other than the defaults)
OPT_IN_BANDS = ("TS7",)


def code_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """ruff/flake8 semantics: the longest matching prefix between select and ignore wins. A code
    of an :data:`OPT_IN_BANDS` band is selected only by a prefix at least as long as its band's."""
    best_sel = max((len(p) for p in select if code.startswith(p)), default=-1)
    best_ign = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    band = next((b for b in OPT_IN_BANDS if code.startswith(b)), None)
    if band is not None and best_sel < len(band):
        return False
    return best_sel >= 0 and best_sel > best_ign
