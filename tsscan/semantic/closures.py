"""Functions defined inside a compiled function, read as closures: what each one takes from the
function around it, how it is used there, and whether moving it out (to module level, with what it
captured as parameters) keeps what it does.

A nested ``def`` can move out exactly when:

* it is a statement of the outer function's body itself (not inside an ``if`` or a loop), has no
  decorator, no ``*args``/``**kwargs``, no ``global``/``nonlocal``/``yield``, no ``def``,
  ``class`` or ``lambda`` of its own, and does not call itself;
* every use of its name is a plain call (``f(a, k=b)``), in the outer body or in another nested
  function that moves with it;
* none of the names it reads from the outer function (its *captures*) is bound again after the
  ``def`` (a closure sees the latest binding; a parameter the value at the call, the same when
  nothing rebinds it). A capture that is mutated is still the same object either way.

Nothing here types anything: the types of the captures and of unannotated parameters are the
flow model's, at the calls (:meth:`tsscan.semantic.function_types.FunctionTypes.type_at`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from tsscan.semantic.annotations import param_list
from tsscan.semantic.function_types import names_bound_in
from tsscan.semantic.targets import bound_names
from tsscan.walk import walk

_FORBIDDEN = (cst.Global, cst.Nonlocal, cst.Yield, cst.Await, cst.FunctionDef, cst.ClassDef, cst.Lambda)


@dataclass
class Nested:
    """One nested function that can move out, with what it needs."""

    node: cst.FunctionDef
    index: int  # its position among the outer body's statements
    captures: set[str] = field(default_factory=set)  # outer names it reads, its own callees' included
    calls_to: set[str] = field(default_factory=set)  # the other nested functions it calls
    calls: list[cst.Call] = field(default_factory=list)  # the calls in the outer body
    sibling_calls: list[cst.Call] = field(default_factory=list)  # its own calls of the others


class _Reads(cst.CSTVisitor):
    """Names read in a function body (approximately: every ``Name`` but attribute names, keyword
    names and what comprehensions bind), the calls made by plain name, and other uses of names."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.called: dict[str, list[cst.Call]] = {}
        self.comp_targets: set[str] = set()
        self.forbidden = False
        self._callee_ids: set[int] = set()
        self.bare: set[str] = set()  # names used other than as the callee of a call

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _FORBIDDEN):
            self.forbidden = True
            return False
        if isinstance(node, cst.Attribute):
            walk(node.value, self)
            return False
        if isinstance(node, cst.Arg):
            walk(node.value, self)
            if node.star:
                self.names.add("*")
            return False
        if isinstance(node, cst.CompFor):
            self.comp_targets |= {n.value for n in bound_names(node.target)}
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            self.called.setdefault(node.func.value, []).append(node)
            self._callee_ids.add(id(node.func))
        if isinstance(node, cst.Name):
            self.names.add(node.value)
            if id(node) not in self._callee_ids:
                self.bare.add(node.value)
        return True


def _reads(node: cst.CSTNode) -> _Reads:
    r = _Reads()
    walk(node, r)
    return r


def movable(outer: cst.FunctionDef, outer_params: set[str], self_name: str | None) -> list[Nested] | None:
    """The nested functions of ``outer``'s body, when all of them can move out together (None
    when one cannot, or there is none); ``outer_params``: its parameter names."""
    body = list(outer.body.body) if isinstance(outer.body, cst.IndentedBlock) else []
    defs = {s.name.value: Nested(s, i) for i, s in enumerate(body) if isinstance(s, cst.FunctionDef)}
    if not defs:
        return None
    outer_names = outer_params | names_bound_in(outer.body)
    for name, n in defs.items():
        fn = n.node
        p = fn.params
        if fn.decorators or fn.asynchronous or isinstance(p.star_arg, cst.Param) or p.star_kwarg is not None:
            return None
        r = _reads(fn.body)
        if r.forbidden or "*" in r.names or name in r.names:
            return None
        heads = _Reads()  # defaults and annotations: evaluated where the ``def`` runs
        for part in [fn.returns] + [x for q in param_list(fn) for x in (q.default, q.annotation)]:
            if part is not None:
                walk(part, heads)
        if heads.names & outer_names:
            return None  # ``def g(t, k=k)``: at module level ``k`` would be another name
        own = {q.name.value for q in param_list(fn)} | names_bound_in(fn.body)
        if r.comp_targets & outer_names - own:
            return None  # a comprehension variable named like an outer name: read where?
        own |= r.comp_targets
        n.calls_to = {c for c in r.called if c in defs and c not in own}
        n.sibling_calls = [call for c in sorted(n.calls_to) for call in r.called[c]]
        if any(d in r.bare for d in n.calls_to):
            return None  # a sibling used as a value
        n.captures = (r.names - own) & outer_names - set(defs)
        if self_name is not None and self_name in n.captures:
            return None  # ``self`` cannot be passed to a module-level function
    _close_captures(defs)
    rest = _reads(cst.IndentedBlock(body=[s for s in body if not isinstance(s, cst.FunctionDef)]))
    if rest.forbidden:
        return None  # a lambda or class in the outer body could hide a use
    for name, n in defs.items():
        if name in rest.bare or name in outer_names:
            return None  # used as a value, or the name is rebound
        n.calls = rest.called.get(name, [])
        if any(a.star for c in n.calls for a in c.args):
            return None  # ``f(*xs)``: which parameter gets what is not known
        later = body[n.index + 1 :]
        if any(c in names_bound_in(s) for s in later for c in n.captures):
            return None  # a capture changes after the def
        if any(s.index > n.index for s in defs.values() if s.node.name.value in n.calls_to):
            return None  # calls a function defined after it
    return list(defs.values())


def _close_captures(defs: dict[str, Nested]) -> None:
    """A nested function that calls another passes that one's captures on: it needs them too."""
    changed = True
    while changed:
        changed = False
        for n in defs.values():
            for callee in n.calls_to:
                extra = defs[callee].captures - n.captures
                if extra:
                    n.captures |= extra
                    changed = True
