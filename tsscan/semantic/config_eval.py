"""The abstract run of ``__init__`` behind :mod:`tsscan.semantic.config`: values, tests, calls
and statements evaluated over sets of possibilities (:mod:`tsscan.semantic.config_values`), one
state per *world*, following ``super().__init__(...)`` into bases of the file and
``self.method(...)`` calls. Anything it cannot follow raises :class:`Opaque`."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any, TypeGuard

from tsscan.semantic import astwalk
from tsscan.semantic import attributes as A
from tsscan.semantic.config_values import ABSENT, DEFAULTS, MAX_DEPTH, MAX_WORLDS, TOP, Poss, State, Vals, lit
from tsscan.semantic.memo import Memo
from tsscan.semantic.module import ClassInfo, FuncNode, ModuleInfo, self_name


class Opaque(Exception):
    """Something the evaluation cannot follow: the class gets no answer."""


class Run:
    def __init__(self, cls: ClassInfo, module: ModuleInfo, mode: str) -> None:
        self.cls = cls
        self.module = module
        self.mode = mode
        self.depth = 0
        self.sites: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self.tests: list[str] = []
        self.returned: list[list[State]] = []  # per running method: the worlds that returned

    # ---- abstract values
    def value(self, e: ast.expr, env: dict[str, Vals], attrs: dict[str, Vals], me: str | None) -> Vals:
        if isinstance(e, ast.Constant):
            if e.value is None or isinstance(e.value, (bool, int, float, str)):
                return frozenset({lit(e.value)})
            return frozenset({TOP})
        if isinstance(e, ast.Name):
            return env.get(e.id, self._global(e.id))
        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == me:
            got = attrs.get(e.attr, frozenset({ABSENT})) - {ABSENT}
            return got or frozenset({TOP})
        if isinstance(e, ast.Tuple):
            parts = [self.value(x, env, attrs, me) for x in e.elts]
            if all(len(p) == 1 and next(iter(p))[0] == "c" for p in parts) and len(parts) < 8:
                return frozenset({lit(tuple(next(iter(p))[1] for p in parts))})
            return frozenset({("t", A.TUPLE, None, "")})
        if isinstance(e, ast.IfExp):
            t = self.truth(e.test, env, attrs, me)
            if t is True:
                return self.value(e.body, env, attrs, me)
            if t is False:
                return self.value(e.orelse, env, attrs, me)
            return self.value(e.body, env, attrs, me) | self.value(e.orelse, env, attrs, me)
        if isinstance(e, ast.BoolOp):
            return self._boolop(e, env, attrs, me)
        if isinstance(e, (ast.Compare, ast.UnaryOp, ast.BinOp)) or _is_isinstance(e):
            folded = self._fold(e, env, attrs, me)
            if folded is not None:
                return frozenset({lit(folded)})
        if isinstance(e, (ast.Compare,)) or (isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not)):
            return frozenset({("t", A.BOOL, "bool", "")})
        vt = A.value_type(e, self.module, self.cls, self.cls.methods.get("__init__"))
        if vt.known and not isinstance(e, (ast.Name, ast.Attribute)):
            return frozenset({("t", vt.kind, vt.ts, vt.detail)})
        return frozenset({TOP})

    def _global(self, name: str) -> Vals:
        stmt = self.module.globals.get(name)
        value = getattr(stmt, "value", None)
        if isinstance(stmt, ast.Assign) and isinstance(value, ast.Constant) and len(stmt.targets) == 1:
            return self.value(value, {}, {}, None)
        return frozenset({TOP})

    def _boolop(self, e: ast.BoolOp, env: dict[str, Vals], attrs: dict[str, Vals], me: str | None) -> Vals:
        out: set[Poss] = set()
        want = isinstance(e.op, ast.Or)  # `or` returns the first truthy operand
        for i, v in enumerate(e.values):
            vals = self.value(v, env, attrs, me)
            last = i == len(e.values) - 1
            if last:
                out |= vals
                break
            truths = {_truth_of(p) for p in vals}
            if truths == {want}:
                out |= vals
                break
            out |= {p for p in vals if _truth_of(p) is not (not want)}
            if truths == {not want}:
                out -= vals
        return frozenset(out) or frozenset({TOP})

    def _single(self, e: ast.expr, env: dict[str, Vals], attrs: dict[str, Vals], me: str | None) -> tuple[bool, object]:
        vals = self.value(e, env, attrs, me)
        if len(vals) == 1:
            p = next(iter(vals))
            if p[0] == "c":
                return True, p[1]
        return False, None

    def _fold(self, e: ast.expr, env: dict[str, Vals], attrs: dict[str, Vals], me: str | None) -> object:
        """The literal value of a comparison / arithmetic on literals, else None."""
        try:
            if isinstance(e, ast.UnaryOp):
                ok, v = self._single(e.operand, env, attrs, me)
                if not ok:
                    return None
                unary: dict[type, Callable[[Any], Any]] = {ast.Not: operator.not_, ast.USub: operator.neg}
                unary[ast.UAdd] = operator.pos
                return unary[type(e.op)](v)
            if isinstance(e, ast.BinOp):
                (ok1, a), (ok2, b) = self._single(e.left, env, attrs, me), self._single(e.right, env, attrs, me)
                ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
                ops.update({ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Div: operator.truediv})
                if not (ok1 and ok2) or type(e.op) not in ops or isinstance(a, str) or isinstance(b, str):
                    return None
                return ops[type(e.op)](a, b)
            if isinstance(e, ast.Compare) and len(e.ops) == 1:
                op = e.ops[0]
                if isinstance(op, (ast.Is, ast.IsNot)) and _is_none(e.comparators[0]):
                    vals = self.value(e.left, env, attrs, me)
                    nones = {p[0] == "c" and p[1] is None for p in vals if p != TOP}
                    if TOP in vals or len(nones) != 1:
                        return None
                    (isnone,) = nones
                    return isnone if isinstance(op, ast.Is) else not isnone
                (ok1, a), (ok2, b) = (
                    self._single(e.left, env, attrs, me),
                    self._single(e.comparators[0], env, attrs, me),
                )
                cmp: dict[type, Callable[[Any, Any], Any]] = {ast.Eq: operator.eq, ast.NotEq: operator.ne}
                cmp.update({ast.Lt: operator.lt, ast.LtE: operator.le})
                cmp.update({ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda x, y: x in y})
                cmp.update({ast.NotIn: lambda x, y: x not in y})
                if ok1 and ok2 and type(op) in cmp:
                    return bool(cmp[type(op)](a, b))
                return None
            if _is_isinstance(e):
                assert isinstance(e, ast.Call)
                ok, v = self._single(e.args[0], env, attrs, me)
                names = e.args[1].elts if isinstance(e.args[1], ast.Tuple) else [e.args[1]]
                types = {"int": int, "float": float, "str": str, "bool": bool, "tuple": tuple}
                if not ok or not all(isinstance(n, ast.Name) and n.id in types for n in names):
                    return None
                return isinstance(v, tuple(types[n.id] for n in names if isinstance(n, ast.Name)))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, KeyError):
            return None
        return None

    def truth(self, e: ast.expr, env: dict[str, Vals], attrs: dict[str, Vals], me: str | None) -> bool | None:
        truths = {_truth_of(p) for p in self.value(e, env, attrs, me)}
        return truths.pop() if len(truths) == 1 else None

    # ---- statements
    def call(
        self, fn: FuncNode, owner: ClassInfo, args: list[Vals] | None, kwargs: dict[str, Vals], attrs: dict
    ) -> list[dict]:
        """Run ``fn`` (a method of ``owner``) on ``attrs`` with the given arguments (``args``
        None: the configuration decides each parameter). Returns the attributes of each world
        it can finish in (none: it always raises)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Opaque("too deep")
        self.returned.append([])
        try:
            env = self._bind(fn, args, kwargs)
            me = self_name(fn)
            out = self.block(fn.body, [(env, dict(attrs))], me, owner) + self.returned[-1]
            return [a for _e, a in _cap(out)]
        finally:
            self.returned.pop()
            self.depth -= 1

    def _bind(self, fn: FuncNode, args: list[Vals] | None, kwargs: dict[str, Vals]) -> dict[str, Vals]:
        pos = fn.args.posonlyargs + fn.args.args
        env: dict[str, Vals] = {}
        defaults = dict(zip([a.arg for a in pos[len(pos) - len(fn.args.defaults) :]], fn.args.defaults, strict=False))
        for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=False):
            if d is not None:
                defaults[a.arg] = d
        names = [a.arg for a in pos[1:]] + [a.arg for a in fn.args.kwonlyargs]
        for n in names:
            if args is None:
                d = defaults.get(n)
                env[n] = self.value(d, {}, {}, None) if (self.mode == DEFAULTS and d is not None) else frozenset({TOP})
            else:
                env[n] = frozenset({TOP})
                if n in defaults:
                    env[n] = self.value(defaults[n], {}, {}, None)
        if args is not None:
            if fn.args.vararg is None and len(args) > len(pos) - 1:
                raise Opaque("too many arguments")
            for n, v in zip([a.arg for a in pos[1:]], args, strict=False):
                env[n] = v
            for k, v in kwargs.items():
                if k not in names:
                    raise Opaque("unknown keyword")
                env[k] = v
        for extra in (fn.args.vararg, fn.args.kwarg):
            if extra is not None:
                env[extra.arg] = frozenset({TOP})
        return env

    def block(self, stmts: list[ast.stmt], states: list[State], me, owner) -> list[State]:
        """Run a block in each world; the worlds that reach its end."""
        for s in stmts:
            nxt: list[State] = []
            for env, attrs in states:
                nxt.extend(self.stmt(s, env, attrs, me, owner))
            states = _cap(nxt)
            if not states:
                break
        return states

    def stmt(self, s: ast.stmt, env, attrs, me, owner) -> list[State]:
        if isinstance(s, ast.Return):
            self.returned[-1].extend(self.effects(s.value, env, attrs, me, owner))
            return []
        if isinstance(s, ast.Raise):
            return []
        if isinstance(s, (ast.If, ast.While, ast.For, ast.AsyncFor)):
            head = s.iter if isinstance(s, (ast.For, ast.AsyncFor)) else s.test
            return [x for e, a in self.effects(head, env, attrs, me, owner) for x in self._compound(s, e, a, me, owner)]
        if isinstance(s, (ast.With, ast.AsyncWith)):
            return self.block(s.body, [(env, attrs)], me, owner)
        if isinstance(s, ast.Try):
            outs = self.block(s.body + s.orelse, [(dict(env), dict(attrs))], me, owner)
            for h in s.handlers:
                outs += self.block(h.body, [(dict(env), dict(attrs))], me, owner)
            return self.block(s.finalbody, _cap(outs), me, owner) if outs else []
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            env = dict(env)
            env[s.name] = frozenset({TOP})
            return [(env, attrs)]
        if isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass, ast.Global, ast.Nonlocal)):
            return [(env, attrs)]
        if isinstance(s, ast.Assert):
            return [(env, attrs)] if self.truth(s.test, env, attrs, me) is not False else []
        if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            # self._make_layer(...) in the value may set attributes
            return [self.assign(s, e, a, me) for e, a in self.effects(s.value, env, attrs, me, owner)]
        if isinstance(s, ast.Delete):
            attrs = dict(attrs)
            for t in s.targets:
                if isinstance(t, ast.Attribute) and is_self_attr(t, me):
                    attrs[t.attr] = frozenset({ABSENT})
            return [(env, attrs)]
        if isinstance(s, ast.Expr):
            return self.effects(s.value, env, attrs, me, owner)
        raise Opaque(type(s).__name__)

    def _compound(self, s: ast.If | ast.While | ast.For | ast.AsyncFor, env, attrs, me, owner) -> list[State]:
        if isinstance(s, ast.If):
            t = self.truth(s.test, env, attrs, me)
            out: list[State] = []
            text = ast.unparse(s.test)
            if t is not False:
                self.tests.append(text)
                out += self.block(s.body, [(dict(env), dict(attrs))], me, owner)
                self.tests.pop()
            if t is not True:
                self.tests.append("not (" + text + ")")
                out += self.block(s.orelse, [(dict(env), dict(attrs))], me, owner)
                self.tests.pop()
            return out
        self.tests.append("a loop")
        try:
            once = self.block(s.body, [(dict(env), dict(attrs))], me, owner)
        finally:
            self.tests.pop()
        states = []
        for e, a in [(env, attrs), *once]:
            e = dict(e)
            for n in _stored_names(s):
                e[n] = frozenset({TOP})
            states.append((e, a))
        return self.block(s.orelse, _cap(states), me, owner)

    def effects(self, e: ast.expr | None, env, attrs, me, owner) -> list[State]:
        """Run the calls inside ``e`` that may set attributes (``self.add_module(...),`` in a
        tuple, ``x = self._make_layer(...)``), in order."""
        states: list[State] = [(env, attrs)]
        for node in _effect_calls(e):
            states = _cap([x for st in states for x in self.expr_call(node, st[0], st[1], me, owner)])
        return states

    def assign(self, s, env, attrs, me) -> tuple[dict, dict]:
        env, attrs = dict(env), dict(attrs)
        targets = s.targets if isinstance(s, ast.Assign) else [s.target]
        if isinstance(s, ast.AugAssign) or s.value is None:
            value = frozenset({TOP})
        else:
            value = self.value(s.value, env, attrs, me)
        for t in targets:
            single = len(targets) == 1 and not isinstance(t, (ast.Tuple, ast.List))
            for x in t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]:
                v = value if single else frozenset({TOP})
                if isinstance(x, ast.Name):
                    env[x.id] = v
                elif is_self_attr(x, me):
                    assert isinstance(x, ast.Attribute)
                    if isinstance(s, ast.AugAssign):
                        v = attrs.get(x.attr, frozenset({TOP})) - {ABSENT} or frozenset({TOP})
                        v = frozenset({TOP}) if any(p[0] == "c" for p in v) else v
                    attrs[x.attr] = v
                    self.sites.setdefault(x.attr, []).append((s.lineno, tuple(self.tests)))
                elif isinstance(x, ast.Subscript) and is_self_attr(x.value, me):
                    assert isinstance(x.value, ast.Attribute)
                    name = x.value.attr
                    attrs[name] = attrs.get(name, frozenset({TOP})) - {ABSENT} or frozenset({TOP})
        return env, attrs

    def expr_call(self, c: ast.Call, env, attrs, me, owner) -> list[State]:
        f = c.func
        if not (
            (
                isinstance(f, ast.Attribute)
                and (f.attr == "__init__" or is_self_attr(f, me) or is_self_attr(f.value, me))
            )
            or (isinstance(f, ast.Name) and f.id == "setattr")
        ):
            return [(env, attrs)]  # cannot change the attributes (seen from this file)
        args = [self.value(a, env, attrs, me) for a in c.args if not isinstance(a, ast.Starred)]
        starred = any(isinstance(a, ast.Starred) for a in c.args) or any(k.arg is None for k in c.keywords)
        kwargs = {k.arg: self.value(k.value, env, attrs, me) for k in c.keywords if k.arg is not None}
        # super().__init__(...) / Base.__init__(self, ...)
        if isinstance(f, ast.Attribute) and f.attr == "__init__":
            base = self._init_target(f.value, owner, me)
            if base == "torch":
                return [(env, attrs)]
            if base is None or isinstance(base, str) or starred:
                raise Opaque("unknown base __init__")
            if not (isinstance(f.value, ast.Call)):
                args = args[1:]  # Base.__init__(self, ...)
            found = base.find_method("__init__")
            if found is None:
                if base.has_unknown_bases:
                    raise Opaque("unknown base")
                return [(env, attrs)]
            return [(env, a) for a in self.call(found[0], found[1], args, kwargs, attrs)]
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == me:
            if f.attr in ("register_buffer", "register_parameter", "add_module", "register_module"):
                return [self._register(c, f.attr, env, attrs, me)]
            found = self.cls.find_method(f.attr)
            if found is not None and not starred:
                return [(env, a) for a in self.call(found[0], found[1], args, kwargs, attrs)]
            if found is not None:
                raise Opaque("starred call")
            return [(env, attrs)]  # an nn.Module method (apply, to, ...)
        if isinstance(f, ast.Attribute) and is_self_attr(f.value, me):
            # self.x.append(...), self.x.update(...): the value changes
            assert isinstance(f.value, ast.Attribute)
            name = f.value.attr
            if f.attr in ("append", "extend", "insert", "update", "add", "setdefault", "pop", "clear"):
                attrs = dict(attrs)
                attrs[name] = attrs.get(name, frozenset({TOP})) - {ABSENT} or frozenset({TOP})
                attrs[name] = frozenset(p for p in attrs[name] if p[0] != "c") | {TOP}
            return [(env, attrs)]
        if isinstance(f, ast.Name) and f.id == "setattr":
            if len(c.args) >= 3 and isinstance(c.args[0], ast.Name) and c.args[0].id == me:
                key = c.args[1]
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    attrs = dict(attrs)
                    attrs[key.value] = args[2] - {ABSENT} or frozenset({TOP})
                    self.sites.setdefault(key.value, []).append((c.lineno, tuple(self.tests)))
                    return [(env, attrs)]
                raise Opaque("setattr with a computed name")
        return [(env, attrs)]

    def _register(self, c: ast.Call, how: str, env, attrs, me) -> tuple[dict, dict]:
        if not c.args or not (isinstance(c.args[0], ast.Constant) and isinstance(c.args[0].value, str)):
            raise Opaque("register with a computed name")
        name = c.args[0].value
        value = (
            c.args[1]
            if len(c.args) > 1
            else next((k.value for k in c.keywords if k.arg in ("tensor", "param", "module")), None)
        )
        vals = self.value(value, env, attrs, me) if value is not None else frozenset({TOP})
        kind = A.TENSOR if how in ("register_buffer", "register_parameter") else A.MODULE
        out = {p if p == lit(None) else ("t", kind, "torch.Tensor" if kind == A.TENSOR else None, "") for p in vals}
        attrs = dict(attrs)
        attrs[name] = frozenset(out)
        self.sites.setdefault(name, []).append((c.lineno, tuple(self.tests)))
        return env, attrs

    def _init_target(self, recv: ast.expr, owner: ClassInfo, me: str | None) -> ClassInfo | str | None:
        """The class whose ``__init__`` ``recv.__init__(...)`` runs: "torch" for torch.nn bases."""
        if isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super":
            bases = owner.bases
            if recv.args and not (
                len(recv.args) == 2 and isinstance(recv.args[0], ast.Name) and recv.args[0].id == owner.name
            ):
                return None
        else:
            name = self.module.resolve_node(recv) or ""
            bases = [name] if name in owner.bases else []
        real = [b for b in bases if b not in ("object",)]
        if not real:
            return None
        first = real[0]
        local = next((lb for lb in owner.local_bases if lb.name == first), None)
        if local is not None:
            return local
        if first.startswith("torch."):
            return "torch"
        return None


