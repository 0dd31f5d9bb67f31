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

from tsscan.semantic.module import ClassInfo, ModuleInfo

TRUE, FALSE, VARIES = "true", "false", "varies"  # None: decided at run time
Range = tuple[int, int]


def _self_name(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    args = fn.args.posonlyargs + fn.args.args
    return args[0].arg if args else None


def _negate(v: str | None) -> str | None:
    return {TRUE: FALSE, FALSE: TRUE}.get(v, v) if v else None


class Evaluator:
    def __init__(self, mod: ModuleInfo, cls: ClassInfo | None, self_name: str | None) -> None:
        self.mod = mod
        self.cls = cls
        self.me = self_name

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
            if all(v in (neutral, VARIES) for v in vals):
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
                if a.annotation or a.where not in ("init", "buffer", "parameter", "submodule"):
                    return None
                return [a.value, *c.init_assigned_later.get(name, [])]
        return None

    def _is_none(self, node: ast.expr) -> str | None:
        name = self._self_attr(node)
        if name is None or self.cls is None or self.cls.has_unknown_bases:
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
            else:
                return None  # a name or an expression: could be None
        if kinds == {"none"}:
            return TRUE
        if kinds == {"value"}:
            # only Calls that build modules/tensors are surely never None
            return FALSE if all(not isinstance(v, ast.Call) or self._builds_object(v) for v in values) else None
        return VARIES

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
    ev = Evaluator(mod, cls, me)
    dead: list[Range] = []
    maybe: list[Range] = []

    def span(stmts: list[ast.stmt]) -> Range | None:
        if not stmts:
            return None
        return (stmts[0].lineno, max(s.end_lineno or s.lineno for s in stmts))

    def block(stmts: list[ast.stmt]) -> bool:
        """Walk a block; True when it surely leaves (return/raise) in compiled code."""
        for i, stmt in enumerate(stmts):
            if statement(stmt):
                rest = span(stmts[i + 1 :])
                if rest:
                    dead.append(rest)
                return True
        return False

    def statement(stmt: ast.stmt) -> bool:
        if isinstance(stmt, (ast.Return, ast.Raise)):
            return True
        if isinstance(stmt, ast.If):
            v = ev(stmt.test)
            if v == TRUE:
                if (else_span := span(stmt.orelse)) is not None:
                    dead.append(else_span)
                return block(stmt.body)
            if v == FALSE:
                if (body_span := span(stmt.body)) is not None:
                    dead.append(body_span)
                return block(stmt.orelse)
            if v == VARIES:
                for part in (stmt.body, stmt.orelse):
                    r = span(part)
                    if r:
                        maybe.append(r)
            a, b = block(stmt.body), block(stmt.orelse)
            return a and b and v != VARIES
        for field in ("body", "orelse", "finalbody"):
            sub = getattr(stmt, field, None)
            if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                block(sub)
        for h in getattr(stmt, "handlers", []) or []:
            block(h.body)
        for case in getattr(stmt, "cases", []) or []:
            block(case.body)
        return False

    block(fn.body)
    return dead, maybe


def in_ranges(line: int, ranges: list[Range]) -> bool:
    return any(lo <= line <= hi for lo, hi in ranges)
