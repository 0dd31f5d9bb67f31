"""What a rule sees besides the CST of the function it checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from tsscan.scope import ClassInfo, CompiledFunction, FileScope, ModuleInfo


def cst_dotted(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for libcst Name/Attribute chains, None otherwise."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


@dataclass
class FunctionContext:
    """One compiled function, with the facts about its file and class that rules need."""

    path: str
    scope: FileScope
    function: CompiledFunction
    target_version: str
    options: dict[str, Any] = field(default_factory=dict)
    _knowledge: Any = None
    # the libcst FunctionDef being checked (set by the engine before the rules see it)
    node: cst.FunctionDef | None = None

    @property
    def module(self) -> ModuleInfo:
        return self.scope.module

    @property
    def cls(self) -> ClassInfo | None:
        return self.function.cls

    @property
    def self_name(self) -> str | None:
        """The name of ``self`` in a method (None in free functions and static methods)."""
        fn = self.function.node
        if self.cls is None:
            return None
        if any(self.module.resolve_node(d) == "staticmethod" for d in fn.decorator_list):
            return None
        args = fn.args.posonlyargs + fn.args.args
        return args[0].arg if args else None

    def qualname(self, node: cst.CSTNode) -> str | None:
        """The dotted origin of a Name/Attribute expression: ``F.relu`` -> ``torch.nn.functional.relu``."""
        return self.module.resolve(cst_dotted(node))

    def self_attr(self, node: cst.CSTNode) -> str | None:
        """``X`` when ``node`` is ``self.X``, else None."""
        me = self.self_name
        if (
            me is not None
            and isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == me
        ):
            return node.attr.value
        return None

    @property
    def knowledge(self) -> Any:
        """The generated table of what TorchScript knows, for the target torch version."""
        if self._knowledge is None:
            from tsscan import knowledge

            self._knowledge = knowledge.load(self.target_version)
        return self._knowledge
