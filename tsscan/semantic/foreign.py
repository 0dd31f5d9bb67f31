"""Signatures of functions and methods defined in *another* file of the package, as facts the
package index (:mod:`tsscan.semantic.index`) hands to the file that calls them.

A file is checked on its own; what it needs to know of the rest of the package reaches it as
facts next to the names other files compile in it (as :mod:`tsscan.semantic.wrappers` does for
decorators). A signature fact names the callee as the calling file writes it (``pad_to``,
``utils.pad_to``; ``Block`` for the ``forward`` of an imported module class), the file and line
where it is defined, and its TorchScript signature (parameter types as the compiler reads the
annotations there; an unannotated parameter is a Tensor).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tsscan.semantic.knowledge import Param, Signature

SIG_PREFIX = "@sig "


@dataclass(frozen=True)
class Foreign:
    """One callee of another file: where it is, its signatures, and how it is called."""

    where: str  # "pkg/utils.py:12"
    signatures: tuple[Signature, ...]  # one, or the declarations of a ``torch.jit._overload`` family
    inferred: frozenset[str]  # its unannotated (Tensor) parameters
    bound: bool  # a method called on an object: ``self`` is bound already


Params = tuple[tuple[str, str, bool, bool, bool], ...]  # (name, type, keyword only, has default, inferred)
# (line, bound, ((params, return type or ""), ...) one per overload)
Packed = tuple[int, bool, tuple[tuple[Params, str], ...]]


def pack(found: list[tuple[Signature, frozenset[str], bool]], line: int) -> Packed:
    """The plain data a per-file summary keeps of a callee's signatures (:func:`signature_of`'s)."""
    overloads = tuple(
        (
            tuple((p.name, p.type, p.kwarg_only, p.has_default, p.name in inferred) for p in sig.params),
            sig.returns[0] if sig.returns else "",
        )
        for sig, inferred, _ in found
    )
    return (line, found[0][2], overloads)


def to_json(packed: Packed) -> list:
    line, bound, overloads = packed
    return [line, bound, [[[list(p) for p in params], returns] for params, returns in overloads]]


def unpack_json(data: list) -> Packed:
    """A :data:`Packed` read back from JSON; raises TypeError/ValueError on anything else."""
    line, bound, overloads = data
    return (
        int(line),
        bool(bound),
        tuple(
            (tuple((str(a), str(b), bool(c), bool(d), bool(e)) for a, b, c, d, e in params), str(returns))
            for params, returns in overloads
        ),
    )


def encode(local: str, where: str, packed: Packed) -> str:
    """The fact for a callee written ``local`` in the calling file, defined at ``where``."""
    return SIG_PREFIX + json.dumps([local, where, *to_json(packed)], separators=(",", ":"))


def decode(facts: set[str] | frozenset[str]) -> dict[str, Foreign]:
    """The signature facts among ``facts``, by the callee's name as the calling file writes it."""
    out: dict[str, Foreign] = {}
    for fact in facts:
        if not fact.startswith(SIG_PREFIX):
            continue
        local, where, *packed = json.loads(fact[len(SIG_PREFIX) :])
        line, bound, overloads = unpack_json(packed)
        sigs = tuple(
            Signature(tuple(Param(n, t, k, d) for n, t, k, d, _ in params), (returns,)) for params, returns in overloads
        )
        inferred = frozenset(p[0] for params, _ in overloads for p in params if p[4])
        out[str(local)] = Foreign(f"{where}:{line}", sigs, inferred, bound)
    return out
