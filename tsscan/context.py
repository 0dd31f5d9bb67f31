"""What a rule sees besides the CST of the function it checks: :class:`FunctionContext`, the
only way a rule reaches the semantic model."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from tsscan.semantic.compiled import FROM_ANOTHER_FILE
from tsscan.semantic.function import FunctionFacts, cst_dotted
from tsscan.semantic.function_types import Bindings, bindings_of
from tsscan.semantic.memo import Memo
from tsscan.semantic.param_uses import membership_list_type, star_forwards, used_as_non_tensor
from tsscan.semantic.receivers import Kinds
from tsscan.semantic.types import FunctionTypes, analyse, iter_annotations, refined_names
from tsscan.semantic.wrapper_reads import BadRead, bad_reads
from tsscan.semantic.wrappers import Wrapper, outer_wrapper

__all__ = ["FunctionContext", "cst_dotted"]

_ANNOTATIONS: Memo[list[tuple[cst.BaseExpression, str, cst.Param | None]]] = Memo("annotations of a function")
_REFINED_NAMES: Memo[set[str]] = Memo("names that may refine an Optional")
_STRICT_REFINED_NAMES: Memo[set[str]] = Memo("names that refine an Optional (strict)")
_WRAPPED_BAD_READS: Memo[list[BadRead]] = Memo("global reads a wrapper's module breaks")
_KINDS: Memo[Kinds] = Memo("coarse kinds of a function's expressions")


@dataclass
class FunctionContext(FunctionFacts):
    """One compiled function, with the facts about its file and class that rules need."""

    # names that fixes made for this function chose in the current round, so that two rules'
    # fixes never pick the same fresh name
    fresh_names: set[str] = field(default_factory=set)
    # the libcst function of every compiled function of the file checked in this run, by the
    # ``id`` of its ``ast`` node (set by the engine): what a fix that edits another function than
    # the one it is reported in (a callee's parameter) reaches it through
    compiled_nodes: dict[int, cst.FunctionDef] = field(default_factory=dict)

    @property
    def function_node(self) -> cst.FunctionDef:
        """The libcst ``FunctionDef`` being checked (rules see it once the walk has started)."""
        assert self.node is not None, "the engine sets the function before the rules run"
        return self.node

    @property
    def types(self) -> FunctionTypes:
        """The flow types of the function's values (made once, shared by every rule)."""
        return analyse(self.function_node, self)

    @property
    def eager_types(self) -> FunctionTypes:
        """The same flow types as :attr:`types` in the eager view: a parameter without
        annotation is unknown (the caller may pass anything), not a ``Tensor``. For fixes that
        must keep what the eager function does (is ``n`` in ``n //= 2`` surely an int?)."""
        return analyse(self.function_node, self, eager=True)

    @property
    def kinds(self) -> Kinds:
        """What each expression of the function can be: Tensor, sequence, scalar, module (a
        view of the model's types, :class:`tsscan.semantic.receivers.Kinds`; made once)."""
        return self.memo(_KINDS, self.function_node, lambda: Kinds(self))

    @property
    def bindings(self) -> Bindings:
        """Every place the function's body binds a name, and its parameters
        (:class:`tsscan.semantic.function_types.Bindings`: ``assigned``, ``annotated``, ...)."""
        return bindings_of(self.function_node, self)

    @property
    def local_names(self) -> frozenset[str]:
        """The names the function binds: its parameters and what its body binds, nested class
        bodies and comprehensions included (:attr:`Bindings.local_names`)."""
        return bindings_of(self.function_node, self).local_names

    def is_shadowed(self, name: str) -> bool:
        """``name`` (a builtin's, a module's) is bound again where the function reads it: by
        the function itself (:attr:`local_names`) or at the file's module level
        (:meth:`tsscan.semantic.module.ModuleInfo.binds`)."""
        return name in self.local_names or self.module.binds(name)

    @property
    def annotations(self) -> list[tuple[cst.BaseExpression, str, cst.Param | None]]:
        """Every annotation of the function: (annotation, "param"/"return"/"local", param)."""
        fn = self.function_node
        return self.memo(_ANNOTATIONS, fn, lambda: list(iter_annotations(fn)))

    @property
    def refined_names(self) -> set[str]:
        """Names the function compares with ``is``/``==``, checks with ``isinstance``, asserts on
        or rebinds: any of these may refine an Optional (:func:`tsscan.semantic.types.refined_names`)."""
        fn = self.function_node
        return self.memo(_REFINED_NAMES, fn, lambda: refined_names(fn))

    def used_as_non_tensor(self, name: str) -> bool:
        """The function uses its parameter ``name`` where only a sequence, a set or a number
        fits (:func:`tsscan.semantic.param_uses.used_as_non_tensor`)."""
        return used_as_non_tensor(self.function_node, name, self)

    def membership_list_type(self, name: str) -> str | None:
        """``List[T]`` for a parameter used only as the right of ``c in name`` with ``c`` of
        scalar type ``T`` (:func:`tsscan.semantic.param_uses.membership_list_type`)."""
        return membership_list_type(self.function_node, name, self)

    def star_forwards(self, name: str, star: str) -> list[tuple[cst.Call, cst.Arg]] | None:
        """The calls that pass the variadic parameter ``name`` on whole (``g(**name)``, ``star``
        ``"**"``; ``g(*name)``, ``"*"``); ``[]`` if it is never read, None if it is read in any
        other way (:func:`tsscan.semantic.param_uses.star_forwards`)."""
        return star_forwards(self.function_node, name, star)

    @property
    def wrapper(self) -> Wrapper | None:
        """The outermost wrapper of a decorated compiled function, whose module resolves the
        function's global names (None: undecorated, not wrapped, or a decorator not known)."""
        cf = self.function
        table = self.knowledge.raw_decorators
        return outer_wrapper(cf.node, cf.cls.node if cf.cls else None, self.module, table, self.scope.foreign_wrappers)

    @property
    def wrapped_bad_reads(self) -> list[BadRead]:
        """The global names the function reads that its wrapper's module lacks or binds to
        something else (:func:`tsscan.semantic.wrapper_reads.bad_reads`)."""
        return self.memo(_WRAPPED_BAD_READS, self.function_node, self._wrapped_bad_reads)

    def _wrapped_bad_reads(self) -> list[BadRead]:
        wrapper = self.wrapper
        if wrapper is None:
            return []
        return bad_reads(self.function_node, wrapper, self.module, self.knowledge.raw_decorators)

    def compiled_node(self, fn: ast.AST | None) -> cst.FunctionDef | None:
        """The libcst function of the compiled function ``fn`` (its ``ast`` node) of this file,
        for a fix that edits it; None if it is not compiled, only a header, or not checked in
        this run."""
        return self.compiled_nodes.get(id(fn)) if fn is not None else None

    def refined_names_in(self, fn: cst.FunctionDef) -> set[str]:
        """The names another function of the file (from :meth:`compiled_node`) tests with
        ``is``/``is not``, ``isinstance``, ``assert``s on or rebinds (``refined_names(fn,
        strict=True)``: an ``if v is None:`` that neither leaves nor has an ``else`` does not count)."""
        return self.memo(_STRICT_REFINED_NAMES, fn, lambda: refined_names(fn, strict=True))

    def compiled_from_another_file(self, fn: ast.AST) -> bool:
        """The function ``fn`` of this file (its ``ast`` node) is compiled because code in
        another file calls it (also, or only)."""
        return any(cf.node is fn and FROM_ANOTHER_FILE in cf.why for cf in self.scope.compiled)
