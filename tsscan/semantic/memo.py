"""Typed memos: where an analysis keeps the answers it is asked for again and again.

Each analysis that keeps answers declares one :class:`Memo` at module level, typed by the answer
it holds (``CALLS: Memo[list[ast.Call]] = Memo("calls of a function")``, then
``CALLS.on(fn, calls_of)``). The key is that object, not a string: a misspelt key is a
NameError, and mypy checks what goes in and what comes out.

Where the answer lives decides how long it lasts, and there are two places:

* :meth:`Memo.on` keeps it on the object it is about: an ``ast`` node, a
  :class:`~tsscan.semantic.module.ModuleInfo`, a :class:`~tsscan.semantic.module.ClassInfo`.
  The answer must depend on that object alone; it lives exactly as long as the object and is
  dropped with it. This is what lets answers about a top-level statement or a method survive an
  edit in the language server: :mod:`tsscan.semantic.reparse` keeps the nodes of the statements
  an edit left alone (the same objects, so their answers come along) and parses new nodes for
  the rest (which have none, so nothing stale is read).
* :class:`NodeMemos` keeps answers about a libcst node (libcst nodes have no ``__dict__``) for
  one compiled function's facts (:class:`~tsscan.semantic.function.FunctionFacts`, made per
  function and per check): one answer per memo, replaced when asked about another node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Owner = TypeVar("Owner")

# the one attribute a memo owner's ``__dict__`` gets: {memo: answer}
_KEPT = "_tsscan_memos"
_MISSING = object()


class Memo(Generic[T]):
    """The key of one analysis's answers, of type ``T``; ``name`` says what it holds (for
    reading, never for finding: two memos with the same name are two memos)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Memo({self.name!r})"

    def on(self, owner: Owner, make: Callable[[Owner], T]) -> T:
        """The answer kept on ``owner``, made by ``make(owner)`` the first time (``owner`` must
        have a ``__dict__``; the answer must depend on ``owner`` alone)."""
        kept: dict[Memo[Any], Any] | None = vars(owner).get(_KEPT)
        if kept is None:
            kept = vars(owner)[_KEPT] = {}
        found = kept.get(self, _MISSING)
        if found is _MISSING:
            found = kept[self] = make(owner)
        return found  # what make() gave for this memo: a T

    def kept_on(self, owner: object) -> bool:
        """An answer is kept on ``owner`` (for tests and assertions)."""
        return self in vars(owner).get(_KEPT, ())


class NodeMemos:
    """Answers about one node per memo, for an owner that may be asked about another node than
    the one an answer was made for (a function's facts: the engine sets the node they describe):
    an answer is given back only for the node it was made for."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: dict[Memo[Any], tuple[object, Any]] = {}

    def of(self, memo: Memo[T], node: object, make: Callable[[], T]) -> T:
        """The answer ``memo`` keeps about ``node``, made by ``make()`` when it has none (or
        one about another node, which it then forgets)."""
        hit = self._kept.get(memo)
        if hit is not None and hit[0] is node:
            return hit[1]  # what make() gave for this memo: a T
        value = make()
        self._kept[memo] = (node, value)
        return value
