"""The walk shared by the call-checking rules (TS410, TS411): not a rule file (leading ``_``).

For each call in compiled code it asks the model for the callee
(:func:`tsscan.semantic.callees.resolve`), the types of the arguments at the call (the flow
types where the call lies, ``FunctionTypes.type_at``: small statements, if/while tests, for
iterables) and the verdict (:func:`tsscan.semantic.calls.check`);
each rule reports the verdicts of its kind.
"""

from __future__ import annotations

import libcst as cst

from tsscan.rule import Fix, Rule
from tsscan.semantic import callees, calls
from tsscan.semantic.memo import Memo
from tsscan.semantic.targets import bound_names
from tsscan.semantic.types import in_quiet_arm, module_attribute_type, param_list
from tsscan.walk import children, statements

# (libcst's node classes are ABCs: a type in a set is cheaper than isinstance)
_ASSIGNMENTS = frozenset({cst.Assign, cst.AugAssign, cst.AnnAssign})

# TS410 and TS411 both walk each function: what they ask of it is made once
_TESTED_NAMES: Memo[set[str]] = Memo("names a test may refine")
_QUIETLY_ASSIGNED: Memo[set[str]] = Memo("names assigned in arms the compiler may drop")


def _assigned_in(fn: cst.FunctionDef, quiet: set[int]) -> set[str]:
    """Names assigned in ``if`` arms the compiler may drop on types the model does not know
    (the flow walk does not follow their types past such an ``if``)."""
    out: set[str] = set()
    if not quiet:
        return out
    for n in statements(fn.body):  # assignments are statements: never inside an expression
        if type(n) in _ASSIGNMENTS and id(n) in quiet:
            assert isinstance(n, (cst.Assign, cst.AugAssign, cst.AnnAssign))
            targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]
            out.update(x.value for t in targets for x in bound_names(t))
    return out


class CallCheckRule(Rule):
    """Base of the call-checking rules: subclasses set ``verdict_kind`` and may narrow ``wanted``
    and add a ``hint``."""

    verdict_kind = ""

    def on_function(self) -> None:
        self._scope = 0  # > 0 inside comprehensions and lambdas: their names are their own
        self._locals: set[str] | None = None
        self._unannotated: set[str] = set()
        self._refined: set[str] = set()
        self._retyped: set[str] = set()
        self._quietly_assigned: set[str] = set()
        self._bad_uses: set[str] = set()
        self._retype_nodes: dict[str, set[int]] = {}
        self._targets: set[int] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is self.ctx.node:
            types = self.ctx.types
            self._locals = set(self.ctx.local_names)
            self._unannotated = {p.name.value for p in param_list(node) if p.annotation is None}
            self._refined = self.ctx.memo(_TESTED_NAMES, node, lambda: callees.tested_names(node))
            retypes = [*types.retypes, *types.quiet_retypes]  # also in arms the compiler may drop
            self._retyped = {r.var for r in retypes} | {b.var for b in types.bad_uses}
            self._quietly_assigned = self.ctx.memo(
                _QUIETLY_ASSIGNED, node, lambda: _assigned_in(node, types.quiet_nodes)
            )
            self._retyped |= self._quietly_assigned
            self._retype_nodes = {}
            for r in retypes:
                self._retype_nodes.setdefault(r.var, set()).add(id(r.node))
            self._bad_uses = {b.var for b in types.bad_uses}
            self._targets = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        self._targets = {id(n) for t in node.targets for n in (t.target, *bound_names(t.target))}

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._targets = set()

    def _enter(self, node: cst.CSTNode) -> None:
        self._scope += 1

    def _exit(self, original_node: cst.CSTNode) -> None:
        self._scope -= 1

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda = _enter
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = leave_Lambda = _exit

    def _type(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.List) and not expr.elements:
            return None  # `[]` as an argument takes the parameter's list type (`torch.rand([])`)
        t = self.ctx.types.type_at(expr)  # None where the flow walk recorded no variable types
        if t is None:
            return None
        names = self._names_in(expr)
        if any(self._retyped_before(n) for n in names & self._retyped):
            return None  # the compiler stops at the retyping first (TS223's)
        if "Optional[" in t or "Union[" in t or "None" in t:
            if names & self._refined:
                return None  # an `is None` test, assert or isinstance the flow walk may not follow
            if self._has_self_attribute(expr):
                # typed from an `__init__` parameter's annotation; the compiler types the
                # attribute from the value it holds, which is one member of the Union
                return None
        return t

    def _retyped_before(self, name: str) -> bool:
        """The variable may be retyped before the call: not when its only retyping is the
        statement the call is in (``x = self.proj(x)``: the call is compiled first)."""
        if name in self._bad_uses or name in self._quietly_assigned:
            return True
        return not self._retype_nodes.get(name, set()) <= self._targets

    def _has_self_attribute(self, expr: cst.BaseExpression) -> bool:
        """``expr`` reads an attribute whose type may be an Optional or a Union (or one the
        model does not know) that is not the type of the value it holds."""
        stack: list[cst.CSTNode] = [expr]
        while stack:
            n = stack.pop()
            name = self.ctx.self_attr(n)
            if name is not None:
                t = module_attribute_type(self.ctx, name)
                if t is None or "Optional[" in t or "Union[" in t or "None" in t:
                    return True
            stack.extend(children(n))
        return False

    @staticmethod
    def _names_in(expr: cst.BaseExpression) -> set[str]:
        out: set[str] = set()
        stack: list[cst.CSTNode] = [expr]
        while stack:
            n = stack.pop()
            if type(n) is cst.Name:
                out.add(n.value)
            stack.extend(children(n))
        return out

    def _inferred(self, expr: cst.BaseExpression) -> bool:
        return type(expr) is cst.Name and expr.value in self._unannotated

    def visit_Call(self, node: cst.Call) -> None:
        if self._scope or self._locals is None:
            return
        if any(a.star for a in node.args):
            return
        callee = callees.resolve(self.ctx, node, self._locals, self._type)
        if callee is None or not callee.signatures:
            return
        positional = [a.value for a in node.args if a.keyword is None]
        named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if not callee.user and any(all(k not in {p.name for p in s.params} for s in callee.signatures) for k in named):
            return  # a keyword no overload has: TS408's (the compiler's reason names it)
        verdict = calls.check(
            callee,
            [self._type(e) for e in positional],
            {k: self._type(e) for k, e in named.items()},
            [self._inferred(e) for e in positional],
            {k: self._inferred(e) for k, e in named.items()},
        )
        if verdict is None or verdict.kind != self.verdict_kind or in_quiet_arm(self.ctx, node):
            return
        if not self.wanted(verdict, callee):
            return
        where = f" ({callee.where})" if callee.where else ""
        self.report(
            node,
            f"`{callee.shown}`{where} does not take these arguments in TorchScript: "
            f'the compiler will say "{verdict.compiler_says}"{self.hint(verdict)}',
            self.fix(verdict, callee, named, positional),
        )

    def wanted(self, verdict: calls.Verdict, callee: calls.Callee) -> bool:
        return True

    def fix(
        self,
        verdict: calls.Verdict,
        callee: calls.Callee,
        named: dict[str, cst.BaseExpression],
        positional: list[cst.BaseExpression],
    ) -> Fix | None:
        """The fix of a reported call (``named``: its keyword arguments, ``positional``: the
        others), or None."""
        return None

    def hint(self, verdict: calls.Verdict) -> str:
        return ""
