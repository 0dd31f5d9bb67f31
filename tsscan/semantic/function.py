"""One compiled function as the semantic model sees it: its file, class, ``self`` and the
knowledge table for the target torch version, with a cache slot for each analysis made of it.

Rules do not use this directly: they get :class:`tsscan.context.FunctionContext`, which extends
it with the questions rules ask. Keeping the facts here lets the model's own modules take them
without importing anything above the semantic layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import libcst as cst

from tsscan.semantic.compiled import CompiledFunction, FileScope
from tsscan.semantic.memo import Memo, NodeMemos
from tsscan.semantic.module import ClassInfo, ModuleInfo
from tsscan.walk import statements

T = TypeVar("T")

_INTERFACE_TYPED: Memo[set[int]] = Memo("ids of values assigned to interface-annotated names")


def cst_dotted(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for libcst Name/Attribute chains, None otherwise."""
    parts: list[str] = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is cst.Name:
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


@dataclass
class FunctionFacts:
    """One compiled function, with the facts about its file and class that the model needs."""

    path: str
    scope: FileScope
    function: CompiledFunction
    target_version: str
    options: dict[str, Any] = field(default_factory=dict)
    _knowledge: Any = None
    # the libcst FunctionDef being checked (set by the engine before the rules see it)
    node: cst.FunctionDef | None = None
    # analyses of ``node``, made once and shared by every rule (see :meth:`memo`)
    analyses: NodeMemos = field(default_factory=NodeMemos)
    # ``self.<name>`` -> its TorchScript type (None: not certain)
    attribute_types: dict[str, str | None] = field(default_factory=dict)
    # the name of ``self`` in a method (None in free functions and static methods): a fact of
    # ``function``, read when the facts are made (rules ask it at nearly every node)
    self_name: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        fn = self.function.node
        if self.cls is not None and not any(self.module.resolve_node(d) == "staticmethod" for d in fn.decorator_list):
            args = fn.args.posonlyargs + fn.args.args
            self.self_name = args[0].arg if args else None

    def memo(self, key: Memo[T], node: object, make: Callable[[], T]) -> T:
        """The analysis ``key`` of ``node`` (usually :attr:`node`) for this function: made by
        ``make()`` the first time it is asked, then shared by every rule that asks again
        (:class:`tsscan.semantic.memo.NodeMemos`)."""
        return self.analyses.of(key, node, make)

    @property
    def module(self) -> ModuleInfo:
        return self.scope.module

    @property
    def cls(self) -> ClassInfo | None:
        return self.function.cls

    def qualname(self, node: cst.CSTNode) -> str | None:
        """The dotted origin of a Name/Attribute expression: ``F.relu`` -> ``torch.nn.functional.relu``."""
        return self.module.resolve(cst_dotted(node))

    def interface_typed(self, value: cst.CSTNode) -> bool:
        """``value`` is assigned to a variable annotated with a ``@torch.jit.interface`` class
        of this file (``block: BlockInterface = self.blocks[k]``): the compiler then takes a
        ModuleList/ModuleDict item with a variable index."""
        assert self.node is not None, "the engine sets the function before the rules run"
        fn = self.node
        return id(value) in self.memo(_INTERFACE_TYPED, fn, lambda: self._interface_typed_values(fn))

    def _interface_typed_values(self, fn: cst.FunctionDef) -> set[int]:
        out: set[int] = set()
        for n in statements(fn.body):  # an annotated assignment is a statement
            if type(n) is cst.AnnAssign and n.value is not None:
                info = self.module.classes.get(cst_dotted(n.annotation.annotation) or "")
                if info is not None and info.is_interface:
                    out.add(id(n.value))
        return out

    def self_attr(self, node: cst.CSTNode) -> str | None:
        """``X`` when ``node`` is ``self.X``, else None."""
        me = self.self_name
        if me is not None and type(node) is cst.Attribute and type(node.value) is cst.Name and node.value.value == me:
            return node.attr.value
        return None

    @property
    def knowledge(self) -> Any:
        """The generated table of what TorchScript knows, for the target torch version."""
        if self._knowledge is None:
            from tsscan.semantic import knowledge as knowledge

            self._knowledge = knowledge.load(self.target_version)
        return self._knowledge
