"""The vocabulary of the constructor configuration (:mod:`tsscan.semantic.config`): the two
configurations and the *possibilities* an attribute or a local holds while ``__init__`` runs
abstractly, and how the compiler names their types."""

from __future__ import annotations

from tsscan.semantic import attributes as A

DEFAULTS, ANY = "defaults", "any"

# possibilities: ("c", literal) | ("t", kind, ts, detail) | TOP | ABSENT
Poss = tuple
TOP: Poss = ("?",)
ABSENT: Poss = ("absent",)
Vals = frozenset
State = tuple[dict, dict]  # (locals, attributes) of one world
MAX_WORLDS = 24

_LITERAL_KINDS = {type(None): A.NONE, bool: A.BOOL, int: A.INT, float: A.FLOAT, str: A.STR, tuple: A.TUPLE}
MAX_DEPTH = 6


def lit(v: object) -> Poss:
    return ("c", v)


def kind_of(p: Poss) -> str:
    """The attribute kind (:mod:`tsscan.semantic.values`) of one possibility; UNKNOWN for TOP."""
    if p[0] == "c":
        return _LITERAL_KINDS.get(type(p[1]), A.UNKNOWN)
    if p[0] == "t":
        return p[1]
    return A.UNKNOWN


def type_text(p: Poss) -> str:
    """How the compiler names the type of one possibility in its messages."""
    if p[0] == "c":
        v = p[1]
        if v is None:
            return "NoneType"
        if isinstance(v, tuple):
            return "Tuple[" + ", ".join(type_text(lit(x)) for x in v) + "]" if v else "Tuple[()]"
        return type(v).__name__
    if p[0] == "t":
        kind, ts, detail = p[1], p[2], p[3]
        if kind in {A.MODULE} | A.MODULE_CONTAINERS:
            return f"__torch__...{(detail or 'Module').split('.')[-1]}"
        return {A.TENSOR: "Tensor"}.get(kind, ts or kind)
    return "?"