def _effect_calls(e: ast.expr | None) -> list[ast.Call]:
    """The calls inside ``e`` that may set attributes: method calls and ``setattr`` (kept on
    the node: every world and configuration asks again)."""
    if e is None:
        return []
    return _EFFECT_CALLS.on(e, _find_effect_calls)


_EFFECT_CALLS: Memo[list[ast.Call]] = Memo("calls that may set attributes")


def _find_effect_calls(e: ast.expr) -> list[ast.Call]:
    return [
        n
        for n in astwalk.walk(e)
        if isinstance(n, ast.Call)
        and (isinstance(n.func, ast.Attribute) or (isinstance(n.func, ast.Name) and n.func.id == "setattr"))
    ]


def _stored_names(s: ast.stmt) -> list[str]:
    """The names ``s`` stores to (kept on the node)."""
    return _STORED.on(s, _find_stored_names)


_STORED: Memo[list[str]] = Memo("names a statement stores")


def _find_stored_names(s: ast.stmt) -> list[str]:
    return [n.id for n in astwalk.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def _is_none(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and e.value is None


def _is_isinstance(e: ast.expr) -> bool:
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "isinstance" and len(e.args) == 2


def is_self_attr(e: ast.AST, me: str | None) -> TypeGuard[ast.Attribute]:
    return me is not None and isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == me


def _truth_of(p: Poss) -> bool | None:
    if p[0] == "c":
        return bool(p[1])
    if p[0] == "t" and p[1] in (A.MODULE, A.FUNCTION):
        return True
    return None


def _cap(states: list[State]) -> list[State]:
    """At most ``MAX_WORLDS`` worlds: worlds with the same attributes become one (their locals
    merged); beyond that, one world holding every possibility."""
    if len(states) <= MAX_WORLDS // 2:
        return states
    groups: dict[frozenset, State] = {}
    for st in states:
        key = frozenset(st[1].items())
        old = groups.get(key)
        groups[key] = st if old is None else (_merge(old, st) or st)
    states = list(groups.values())
    if len(states) <= MAX_WORLDS:
        return states
    merged: State | None = None
    for st in states:
        merged = _merge(merged, st)
    return [merged] if merged is not None else []


def _merge(a: tuple[dict, dict] | None, b: tuple[dict, dict] | None) -> tuple[dict, dict] | None:
    if a is None:
        return b
    if b is None:
        return a
    env = {k: a[0].get(k, frozenset({TOP})) | b[0].get(k, frozenset({TOP})) for k in set(a[0]) | set(b[0])}
    absent = frozenset({ABSENT})
    attrs = {k: a[1].get(k, absent) | b[1].get(k, absent) for k in set(a[1]) | set(b[1])}
    return env, attrs
