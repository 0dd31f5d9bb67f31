"""A small model of what TorchScript infers for one compiled function: what type rules need.

This is not a type checker. It knows the handful of facts the compiler applies and that
flow-dependent rules need, and it answers "unknown" (``None``) whenever it is not sure, so
that rules built on it stay silent rather than guess:

* a parameter without annotation is a ``Tensor``, whatever its default;
* a local takes the type of its first assignment; ``[]`` is ``List[Tensor]``, ``None`` is
  ``NoneType`` unless the local is annotated ``Optional[...]``;
* a straight-line rebinding in the same block may change the type; an assignment inside a
  nested block (``if`` arm, loop body) to a variable of an enclosing block may not;
* where the arms of an ``if`` merge, a variable defined in one arm only (the other arm not
  ending in ``return``/``raise``/``break``/``continue``) is undefined afterwards, and one
  defined with different types in the two arms has no type; a variable first defined in a
  loop body is undefined after the loop;
* all ``return`` statements of a function without return annotation share one type
  (``None`` and ``T`` merge to ``Optional[T]``);
* a loop over a module container (``for blk in self.blocks``, ``enumerate``/``zip`` of one)
  is unrolled: its body is straight-line code in the enclosing block, and what it binds has
  an unknown type afterwards (the number of copies is not known here);
* a comprehension's targets are its own, not the function's variables;
* an annotated variable rebound on a straight line takes the new type; a Tensor stored
  into an existing ``int``/``float`` variable is converted (``aten::IntImplicit``), not a
  type change;
* ``if`` tests the compiler decides while compiling (:mod:`tsscan.semantic.static`: ``torch.jit.is_scripting()``
  and ``and``/``or``/``not`` of it, attributes always or never None, ``Final`` bools) keep
  only the live arm; after a taken arm that returns or raises the block ends.

Types are plain strings in TorchScript's spelling: ``Tensor``, ``int``, ``float``, ``bool``,
``str``, ``None``, ``List[int]``, ``Tuple[Tensor, int]``, ``Optional[Tensor]``, ``Any``.
The analysis runs on the libcst ``FunctionDef`` a rule visits and is cached on the rule's
``FunctionContext``, so the rules that use it share one pass per function. What it learns is a
:class:`~tsscan.semantic.function_types.FunctionTypes`; what ``is None`` tests tell it is
:mod:`tsscan.semantic.none_tests`.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from tsscan.semantic.annotations import (
    Stmts,
    annotation_type,
    assignable,
    implicitly_converted,
    param_list,
    split_type_args,
    unifiable,
    walk_expr,
)
from tsscan.semantic.branches import _has_isinstance, _scripting_live_arm, _static_truth, unrolled_loop
from tsscan.semantic.exprs import ExprTyper
from tsscan.semantic.flow_uses import Uses
from tsscan.semantic.function import FunctionFacts as FunctionContext
from tsscan.semantic.function_types import CONFLICT, MAYBE, FunctionTypes, ReturnInfo, Retype
from tsscan.semantic.memo import Memo
from tsscan.semantic.none_tests import none_test_live_arm, refinements, uncertain_none_test
from tsscan.semantic.targets import bound_names
from tsscan.walk import walk


class _Frame:
    def __init__(self, loop: bool) -> None:
        self.vars: dict[str, str | None] = {}
        self.loop = loop


def _terminates(block: Stmts) -> bool:
    if not block:
        return False
    last = block[-1]
    if isinstance(last, cst.SimpleStatementLine):
        # only return/raise: TorchScript still wants variables defined in an arm that ends
        # in break/continue ("y is not defined in the true branch")
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    if isinstance(last, cst.If):
        if last.orelse is None:
            return False
        if isinstance(last.orelse, cst.Else):
            return _terminates(last.body.body) and _terminates(last.orelse.body.body)
        return _terminates(last.body.body) and _terminates([last.orelse])
    return False


class _Analyser:
    def __init__(self, fn: cst.FunctionDef, ctx: FunctionContext | None, eager: bool = False) -> None:
        self.fn = fn
        self.ctx = ctx
        self.eager = eager  # see analyse
        self.out = FunctionTypes(fn, ctx=ctx)
        self.frames: list[_Frame] = [_Frame(False)]
        self.declared_level: dict[str, int] = {}  # frame depth of each annotation
        # annotated names a straight-line assignment gave another type: ordinary variables now
        self.rebound: set[str] = set()
        # ids of ``if`` statements whose statically taken arm returns or raises
        self.leaves: set[int] = set()
        # Optional locals refined by the ``is not None`` / ``is None`` test of the arm being walked
        self.refined: list[dict[str, str]] = []
        # > 0 inside arms the compiler may drop (an ``is None`` test it may fold on a type we
        # do not know): walked for the variables they bind, but nothing in them is reported
        self.quiet = 0
        self.type_comment = False
        self.current_assign: cst.Assign | None = None
        self.maybe_origin: dict[str, cst.If] = {}  # variable -> the ``if`` that left it undefined
        self.elif_head: dict[int, cst.If] = {}  # id of an ``elif`` -> the ``if`` its chain starts with
        self.typer = ExprTyper(ctx, self.lookup)
        self.out.typer = ExprTyper(ctx, self._declared_lookup)

    # ---- environment
    def lookup(self, name: str) -> str | None:
        for ref in reversed(self.refined):
            if name in ref:
                return ref[name]
        for fr in reversed(self.frames):
            if name in fr.vars:
                t = fr.vars[name]
                return None if t in (MAYBE, CONFLICT) else t
        return None

    def _refinements(self, test: cst.BaseExpression, true_arm: bool) -> dict[str, str]:
        """What ``test`` tells the compiler of the variables in one arm of an ``if``."""
        return refinements(test, true_arm, self.lookup, lambda e: annotation_type(e, self.ctx))

    def _union_test(self, test: cst.BaseExpression) -> bool:
        """``test`` is one ``isinstance`` test (or its ``not``) that selects a member of a
        ``Union``/``Optional`` variable: decided at run time, so the compiler compiles both arms,
        each with the variable refined (other ``isinstance`` tests may be decided when compiling,
        dropping an arm)."""
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test = test.expression
        return (
            isinstance(test, cst.Call) and bool(self._refinements(test, True)) and bool(self._refinements(test, False))
        )

    def _declared_lookup(self, name: str) -> str | None:
        return self.out.declared.get(name) or self.out.params.get(name)

    def _find(self, name: str) -> tuple[int, str | None]:
        for i in range(len(self.frames) - 1, -1, -1):
            if name in self.frames[i].vars:
                return i, self.frames[i].vars[name]
        return -1, None

    def assign(self, target: cst.Name, t: str | None, value: cst.CSTNode | None = None) -> None:
        name = target.value
        for ref in self.refined:
            ref.pop(name, None)  # a new value: the test no longer says anything about it
        if name in self.out.declared and name not in self.rebound:
            # annotated: the annotation is its type; an empty literal takes it as a hint
            level = self.declared_level.get(name, 0)
            empty = isinstance(value, (cst.List, cst.Dict)) and not value.elements
            declared = self.out.declared[name]
            if t is None and not empty and len(self.frames) - 1 == level:
                # a straight-line rebinding to a value of unknown type (`images, targets =
                # self.transform(images, targets)`): the variable's type is unknown from here on
                self.rebound.add(name)
                self.frames[level].vars[name] = None
                return
            if t is None or empty or assignable(declared, t) or implicitly_converted(declared, t):
                self._give_declared(name, level, None if t is None or empty or t == declared else t)
                return
            if len(self.frames) - 1 == level:
                # a straight-line rebinding in the annotation's own block gives the variable
                # the new type (`x: List[Tensor]` then `x = torch.cat(x, 1)` compiles); from
                # here on it is an ordinary variable
                self.rebound.add(name)
                self.frames[level].vars[name] = t
                return
            in_loop = any(fr.loop for fr in self.frames[level + 1 :])
            if not self.quiet:
                self.out.retypes.append(Retype(target, name, declared, t, in_loop))
            return
        i, old = self._find(name)
        top = len(self.frames) - 1
        if i == -1 or old in (MAYBE, CONFLICT):
            self.frames[top].vars[name] = t
            return
        if i == top:
            self.frames[top].vars[name] = t  # straight-line rebinding may change the type
            return
        if isinstance(value, cst.List) and not value.elements and old is not None and old.startswith("List["):
            return  # `x = []` in a nested block takes x's list type as its hint (not so for `{}`)
        if old is not None and t is not None and not assignable(old, t) and not implicitly_converted(old, t):
            in_loop = any(fr.loop for fr in self.frames[i + 1 :])
            if not self.quiet:
                self.out.retypes.append(Retype(target, name, old, t, in_loop))
            elif old == "None":
                self.out.quiet_retypes.append(Retype(target, name, old, t, in_loop))
            return
        self.frames[i].vars[name] = old if t is None else (old or t)

    def _give_declared(self, name: str, level: int, t: str | None) -> None:
        """An annotated variable is given a value the annotation accepts. The compiler checks
        the value against the annotation but types the variable by the value it holds (``y:
        Optional[Tensor] = None`` then ``y = x * 2``: a Tensor from there on, measured with
        torch 2.13); where arms or loop iterations merge, a type that differs goes back to the
        annotation's. ``t``: the value's type when narrower than the annotation, else None."""
        declared = self.out.declared[name]
        if t is not None and implicitly_converted(declared, t):
            t = None  # converted to the annotated int/float
        # in a nested block, the block's own frame holds it until the merge (_merge_declared)
        self.frames[-1].vars[name] = t or declared

    def _merge_declared(self, blocks: list[dict[str, str | None]], falls_through: bool) -> None:
        """After blocks that may each have given an annotated variable of the enclosing code a
        value (the arms of an ``if``, a loop body): the type they agree on, else the annotated
        type. ``falls_through``: the code may also skip every block (an ``if`` without
        ``else``, a loop that runs no iteration), keeping the type from before."""
        names = {n for b in blocks for n in b if n in self.out.declared and n not in self.rebound}
        for name in names:
            i, before = self._find(name)
            if i == -1:
                continue
            types = {b.get(name, before) for b in blocks}
            if falls_through:
                types.add(before)
            # in the enclosing block's own frame: inside an arm of an outer `if`, the outer merge
            # must see what this arm did (writing the defining frame would leak it to the others)
            self.frames[-1].vars[name] = types.pop() if len(types) == 1 else self.out.declared[name]

    # ---- uses
    def uses(self, node: cst.CSTNode) -> None:
        walk(node, Uses(self))

    # ---- statements
    def block(self, stmts: Stmts) -> bool:
        """Walk a block; True when a statically taken arm in it returns or raises (the rest
        of the block is not compiled)."""
        depth = len(self.refined)  # refinements an early exit makes last to the block's end
        try:
            for s in stmts:
                self.statement(s)
                if isinstance(s, cst.If) and id(s) in self.leaves:
                    return True
            return False
        finally:
            del self.refined[depth:]

    def statement(self, s: cst.BaseStatement | cst.BaseSmallStatement) -> None:
        if isinstance(s, cst.SimpleStatementLine):
            comment = s.trailing_whitespace.comment
            # ``x = []  # type: List[int]``: another rule's finding; do not guess the type here
            self.type_comment = comment is not None and comment.value.lstrip("#").strip().startswith("type:")
            for small in s.body:
                self.small(small)
            self.type_comment = False
        elif isinstance(s, cst.If):
            self.if_(s)
        elif isinstance(s, cst.For) and unrolled_loop(s.iter, self.ctx):
            self.out.env_at[id(s)] = self._flat_env()  # for the iterable
            self.uses(s.iter)
            self._unrolled(s)
        elif isinstance(s, (cst.For, cst.While)):
            self.out.env_at[id(s)] = self._flat_env()  # for the iterable or the test
            if isinstance(s, cst.For):
                self.uses(s.iter)
            else:
                self.uses(s.test)
            fr = _Frame(True)
            self.frames.append(fr)
            if isinstance(s, cst.For):
                for nm in bound_names(s.target):
                    fr.vars[nm.value] = self._loop_target_type(s)
            self.block(s.body.body)
            self.frames.pop()
            self._merge_declared([fr.vars], True)
            # names first bound in the loop (its target too) are undefined after it
            for name in fr.vars:
                if self._find(name)[0] == -1:
                    self.frames[-1].vars[name] = MAYBE
                    self.maybe_origin.pop(name, None)
        elif isinstance(s, cst.With):
            for item in s.items:
                self.uses(item.item)
                if item.asname is not None:
                    for nm in bound_names(item.asname.name):
                        self.assign(nm, None)
            self.block(s.body.body)
        elif isinstance(s, cst.Try) and self.eager:
            self._try(s)
        elif isinstance(s, cst.FunctionDef):
            pass
        else:  # try and other compound statements: be quiet
            pass

    def _try(self, s: cst.Try) -> None:
        """The eager view's ``try`` (the compiler rejects it, so its own view never walks one):
        each block in a frame of its own, as an arm that may stop anywhere; what a block binds
        first has an unknown type after the statement."""
        suites = [s.body, *(h.body for h in s.handlers), *(x.body for x in (s.orelse, s.finalbody) if x is not None)]
        self.quiet += 1
        try:
            for suite in suites:
                fr = _Frame(False)
                self.frames.append(fr)
                self.block(suite.body)
                self.frames.pop()
                self._merge_declared([fr.vars], True)
                for name in fr.vars:
                    if self._find(name)[0] == -1:
                        self.frames[-1].vars[name] = None
        finally:
            self.quiet -= 1

    def _unrolled(self, s: cst.For) -> None:
        """A loop over a module container: the compiler unrolls it, one copy of the body per
        module, so the body is straight-line code in the enclosing block. The number of copies
        is not known here (none at all for an empty container), so every variable the body
        binds or changes has an unknown type afterwards."""
        top = self.frames[-1]
        before = dict(top.vars)
        for nm in bound_names(s.target):
            top.vars[nm.value] = None
        self.block(s.body.body)
        for name, t in list(top.vars.items()):
            if name not in before or before[name] != t:
                top.vars[name] = None

    def _loop_target_type(self, s: cst.For) -> str | None:
        it = s.iter
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range":
            return "int" if isinstance(s.target, cst.Name) else None
        t = self.typer(it)
        if isinstance(s.target, cst.Name) and t and t.startswith("List["):
            return t[len("List[") : -1]
        return None

    def if_(self, s: cst.If) -> None:
        self.out.env_at[id(s)] = self._flat_env()  # for the test
        self.uses(s.test)
        live = _scripting_live_arm(s, self.ctx)
        static = None
        if live is None:
            static = _static_truth(s.test, self.ctx)
            if static == "true":
                live = 0
            elif static == "false":
                live = 1
        if live is None:
            live = none_test_live_arm(s, self.lookup)
        if live is not None:
            arm = (
                s.body.body
                if live == 0
                else (
                    s.orelse.body.body
                    if isinstance(s.orelse, cst.Else)
                    else ([s.orelse] if s.orelse is not None else None)
                )
            )
            if arm is not None and _terminates(arm):
                self.leaves.add(id(s))
        unsure_type_test = _has_isinstance(s.test) and not self._union_test(s.test)
        if live is None and (static == "varies" or uncertain_none_test(s.test, self.typer) or unsure_type_test):
            self.quiet += 1
            for suite in (s.body, s.orelse):
                if suite is not None:
                    self.out.quiet_nodes.update(id(n) for n in walk_expr(suite))
            try:
                self._if_arms(s, None)
            finally:
                self.quiet -= 1
            return
        self._if_arms(s, live)

    def _if_arms(self, s: cst.If, live: int | None) -> None:
        arms: list[Stmts | None] = [s.body.body]
        if s.orelse is None:
            arms.append(None)
        elif isinstance(s.orelse, cst.Else):
            arms.append(s.orelse.body.body)
        else:
            arms.append([s.orelse])
            self.elif_head[id(s.orelse)] = self.elif_head.get(id(s), s)
        if live is not None:
            taken = arms[live]
            if taken is not None and self.block(taken):
                self.leaves.add(id(s))
            return
        results: list[dict[str, str | None] | None] = []
        declared_at_end: list[dict[str, str | None]] = []
        for k, arm in enumerate(arms):
            fr = _Frame(False)
            self.frames.append(fr)
            refined = self._refinements(s.test, k == 0)
            self.refined.append(refined)
            left = False
            try:
                if arm is not None:
                    left = self.block(arm)
            finally:
                self.refined.pop()
            self.frames.pop()
            live = not (arm is not None and (left or _terminates(arm)))
            results.append(fr.vars if live else None)
            if live:
                # an annotated variable the arm leaves alone ends it with the arm's refinement
                # (what `assign` did not drop): `if isinstance(x, Dict[...]): x = x["a"]` with
                # `x: Union[Tensor, Dict[...]]` merges Tensor with Tensor
                kept = {n: t for n, t in refined.items() if n in self.out.declared and n not in fr.vars}
                declared_at_end.append({**kept, **fr.vars})
        live_arms = [r for r in results if r is not None]
        if not live_arms:
            return
        self._merge_declared(declared_at_end, False)
        if len(live_arms) == 1:
            # the other arm always leaves (`if v is None: return x`): after the `if`, the
            # compiler keeps the refinement of the arm that goes on, until `v` is assigned
            k = next(i for i, r in enumerate(results) if r is not None)
            after = {n: t for n, t in self._refinements(s.test, k == 0).items() if n not in live_arms[0]}
            if after:
                self.refined.append(after)
        names = set().union(*[set(r) for r in live_arms])
        for name in names:
            if self._find(name)[0] != -1 and self._find(name)[1] not in (MAYBE, CONFLICT):
                continue
            types = [r.get(name, MAYBE) for r in live_arms]
            if self.quiet and (MAYBE in types or len(set(types)) > 1):
                self.frames[-1].vars[name] = None  # which arm survives is not known
            elif MAYBE in types:
                self.frames[-1].vars[name] = MAYBE
                inner = self.maybe_origin.get(name)
                # the compiler points at the innermost ``if``/``elif`` chain that leaves it undefined
                if inner is None or not any(n is inner for n in walk_expr(s)):
                    self.maybe_origin[name] = self.elif_head.get(id(s), s)
            elif len(set(types)) == 1:
                self.frames[-1].vars[name] = types[0]
            elif None in types or any(t == CONFLICT for t in types):
                self.frames[-1].vars[name] = None
            elif all(unifiable(a, b) for a in types for b in types):
                self.frames[-1].vars[name] = None  # an Optional or a merged tuple: not modelled
            else:
                self.frames[-1].vars[name] = CONFLICT
                self.out.conflict_sites[name] = s  # where the compiler says it (and where it is used)

    def _flat_env(self) -> dict[str, str | None]:
        env: dict[str, str | None] = {}
        for fr in self.frames:
            for k, v in fr.vars.items():
                env[k] = None if v in (MAYBE, CONFLICT) else v
        for ref in self.refined:  # `if v is not None:` arms see v's refined type
            env.update(ref)
        return env

    def small(self, s: cst.BaseSmallStatement) -> None:
        self.out.env_at[id(s)] = self._flat_env()
        if isinstance(s, cst.Assign):
            self.uses(s.value)
            t = None if self.type_comment else self.typer(s.value)
            self.current_assign = s
            for tgt in s.targets:
                self._bind(tgt.target, t, s.value)
            self.current_assign = None
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.uses(s.value)
            if isinstance(s.target, cst.Name):
                at = annotation_type(s.annotation, self.ctx)
                if at is not None:
                    self.out.declared[s.target.value] = at
                    self.declared_level.setdefault(s.target.value, len(self.frames) - 1)
                    self.frames[-1].vars.setdefault(s.target.value, at)
                else:
                    self.frames[-1].vars[s.target.value] = None
        elif isinstance(s, cst.AugAssign):
            self.uses(s.value)
            self.uses(s.target)
            if isinstance(s.target, cst.Name):
                bop = (
                    cst.BinaryOperation(s.target, _AUG_TO_BIN.get(type(s.operator), cst.Add)(), s.value)
                    if type(s.operator) in _AUG_TO_BIN
                    else None
                )
                self.assign(s.target, self.typer(bop) if bop is not None else None)
        elif isinstance(s, cst.Return):
            if s.value is not None:
                self.uses(s.value)
            if not self.quiet:  # a return in an arm the compiler may drop does not count
                self.out.returns.append(ReturnInfo(s, self.typer(s.value) if s.value is not None else "None"))
        elif isinstance(s, cst.Expr):
            self.uses(s.value)
            v = s.value
            if (
                isinstance(v, cst.Call)
                and isinstance(v.func, cst.Attribute)
                and v.func.attr.value == "append"
                and isinstance(v.func.value, cst.Name)
                and len(v.args) == 1
            ):
                var = v.func.value.value
                if not self.quiet:
                    self.out.appends.append((v, var, self.typer(v.args[0].value), self.lookup(var)))
        else:
            self.uses(s)

    def _bind(self, target: cst.BaseExpression, t: str | None, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            if isinstance(value, cst.List) and not value.elements and not self.type_comment:
                self.out.empty_list_vars.setdefault(target.value, target)
                if self.current_assign is not None and len(self.current_assign.targets) == 1:
                    self.out.empty_list_assigns.setdefault(target.value, self.current_assign)
            assign = self.current_assign
            one = assign is not None and len(assign.targets) == 1
            if one and isinstance(value, cst.Name) and value.value == "None" and self._find(target.value)[0] == -1:
                assert assign is not None
                self.out.none_assigns.setdefault(target.value, assign)
            self.assign(target, t, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            parts = split_type_args(t) if t and t.startswith("Tuple[") else None
            elts = target.elements
            for k, el in enumerate(elts):
                sub = el.value
                st = parts[k] if parts is not None and len(parts) == len(elts) and "..." not in parts else None
                if t == "List[int]" or (t and t.startswith("List[")):
                    st = t[len("List[") : -1]
                if isinstance(sub, (cst.Name, cst.Tuple, cst.List)):
                    self._bind(sub, st, value)
        else:
            self.uses(target)


# concrete operator classes (mypy cannot tell them from the abstract base in a plain dict)
_AUG_TO_BIN: dict[type[cst.BaseAugOp], Callable[[], cst.BaseBinaryOp]] = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.ModuloAssign: cst.Modulo,
}


_TYPES: Memo[FunctionTypes] = Memo("flow types")
_EAGER_TYPES: Memo[FunctionTypes] = Memo("flow types, eager view")


def analyse(fn: cst.FunctionDef, ctx: FunctionContext | None, eager: bool = False) -> FunctionTypes:
    """Analyse ``fn`` (kept by ``ctx`` per function node and view: :meth:`FunctionContext.memo`).

    ``eager``: the view of a fix that must keep what the eager function does, where a parameter
    without annotation may be anything the caller passes (unknown), not the ``Tensor`` the
    compiler makes of it, and the blocks of a ``try`` are walked (for the compiler the function
    does not compile). Everything else is the same walk."""
    if ctx is None:
        return _analyse(fn, None, eager)
    return ctx.analyses.of(_EAGER_TYPES if eager else _TYPES, fn, lambda: _analyse(fn, ctx, eager))


def _analyse(fn: cst.FunctionDef, ctx: FunctionContext | None, eager: bool) -> FunctionTypes:
    an = _Analyser(fn, ctx, eager)
    self_name = ctx.self_name if ctx is not None else None
    params = param_list(fn)
    for k, p in enumerate(params):
        name = p.name.value
        if k == 0 and self_name is not None and name == self_name:
            continue
        if p.annotation is None:
            t: str | None = None if eager else "Tensor"
        else:
            t = annotation_type(p.annotation.annotation, ctx)
            if t is not None:
                an.out.declared[name] = t
        if t is not None:
            an.out.params[name] = t
        an.frames[0].vars[name] = t
    for star in (fn.params.star_arg, fn.params.star_kwarg):
        if isinstance(star, cst.Param):
            an.frames[0].vars[star.name.value] = None
    an.out.has_return_annotation = fn.returns is not None
    if fn.returns is not None:
        an.out.return_annotation = annotation_type(fn.returns.annotation, ctx)
    body = fn.body
    if isinstance(body, cst.IndentedBlock):
        an.block(body.body)
    return an.out
