"""``ast.walk``, twice as fast: :func:`walk`.

The analyses walk the same functions over and over (reachability, attribute writes, the
constructor configurations, call checking); the stdlib's ``ast.walk`` goes through two
generators per node (``iter_child_nodes`` and ``iter_fields``), which on a cold check of timm
was about a tenth of the time. This one yields the same nodes in the same order (breadth first,
fields in their order), and like ``ast.walk`` takes a node's children when it reaches the node,
before yielding it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_AST = ast.AST


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree under ``node``, ``node`` first, in the order of ``ast.walk``."""
    todo = [node]
    append = todo.append
    i = 0
    while i < len(todo):
        n = todo[i]
        i += 1
        for name in n._fields:
            value = getattr(n, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, _AST):
                        append(item)
            elif isinstance(value, _AST):
                append(value)
        yield n
