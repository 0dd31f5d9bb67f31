"""How compiled code uses ``self.<name>``, judged against the constructor's configurations.

:mod:`tsscan.semantic.config` tells what each attribute can be when the module is built (with its
defaults, or with any arguments). This module walks one compiled function (libcst) the way the
compiler does, and finds the uses that fail for a configuration:

- a read of an attribute that does not exist: "Module 'M' has no attribute 'x'";
- a ``None`` attribute used as a bool, called, compared, computed with, indexed, iterated or
  asked for an attribute; a module or a tuple used as a bool; an int (float, str, Tensor, ...)
  called.

It follows only the branches the compiler decides while compiling (measured with torch 2.13): ``if
self.x is None`` / ``is not None`` (on the type the attribute has in that configuration), ``if
hasattr(self, "x")``, ``Final`` bools and ``torch.jit.is_scripting()``; the arms of such an ``if``
or conditional expression see the attribute narrowed. Operands of ``and``/``or`` are all
compiled: ``self.x is not None and self.x < 0`` fails when ``x`` is None. A plain ``if self.flag:``
is compiled both ways whatever the flag holds.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from tsscan.semantic import astwalk
from tsscan.semantic import attributes as A
from tsscan.semantic import config as C
from tsscan.semantic import config_reach as R
from tsscan.semantic.function import FunctionFacts, cst_dotted
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo
from tsscan.walk import children

_MODULE_KINDS = {A.MODULE} | A.MODULE_CONTAINERS
_NOT_CALLABLE = {A.NONE, A.INT, A.FLOAT, A.BOOL, A.STR, A.TUPLE, A.LIST, A.TENSOR}
_NONE_ROLES = {"truth", "call", "compare", "arith", "attr", "subscript", "iter"}

_EMPTY = cst.Module([])


def failure(role: str, p: C.Poss, cls_name: str, name: str, detail: str = "") -> str | None:
    """What the compiler says when ``self.<name>`` holding ``p`` is used in ``role``; None
    when that compiles (or is not known to fail)."""
    if p == C.ABSENT:
        return f"Module '{cls_name}' has no attribute '{name}'"
    kind = C.kind_of(p)
    t = C.type_text(p)
    if role == "truth" and (kind == A.NONE or kind in _MODULE_KINDS or kind == A.TUPLE):
        return f"Could not cast value of type {t} to bool"
    if role == "call" and kind in _NOT_CALLABLE:
        return f"cannot call a value of type '{t}'"
    if kind != A.NONE or role not in _NONE_ROLES:
        return None
    return {
        "compare": "Arguments for call are not valid",
        "arith": "Arguments for call are not valid",
        "attr": f"'NoneType' object has no attribute or method '{detail}'",
        "subscript": "'NoneType' object is not subscriptable",
        "iter": "'NoneType' object is not iterable",
    }[role]


@dataclass
class Use:
    """One ``self.<name>`` in compiled code, with what it can hold where it is compiled."""

    node: cst.Attribute
    name: str
    role: str  # truth, call, compare, arith, attr, subscript, iter, read
    detail: str = ""
    # (class, configuration, world, surely compiled) -> possibilities where the use is compiled
    seen: dict[tuple[str, str, int, bool], frozenset] = field(default_factory=dict)


@dataclass
class Verdict:
    """A use that fails: ``band`` "error" (with the defaults, or whatever the arguments) or
    "maybe" (only with other arguments); ``missing``: the attribute does not exist."""

    use: Use
    band: str
    mode: str  # the configuration that decides: C.DEFAULTS or C.ANY
    missing: bool
    message: str  # what the compiler says
    possibility: C.Poss  # the value that fails
    cls_name: str  # the class built (the method's own class or a subclass)
    owner_name: str = ""  # the class that defines the method
    why: str = ""  # where the value comes from, for messages


class _Walker:
    def __init__(self, facts: FunctionFacts, cls: ClassInfo, mode: str, states: dict[str, frozenset]) -> None:
        self.facts = facts
        self.cls = cls
        self.mode = mode
        self.states = states  # name -> possibilities in this configuration
        self.uses: dict[int, Use] = {}
        self.weak = 0  # > 0: inside code compiled only for some instances (a loop over modules)
        self.world = 0  # which world of the configuration (tsscan.semantic.config.Config.worlds)
        self.parsed: dict[int, ast.expr | None] = {}  # libcst test -> stdlib ast (shared by walkers)

    # ---- the compiler's static tests
    def _ast(self, node: cst.BaseExpression) -> ast.expr | None:
        if id(node) in self.parsed:
            return self.parsed[id(node)]
        try:
            tree: ast.expr | None = ast.parse("(" + _EMPTY.code_for_node(node) + ")", mode="eval").body
        except SyntaxError:
            tree = None
        self.parsed[id(node)] = tree
        return tree

    def narrow(self, test: cst.BaseExpression, env: dict[str, frozenset]) -> tuple[dict | None, dict | None]:
        """(env in the true arm, env in the false arm); None for an arm the compiler drops."""
        tree = self._ast(test)
        if tree is None:
            return env, env
        return self._narrow(tree, env)

    def _narrow(self, e: ast.expr, env: dict[str, frozenset]) -> tuple[dict | None, dict | None]:
        me = self.facts.self_name
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            t, f = self._narrow(e.operand, env)
            return f, t
        if isinstance(e, ast.BoolOp):
            parts = [self._narrow(v, env) for v in e.values]
            conj = isinstance(e.op, ast.And)
            sure = [p[0] if conj else p[1] for p in parts]  # every operand's arm taken
            other = [p[1] if conj else p[0] for p in parts]
            both = _meet(env, sure)
            # the other arm: some operand went the other way; static only if all agree
            alive = [o for o in other if o is not None]
            rest = env if alive else None
            return (both, rest) if conj else (rest, both)
        if (
            isinstance(e, ast.Call)
            and not e.args
            and self.facts.module.resolve_node(e.func) == "torch.jit.is_scripting"
        ):
            return env, None
        if (
            isinstance(e, ast.Call)
            and isinstance(e.func, ast.Name)
            and e.func.id == "hasattr"
            and len(e.args) == 2
            and isinstance(e.args[0], ast.Name)
            and e.args[0].id == me
            and isinstance(e.args[1], ast.Constant)
            and isinstance(e.args[1].value, str)
        ):
            return self._split(env, e.args[1].value, lambda p: p != C.ABSENT)
        if (
            isinstance(e, ast.Compare)
            and len(e.ops) == 1
            and isinstance(e.ops[0], (ast.Is, ast.IsNot))
            and isinstance(e.comparators[0], ast.Constant)
            and e.comparators[0].value is None
            and C.is_self_attr(e.left, me)
        ):
            assert isinstance(e.left, ast.Attribute)
            t, f = self._split(env, e.left.attr, lambda p: None if p == C.TOP else p == C.lit(None), keep_absent=False)
            return (t, f) if isinstance(e.ops[0], ast.Is) else (f, t)
        if C.is_self_attr(e, me) and A.is_constant(self.cls, e.attr):
            assert isinstance(e, ast.Attribute)
            vals = self.state(env, e.attr)
            if vals and all(p[0] == "c" and isinstance(p[1], bool) for p in vals):
                return self._split(env, e.attr, lambda p: bool(p[1]) if p[0] == "c" else None)
        return env, env

    def _split(
        self, env: dict, name: str, pred: Callable[[C.Poss], bool | None], keep_absent: bool = True
    ) -> tuple[dict | None, dict | None]:
        vals = self.state(env, name)
        if not keep_absent:
            vals = vals - {C.ABSENT}
            if not vals:
                return env, env
        # a value the model does not know (TOP) may go either way
        yes = frozenset(p for p in vals if pred(p) is not False)
        no = frozenset(p for p in vals if pred(p) is not True)
        return (_with(env, name, yes) if yes else None), (_with(env, name, no) if no else None)

    def state(self, env: dict[str, frozenset], name: str) -> frozenset:
        if name in env:
            return env[name]
        return self.states.get(name, frozenset({C.TOP}))

    # ---- uses
    def record(self, node: cst.Attribute, name: str, role: str, env: dict, detail: str = "") -> None:
        use = self.uses.setdefault(id(node), Use(node, name, role, detail))
        key = (self.cls.name, self.mode, self.world, self.weak == 0)
        use.seen[key] = use.seen.get(key, frozenset()) | self.state(env, name)

    def expr(self, n: cst.CSTNode, role: str, env: dict) -> None:
        fx = self.facts
        name = fx.self_attr(n)
        if name is not None:
            assert type(n) is cst.Attribute
            self.record(n, name, role, env)
            return
        if type(n) is cst.Call:
            fname = n.func.value if type(n.func) is cst.Name else ""
            if fname in ("hasattr", "getattr", "setattr") and n.args and cst_dotted(n.args[0].value) == fx.self_name:
                for a in n.args[2:]:
                    self.expr(a.value, "read", env)
                return
            self.expr(n.func, "call", env)
            for a in n.args:
                self.expr(a.value, "read", env)
            return
        if type(n) is cst.Attribute:
            inner = fx.self_attr(n.value)
            if inner is not None:
                assert type(n.value) is cst.Attribute
                self.record(n.value, inner, "attr", env, n.attr.value)
            else:
                self.expr(n.value, "read", env)
            return
        if type(n) is cst.Subscript:
            self.expr(n.value, "subscript", env)
            for el in n.slice:
                self.expr(el, "read", env)
            return
        if type(n) is cst.BinaryOperation:
            self.expr(n.left, "arith", env)
            self.expr(n.right, "arith", env)
            return
        if type(n) is cst.UnaryOperation:
            self.expr(n.expression, "truth" if type(n.operator) is cst.Not else "arith", env)
            return
        if type(n) is cst.BooleanOperation:
            self.expr(n.left, "truth", env)
            self.expr(n.right, "truth", env)
            return
        if type(n) is cst.Comparison:
            ops = [c.operator for c in n.comparisons]
            plain = all(type(o) in (cst.Is, cst.IsNot, cst.In, cst.NotIn) for o in ops)
            r = "read" if plain or any(type(o) in (cst.In, cst.NotIn) for o in ops) else "compare"
            self.expr(n.left, r, env)
            for c in n.comparisons:
                self.expr(c.comparator, r, env)
            return
        if type(n) is cst.IfExp:
            self.expr(n.test, "truth", env)
            yes, no = self.narrow(n.test, env)
            if yes is not None:
                self.expr(n.body, role, yes)
            if no is not None:
                self.expr(n.orelse, role, no)
            return
        if type(n) is cst.Lambda:
            return
        if type(n) is cst.CompFor:
            self.expr(n.iter, "iter", env)
            for i in n.ifs:
                self.expr(i.test, "truth", env)
            if n.inner_for_in is not None:
                self.expr(n.inner_for_in, "read", env)
            return
        for child in children(n):
            self.expr(child, "read", env)

    def target(self, t: cst.BaseExpression, env: dict) -> None:
        """An assignment target: ``self.x = v`` stores (not a use); ``self.x[i] = v`` and
        ``self.x.y = v`` use ``self.x``."""
        if self.facts.self_attr(t) is not None:
            return
        if isinstance(t, (cst.Tuple, cst.List)):
            for el in t.elements:
                self.target(el.value, env)
            return
        if type(t) in (cst.Subscript, cst.Attribute):
            self.expr(t, "read", env)
        # a Name or a starred target: nothing to read

    # ---- statements: return the env after the block, None when it always leaves
    def block(self, stmts, env: dict) -> dict | None:
        for s in stmts:
            out = self.stmt(s, env)
            if out is None:
                return None
            env = out
        return env

    def body(self, suite: cst.BaseSuite, env: dict) -> dict | None:
        return self.block(suite.body, env)

    def stmt(self, s: cst.CSTNode, env: dict) -> dict | None:
        if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return self.block(s.body, env)
        if type(s) is cst.If:
            self.expr(s.test, "truth", env)
            yes, no = self.narrow(s.test, env)
            a = self.body(s.body, yes) if yes is not None else None
            b: dict | None = no
            if no is not None and s.orelse is not None:
                b = self.stmt(s.orelse, no) if type(s.orelse) is cst.If else self.body(s.orelse.body, no)
            if a is None:
                return b
            if b is None:
                return a
            return env
        if type(s) is cst.While:
            self.expr(s.test, "truth", env)
            yes, _no = self.narrow(s.test, env)
            if yes is not None:
                self.body(s.body, yes)
            if s.orelse is not None:
                self.body(s.orelse.body, env)
            return env
        if type(s) is cst.For:
            self.expr(s.iter, "iter", env)
            tree = self._ast(s.iter)
            unrolled = tree is not None and R.loops_over_modules(
                self.cls, self.facts.module, tree, self.facts.self_name
            )
            self.weak += unrolled  # an empty container: the body is not compiled
            self.body(s.body, env)
            self.weak -= unrolled
            if s.orelse is not None:
                self.body(s.orelse.body, env)
            return env
        if type(s) is cst.With:
            for item in s.items:
                self.expr(item.item, "read", env)
            return self.body(s.body, env)
        if type(s) is cst.Try:
            self.body(s.body, env)
            for h in s.handlers:
                self.body(h.body, env)
            for part in (s.orelse, s.finalbody):
                if part is not None:
                    self.body(part.body, env)
            return env
        if type(s) in (cst.FunctionDef, cst.ClassDef):
            return env
        if isinstance(s, (cst.Return, cst.Raise)):
            value = s.value if isinstance(s, cst.Return) else s.exc
            if value is not None:
                self.expr(value, "read", env)
            return None
        if type(s) is cst.Assert:
            self.expr(s.test, "truth", env)
            yes, _no = self.narrow(s.test, env)
            return yes
        if type(s) in (cst.Continue, cst.Break):
            return None
        if type(s) is cst.Assign:
            self.expr(s.value, "read", env)
            for t in s.targets:
                self.target(t.target, env)
            return env
        if type(s) is cst.AnnAssign:
            if s.value is not None:
                self.expr(s.value, "read", env)
            self.target(s.target, env)
            return env
        if type(s) is cst.AugAssign:
            self.expr(s.value, "arith", env)
            self.expr(s.target, "arith", env)
            return env
        if type(s) is cst.Expr:
            self.expr(s.value, "read", env)
            return env
        return env


def _with(env: dict, name: str, vals: frozenset) -> dict:
    out = dict(env)
    out[name] = vals
    return out


def _meet(env: dict, arms: list[dict | None]) -> dict | None:
    """The env where every arm holds (each narrows some names)."""
    out = dict(env)
    for arm in arms:
        if arm is None:
            return None
        for k, v in arm.items():
            if k in out and out[k] is not v:
                v = out[k] & v
                if not v:
                    return None
            out[k] = v
    return out


def _candidates(cls: ClassInfo, facts: FunctionFacts) -> set[str]:
    known = cls.config_candidates.get(id(facts.module))
    if known is None:
        known = cls.config_candidates[id(facts.module)] = _find_candidates(cls, facts)
    return known


def _find_candidates(cls: ClassInfo, facts: FunctionFacts) -> set[str]:
    """Attribute names the configurations can answer for: assigned by ``__init__`` code of the
    class, its bases or its subclasses in the file; not methods, class attributes, names set
    by other methods before scripting, or from outside the class."""
    mod = facts.module
    family = [c for c in mod.classes.values() if cls in list(c.mro())]
    names: set[str] = set()
    for c in family:
        for n in A.class_writes(c).assigned:
            names.add(n)
    writes = A.class_writes(cls)
    evaluated = {"__init__"} | A.init_called_methods(cls)
    out = set()
    for n in names:
        if n.startswith("__") or n in A.MODULE_BUILTINS or cls.find_method(n) is not None:
            continue
        if cls.class_attribute(n) is not None or A.externally_assigned(mod, n):
            continue
        if any(m not in evaluated for m, _ in writes.assigned.get(n, [])):
            continue  # set by another method (compiled ones: TS304)
        out.add(n)
    return out


_VERDICTS: Memo[list[Verdict]] = Memo("configuration verdicts")


def verdicts(facts: FunctionFacts, fn: cst.FunctionDef) -> list[Verdict]:
    """The uses of ``self.<name>`` in ``fn`` that fail for a configuration of its class."""
    return facts.memo(_VERDICTS, fn, lambda: _verdicts(facts, fn))


def _verdicts(facts: FunctionFacts, fn: cst.FunctionDef) -> list[Verdict]:
    owner = facts.cls
    if owner is None or facts.self_name is None or not facts.function.body_compiled:
        return []
    node = facts.function.node
    # the classes of the file that compile this method: the owner and its subclasses
    family = [c for c in facts.module.classes.values() if owner in list(c.mro()) and c.is_module]
    uses: dict[int, Use] = {}
    names: dict[str, set[str]] = {}
    classes: dict[str, ClassInfo] = {}
    worlds: dict[str, dict[str, int]] = {}  # class -> configuration -> how many worlds
    parsed: dict[int, ast.expr | None] = {}
    absent = frozenset({C.ABSENT})
    me = facts.self_name
    read = {n.attr for n in astwalk.walk(node) if C.is_self_attr(n, me)}
    for cls in family:
        level = R.reached(cls, facts.module).get(id(node))
        if level is None or level == R.GUARDED:
            continue  # not compiled, or only where a test narrows what the attributes are
        cand = _candidates(cls, facts)
        if not cand:
            continue  # no attribute to judge: its configurations are not needed
        confs = [C.configuration(cls, facts.module, mode) for mode in (C.DEFAULTS, C.ANY)]
        if any(c.opaque for c in confs):
            continue
        names[cls.name], classes[cls.name] = cand, cls
        worlds[cls.name] = {}
        used = cand & read
        for mode, conf in zip((C.DEFAULTS, C.ANY), confs, strict=True):
            # worlds that differ only in attributes this method does not read walk alike
            views = list(dict.fromkeys(frozenset((n, w.get(n, absent)) for n in used) for w in conf.worlds))
            worlds[cls.name][mode] = len(views)
            for i, view in enumerate(views):
                w = _Walker(facts, cls, mode, dict(view))
                w.uses, w.world, w.parsed = uses, i, parsed
                w.weak = 0 if level == R.SURE else 1
                w.body(fn.body, {})
    out: list[Verdict] = []
    missing_seen: set[str] = set()
    for use in uses.values():  # in the order of the source
        found = [
            v
            for name, cls in classes.items()
            if use.name in names[name] and (v := _judge(use, cls, worlds[name])) is not None
        ]
        if not found:
            continue
        for v in found:
            if v.cls_name != owner.name:
                # a subclass fails in a method of its base: the base may script, and users may
                # never build that subclass as it is: a warning
                v.band = "maybe"
        v = min(found, key=lambda v: (v.band != "error", v.cls_name != owner.name))
        v.why = _why(classes[v.cls_name], facts, use.name, v.missing)
        v.owner_name = owner.name
        if v.missing:
            if use.name in missing_seen:
                continue  # the first read says it; the compiler stops there too
            missing_seen.add(use.name)
        out.append(v)
    return out


def _why(cls: ClassInfo, facts: FunctionFacts, name: str, missing: bool) -> str:
    """Where ``__init__`` sets the attribute, as a clause for messages."""
    sites = C.configuration(cls, facts.module, C.ANY).sites.get(name, [])
    if not sites:
        subs = sorted(
            c.name
            for c in facts.module.classes.values()
            if c is not cls and cls in list(c.mro()) and name in A.class_writes(c).assigned
        )
        if subs:
            return "only subclasses set it (" + ", ".join(subs[:3]) + (", ..." if len(subs) > 3 else "") + ")"
        return f"`{cls.name}.__init__` never sets it"
    line, tests = sites[0]
    if missing and tests:
        return f"`__init__` sets it only when `{' and '.join(tests)}` (line {line})"
    return f"set at line {line}"


def _judge(use: Use, cls: ClassInfo, worlds: dict[str, int]) -> Verdict | None:
    """ "error": the use fails in every world of the defaults (or of any arguments), being
    compiled in each; "maybe": it fails in some world of any arguments."""

    def fails(vals: frozenset) -> dict:
        return {p: m for p in vals if (m := failure(use.role, p, cls.name, use.name, use.detail)) is not None}

    for mode, band in ((C.DEFAULTS, "error"), (C.ANY, "error"), (C.ANY, "maybe")):
        per_world = [use.seen.get((cls.name, mode, i, True), frozenset()) for i in range(worlds[mode])]
        if band == "maybe":
            per_world = [v | use.seen.get((cls.name, mode, i, False), frozenset()) for i, v in enumerate(per_world)]
        bad: dict = {}
        for vals in per_world:
            got = fails(vals)
            if band == "error" and (not vals or len(got) != len(vals)):
                break
            bad.update(got)
        else:
            if bad:
                p = C.ABSENT if C.ABSENT in bad else next(iter(sorted(bad, key=repr)))
                return Verdict(use, band, mode, p == C.ABSENT, bad[p], p, cls.name)
    return None
