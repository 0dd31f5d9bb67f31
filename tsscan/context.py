"""What a rule sees besides the CST of the function it checks: :class:`FunctionContext`, the
only way a rule reaches the semantic model."""

from __future__ import annotations

from dataclasses import dataclass, field

from tsscan.semantic.function import FunctionFacts, cst_dotted

__all__ = ["FunctionContext", "cst_dotted"]


@dataclass
class FunctionContext(FunctionFacts):
    """One compiled function, with the facts about its file and class that rules need."""

    # names that fixes made for this function chose in the current round, so that two rules'
    # fixes never pick the same fresh name
    fresh_names: set[str] = field(default_factory=set)
