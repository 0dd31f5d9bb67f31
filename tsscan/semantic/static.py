"""Conditions the compiler decides while compiling, and the code they make dead.

TorchScript evaluates some ``if`` conditions at compile time and emits only the live branch
(measured with torch 2.13; the oracle's M37 and the probes in tests/test_static.py):

- ``torch.jit.is_scripting()`` is True (so ``x and not torch.jit.is_scripting()`` is False);
- ``self.attr is None`` / ``is not None`` when the attribute's type is not Optional: always
  None (``self.down = None``) or never None (a submodule, a tensor);
- ``self.flag`` for a ``Final`` / ``__constants__`` attribute holding a bool literal.

A dead branch is still *parsed* by the frontend (syntax-level problems fail there), but it is
not type-checked and the functions it calls are not compiled. After a statically taken branch
that returns or raises, the rest of the block is dead too.

Some conditions are static but depend on how the module was built (``self.down = None if
stride == 1 else nn.Conv2d(...)``, ``Final`` flags from constructor arguments): both branches
*may* be dead. Type-level rules stay silent there; reachability still follows their calls.
"""

from __future__ import annotations

import ast

from tsscan.semantic.astwalk import walk as astwalk
from tsscan.semantic.module import ClassInfo, ModuleInfo

TRUE, FALSE, VARIES = "true", "false", "varies"  # None: decided at run time
MAYBE_LEAVES = "maybe-leaves"  # regions: a statement the build with the defaults leaves at
Range = tuple[int, int]


