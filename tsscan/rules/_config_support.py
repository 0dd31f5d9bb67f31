"""The base of the constructor-configuration rules (TS320, TS321, TS701, TS702): not a rule file.

Each rule reports the uses of ``self.<name>`` that :mod:`tsscan.semantic.config_uses` judges to
fail in one band ("error": with the class's defaults, or whatever the arguments; "maybe": only
with other arguments) and one family (the attribute is missing, or holds a value of the wrong
type).
"""

from __future__ import annotations

import libcst as cst

from tsscan.rule import Rule
from tsscan.semantic import config as C
from tsscan.semantic.config_uses import Verdict, verdicts

_ROLE = {
    "truth": "used as a bool",
    "call": "called",
    "compare": "compared",
    "arith": "used in arithmetic",
    "attr": "asked for an attribute",
    "subscript": "indexed",
    "iter": "iterated",
    "read": "read",
}


def describe(v: Verdict) -> str:
    """The message of a finding: what the attribute is, when, how it is used, and what the
    compiler says."""
    name, cls_name = v.use.name, v.cls_name
    subclass = " (a subclass)" if v.cls_name != v.owner_name else ""
    when = (
        f"when `{cls_name}`{subclass} is built with its defaults"
        if v.mode == C.DEFAULTS
        else ("whatever the constructor arguments" if v.band == "error" else "for some constructor arguments")
    )
    if v.missing:
        return f'`self.{name}` does not exist {when}: {v.why}; the compiler says "{v.message}"'
    what = "None" if v.possibility == C.lit(None) else f"of type `{C.type_text(v.possibility)}`"
    return f'`self.{name}` is {what} {when} ({v.why}) and is {_ROLE[v.use.role]} here: the compiler says "{v.message}"'


class ConfigRule(Rule):
    """Reports the verdicts of one band and family."""

    band = "error"
    missing = True
    level = "type"

    def on_function(self) -> None:
        self._found: dict[int, Verdict] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self.ctx.node:
            return
        for v in verdicts(self.ctx, node):
            if v.band == self.band and v.missing == self.missing:
                self._found[id(v.use.node)] = v

    def visit_Attribute(self, node: cst.Attribute) -> None:
        v = self._found.get(id(node))
        if v is not None:
            self.report(node, describe(v))
