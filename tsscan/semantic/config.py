"""Constructor configuration: what a module's attributes are when it is built (stdlib ``ast`` only).

``torch.jit.script`` types each attribute from the value the instance holds when it is scripted,
and compiles both arms of ``if self.flag:`` unless the test is one it decides while compiling
(``self.x is None`` on a non-Optional attribute, ``hasattr(self, "x")``, a ``Final`` bool,
``torch.jit.is_scripting()``). So an attribute that ``__init__`` sets only under a flag, sets to
``None`` by default, or sets only in subclasses, fails in compiled code whatever the flag's run-time
use: "Module 'Attention' has no attribute 'rel_pos_h'", "Could not cast value of type NoneType to
bool" (both measured with torch 2.13, see tests/test_config.py).

This module runs ``__init__`` abstractly, following ``super().__init__(...)`` into bases of the
file and ``self.method(...)`` calls, in two configurations:

- :data:`DEFAULTS`: every parameter with a default holds it (a literal, or a value typed from
  the expression); parameters without one are unknown;
- :data:`ANY`: every parameter is unknown (both arms of an ``if`` on a parameter run).

Each attribute gets a set of *possibilities*: :data:`ABSENT` (not set), a literal (``None``,
``3``), a kind from :mod:`tsscan.semantic.values` (a module, a tensor), or :data:`TOP` (set, type
unknown). Anything the evaluation cannot follow makes the class *opaque* (no answer).

Split by job: the possibilities and configurations are :mod:`tsscan.semantic.config_values`, the
abstract run of ``__init__`` is :mod:`tsscan.semantic.config_eval`; this module holds what callers
ask (:func:`configuration`, :func:`type_at_defaults`) and re-exports the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tsscan.semantic import attributes as A
from tsscan.semantic.config_eval import Opaque, Run, is_self_attr
from tsscan.semantic.config_values import ABSENT, ANY, DEFAULTS, TOP, Poss, Vals, kind_of, lit, type_text
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo, ModuleInfo

__all__ = [
    "ABSENT",
    "ANY",
    "DEFAULTS",
    "TOP",
    "Config",
    "Poss",
    "Vals",
    "configuration",
    "is_self_attr",
    "kind_of",
    "lit",
    "type_at_defaults",
    "type_text",
]


@dataclass
class Config:
    """The attributes of instances of one class in one configuration: one dict per *world* (a
    path through ``__init__`` that the configuration does not decide), so that attributes set
    together stay together (``self.pos_embed`` is None exactly when ``self.pos_embed_spatial``
    is not)."""

    worlds: list[dict[str, Vals]]
    opaque: bool = False
    # where each attribute is assigned in the evaluated code: name -> [(line, if-tests on the way)]
    sites: dict[str, list[tuple[int, tuple[str, ...]]]] = field(default_factory=dict)

    def state(self, name: str) -> Vals:
        """Every possibility of ``self.<name>`` across the worlds."""
        out: frozenset = frozenset()
        for w in self.worlds:
            out |= w.get(name, frozenset({ABSENT}))
        return out


# a class's configurations, by (mode, id of the file's facts)
_CONFIGURATIONS: Memo[dict[tuple[str, int], Config]] = Memo("configurations of a class")


def configuration(cls: ClassInfo, module: ModuleInfo, mode: str) -> Config:
    """The attributes of a ``cls`` instance built in configuration ``mode`` (cached)."""
    cache = _CONFIGURATIONS.on(cls, lambda _: {})
    key = (mode, id(module))
    if key not in cache:
        cache[key] = _configuration(cls, module, mode)
    return cache[key]


def _configuration(cls: ClassInfo, module: ModuleInfo, mode: str) -> Config:
    if not A.fully_known(cls) or not A.plain_module(cls):
        return Config([], opaque=True)
    run = Run(cls, module, mode)
    found = cls.find_method("__init__")
    try:
        if found is None:
            return Config([{}])
        worlds = run.call(found[0], found[1], None, {}, {})
    except Opaque:
        return Config([], opaque=True)
    if not worlds:  # __init__ always raises: nothing to say
        return Config([], opaque=True)
    return Config(worlds, sites=run.sites)


def type_at_defaults(cls: ClassInfo, module: ModuleInfo, name: str) -> A.AttrType | None:
    """The type ``self.<name>`` has when ``cls`` is built with its defaults, when every way
    through ``__init__`` gives the same one (``self.scale = scale`` with ``scale=None``:
    NoneType); None when it is not certain or the attribute may not exist. For callers that
    type values from attributes (call checking)."""
    conf = configuration(cls, module, DEFAULTS)
    if conf.opaque:
        return None
    vals = conf.state(name)
    if len(vals) != 1 or TOP in vals or ABSENT in vals:
        return None
    (p,) = vals
    kind = kind_of(p)
    if kind == A.UNKNOWN:
        return None
    ts = {A.NONE: "None", A.INT: "int", A.FLOAT: "float", A.BOOL: "bool", A.STR: "str"}.get(kind)
    return A.AttrType(kind, ts if p[0] == "c" else p[2], origin="init", detail=p[3] if p[0] == "t" else "")