def _self_name(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else None


def _negate(v: str | None) -> str | None:
    return {TRUE: FALSE, FALSE: TRUE}.get(v, v) if v else None


class Evaluator:
    def __init__(
        self,
        mod: ModuleInfo,
        cls: ClassInfo | None,
        self_name: str | None,
        none_locals: dict[str, str] | None = None,
    ) -> None:
        self.mod = mod
        self.cls = cls
        self.me = self_name
        # locals whose None-ness the compiler knows at this point (see :func:`regions`):
        # name -> TRUE (bound to None) or VARIES (None unless an arm that depends on how the
        # module was built gave it a value)
        self.none_locals = none_locals if none_locals is not None else {}

    def __call__(self, test: ast.expr) -> str | None:
        if isinstance(test, ast.Call) and not test.args and not test.keywords:
            if self.mod.resolve_node(test.func) == "torch.jit.is_scripting":
                return TRUE
            return None
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return _negate(self(test.operand))
        if isinstance(test, ast.BoolOp):
            vals = [self(v) for v in test.values]
            decisive, neutral = (FALSE, TRUE) if isinstance(test.op, ast.And) else (TRUE, FALSE)
            if decisive in vals:
                return decisive
            if all(v == neutral for v in vals):
                return neutral
            if VARIES in vals:
                # decided while compiling in the builds where a varying part is decisive, at
                # run time in the others (``self.mode == "a" and self.proj is not None``)
                return VARIES
            return None
        if (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Is, ast.IsNot))
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        ):
            v = self._is_none(test.left)
            return _negate(v) if isinstance(test.ops[0], ast.IsNot) else v
        attr = self._self_attr(test)
        if attr is not None and self.cls is not None:
            return self._constant_truth(attr)
        return None

    def at_defaults(self, test: ast.expr) -> str | None:
        """TRUE/FALSE for a test the compiler decides per build (VARIES) when the build with
        the constructor's defaults decides it: ``self.x is None`` where ``__init__`` stores a
        parameter whose default is None (``self.x = x``); else None."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return _negate(self.at_defaults(test.operand))
        if not (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Is, ast.IsNot))
            and _is_none_literal(test.comparators[0])
        ):
            return None
        name = self._self_attr(test.left)
        if name is None or self.cls is None or self._is_none(test.left) != VARIES:
            return None
        values = self._values(name) or []
        if not values or not all(
            _is_none_literal(v) or (isinstance(v, ast.Name) and self._none_default_param(name, v.id)) for v in values
        ):
            return None
        return FALSE if isinstance(test.ops[0], ast.IsNot) else TRUE

    def _self_attr(self, node: ast.expr) -> str | None:
        if (
            self.me is not None
            and isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == self.me
        ):
            return node.attr
        return None

    def _values(self, name: str) -> list[ast.expr | None] | None:
        """Every value ``__init__`` gives the attribute (None: unknown, e.g. set elsewhere)."""
        assert self.cls is not None
        for c in self.cls.mro():
            if name in c.init_attrs:
                a = c.init_attrs[name]
                # an annotation in ``__init__`` (``self.t: Optional[nn.Module] = None``) does not
                # type the attribute: the compiler types it from the value (measured with
                # torch 2.13; it warns that it ignores such annotations)
                if a.where not in ("init", "buffer", "parameter", "submodule"):
                    return None
                return [a.value, *c.init_assigned_later.get(name, [])]
        return None

    def _is_none(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.none_locals.get(node.id)
        name = self._self_attr(node)
        if name is None or self.cls is None or self._unknown_base_may_type(name):
            return None
        if self.cls.class_attribute(name) is not None:
            return None  # declared on the class (maybe Optional): decided at run time
        values = self._values(name)
        if not values or any(v is None for v in values):
            return None
        kinds = set()
        for v in values:
            if isinstance(v, ast.Constant) and v.value is None:
                kinds.add("none")
            elif isinstance(v, ast.IfExp):
                arms = [v.body, v.orelse]
                nones = [isinstance(a, ast.Constant) and a.value is None for a in arms]
                kinds.add("varies" if any(nones) and not all(nones) else ("none" if all(nones) else "value"))
            elif isinstance(v, (ast.Call, ast.List, ast.Dict, ast.Tuple)) or (
                isinstance(v, ast.Constant) and v.value is not None
            ):
                kinds.add("value")
            elif isinstance(v, ast.Name) and self._none_in_some_builds(name, v.id):
                # ``self.x = x`` with ``x=None``, or ``x = None`` then ``if ...: x = ...``: None
                # in some builds, a value in others; the compiler types the attribute from the
                # value it holds, so it decides the test per build
                kinds.add("varies")
            else:
                kinds.add("unknown")  # a name or an expression: could be None
        if "unknown" in kinds:
            # None on some way through ``__init__``: the test is decided per build
            return VARIES if "none" in kinds or "varies" in kinds else None
        if kinds == {"none"}:
            return TRUE
        if kinds == {"value"}:
            # only Calls that build modules/tensors are surely never None
            return FALSE if all(not isinstance(v, ast.Call) or self._builds_object(v) for v in values) else None
        return VARIES

    def _unknown_base_may_type(self, name: str) -> bool:
        """A base we cannot see may declare ``name`` (a class annotation makes the attribute's
        type the declared one, maybe Optional). A private torch base (``_Loss``) declares only
        its own attributes, so an attribute the class's own ``__init__`` sets is still typed
        from its value."""
        assert self.cls is not None
        if not self.cls.has_unknown_bases:
            return False
        local = {lb.name for lb in self.cls.local_bases}
        if any(not b.startswith("torch.") and b != "object" and b not in local for b in self.cls.bases):
            return True
        return name not in self.cls.init_attrs

    def _none_in_some_builds(self, attr: str, name: str) -> bool:
        """In the ``__init__`` that sets ``self.<attr> = <name>``, ``name`` is a parameter whose
        default is ``None`` and that is never bound again, or a local that some assignment binds
        to ``None``."""
        assert self.cls is not None
        for c in self.cls.mro():
            if attr not in c.init_attrs:
                continue
            init = c.methods.get("__init__")
            if init is None:
                return False
            args = init.args
            if any(a.arg == name for a in args.posonlyargs + args.args + args.kwonlyargs):
                return self._none_default_param(attr, name)
            return any(
                isinstance(st, ast.Assign)
                and _is_none_literal(st.value)
                and any(isinstance(t, ast.Name) and t.id == name for t in st.targets)
                for st in astwalk(init)
            )
        return False

    def _none_default_param(self, attr: str, name: str) -> bool:
        """``name`` is a parameter of the ``__init__`` that sets ``self.<attr>``, with the
        default ``None``, and that ``__init__`` never binds again."""
        assert self.cls is not None
        for c in self.cls.mro():
            if attr not in c.init_attrs:
                continue
            init = c.methods.get("__init__")
            if init is None:
                return False
            args = init.args
            positional = args.posonlyargs + args.args
            pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
            if not any(a.arg == name and _is_none_literal(d) for a, d in pairs):
                return False
            return not any(
                isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in astwalk(init)
            )
        return False

    def _builds_object(self, call: ast.Call) -> bool:
        name = self.mod.resolve_node(call.func) or ""
        last = name.rsplit(".", 1)[-1]
        return (
            (name.startswith("torch.") and last[:1].isupper())
            or name in self.mod.classes
            or (name.startswith("torch.") and last in ("zeros", "ones", "empty", "tensor", "randn", "rand", "arange"))
        )

    def _constant_truth(self, name: str) -> str | None:
        assert self.cls is not None
        if not any(name in c.constants for c in self.cls.mro()):
            return None
        values = self._values_any(name)
        if any(isinstance(v, ast.Constant) and not isinstance(v.value, bool) for v in values):
            return None  # only bool constants are folded (a Final int is a run-time test)
        lits = [v.value for v in values if isinstance(v, ast.Constant)]
        if not values or len(lits) != len(values):
            # set from constructor arguments: static per instance if it is a bool
            return VARIES if self._declared_bool(name) else None
        if all(lits):
            return TRUE
        if not any(lits):
            return FALSE
        return VARIES

    def _declared_bool(self, name: str) -> bool:
        assert self.cls is not None
        for c in self.cls.mro():
            a = c.class_attrs.get(name) or c.init_attrs.get(name)
            if a is not None and a.annotation and "bool" in a.annotation:
                return True
        return False

    def _values_any(self, name: str) -> list[ast.expr]:
        assert self.cls is not None
        for c in self.cls.mro():
            if name in c.init_attrs:
                vals = [c.init_attrs[name].value, *c.init_assigned_later.get(name, [])]
                return [v for v in vals if v is not None] if all(v is not None for v in vals) else []
            ca = c.class_attrs.get(name)
            if ca is not None and ca.value is not None:
                return [ca.value]
        return []


def regions(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, mod: ModuleInfo, cls: ClassInfo | None
) -> tuple[list[Range], list[Range]]:
    """(dead, maybe dead) line ranges of a compiled function's body."""
    me = _self_name(fn) if cls is not None else None
    # a parameter without annotation is a Tensor to the compiler, never None, and so is one
    # annotated with a type that has no None in it: the compiler folds ``if bias is not None:
    # raise ...`` (measured with torch 2.13: the rest is not compiled)
    params = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    none_locals: dict[str, str] = {
        p.arg: FALSE for k, p in enumerate(params) if _never_none(p.annotation) and not (k == 0 and p.arg == me)
    }
    ev = Evaluator(mod, cls, me, none_locals)
    dead: list[Range] = []
    maybe: list[Range] = []

    def span(stmts: list[ast.stmt]) -> Range | None:
        if not stmts:
            return None
        return (stmts[0].lineno, max(s.end_lineno or s.lineno for s in stmts))

    def block(stmts: list[ast.stmt], top: bool = False) -> bool:
        """Walk a block; True when it surely leaves (return/raise) in compiled code."""
        for i, stmt in enumerate(stmts):
            if top and _binds_none(stmt) is not None:
                none_locals[_binds_none(stmt) or ""] = TRUE
                continue
            leaves = statement(stmt)
            if leaves == MAYBE_LEAVES:
                # the defaults build leaves here; other builds may go on
                if rest := span(stmts[i + 1 :]):
                    maybe.append(rest)
            elif leaves:
                if rest := span(stmts[i + 1 :]):
                    dead.append(rest)
                return True
        return False

    def statement(stmt: ast.stmt) -> bool | str:
        if isinstance(stmt, (ast.Return, ast.Raise)):
            return True
        if isinstance(stmt, ast.If):
            v = ev(stmt.test)
            if v == TRUE:
                if (else_span := span(stmt.orelse)) is not None:
                    dead.append(else_span)
                forget(stmt.body)
                return block(stmt.body)
            if v == FALSE:
                if (body_span := span(stmt.body)) is not None:
                    dead.append(body_span)
                forget(stmt.orelse)
                return block(stmt.orelse)
            if v == VARIES:
                # the arm the build with the defaults compiles stays checked when known
                live = {TRUE: 0, FALSE: 1}.get(ev.at_defaults(stmt.test) or "")
                for k, part in enumerate((stmt.body, stmt.orelse)):
                    r = span(part)
                    if r and k != live:
                        maybe.append(r)
                # a None local given a value directly in such an arm is None in some builds
                # and not in others: a later ``is None`` test on it is decided per build too
                given = {n for part in (stmt.body, stmt.orelse) for n in _direct_binds(part)}
                varies = {n for n in given if none_locals.get(n) == TRUE}
                forget(stmt.body + stmt.orelse)
                a, b = block(stmt.body), block(stmt.orelse)
                none_locals.update(dict.fromkeys(varies, VARIES))
                return MAYBE_LEAVES if (a and live == 0) or (b and live == 1) else False
            forget(stmt.body + stmt.orelse)
            a, b = block(stmt.body), block(stmt.orelse)
            return a and b
        forget([stmt])
        for field in ("body", "orelse", "finalbody"):
            sub = getattr(stmt, field, None)
            if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                block(sub)
        for h in getattr(stmt, "handlers", []) or []:
            block(h.body)
        for case in getattr(stmt, "cases", []) or []:
            block(case.body)
        return False

    def forget(stmts: list[ast.stmt]) -> None:
        """Locals bound in ``stmts`` (other than to None) lose what is known of them."""
        for st in stmts:
            for n in astwalk(st):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and _binds_none(st) != n.id:
                    none_locals.pop(n.id, None)

    block(fn.body, top=True)
    return dead, maybe


_NEVER_NONE = {"Tensor", "torch.Tensor", "int", "float", "bool", "str"}
_CONTAINERS = ("List[", "Tuple[", "Dict[", "list[", "tuple[", "dict[", "typing.List[", "typing.Tuple[", "typing.Dict[")


def _never_none(annotation: ast.expr | None) -> bool:
    """A parameter so annotated (or not annotated: a Tensor) can never be None in compiled code."""
    if annotation is None:
        return True
    text = ast.unparse(annotation)
    if text in _NEVER_NONE:
        return True
    return text.startswith(_CONTAINERS) and not any(w in text for w in ("Optional", "None", "Union", "Any", "|"))


def _is_none_literal(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _binds_none(stmt: ast.stmt) -> str | None:
    """``x`` for ``x = None`` (the compiler types ``x`` NoneType)."""
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is None
    ):
        return stmt.targets[0].id
    return None


def _direct_binds(stmts: list[ast.stmt]) -> set[str]:
    """Names a block gives a value other than None by a plain assignment of its own."""
    out: set[str] = set()
    for st in stmts:
        if isinstance(st, (ast.Assign, ast.AnnAssign)) and _binds_none(st) is None:
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            out |= {t.id for t in targets if isinstance(t, ast.Name)}
    return out


def in_ranges(line: int, ranges: list[Range]) -> bool:
    return any(lo <= line <= hi for lo, hi in ranges)
