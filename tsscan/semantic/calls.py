"""Call checking: does a call in compiled code match one of its callee's TorchScript signatures?

The compiler binds each call to a schema (``matchSchema``): positional arguments in order, then
keywords, then defaults; each value is converted to the parameter's type or the schema is
rejected. With several schemas (an operator's overloads, ``F.interpolate``'s) it tries them all
and says "Arguments for call are not valid" when none binds; with one it says why that one
failed ("Expected a value of type 'float' for argument 'p' but instead found type 'int'",
"Expected at most 2 arguments but found 3 positional arguments").

Which value fits which parameter was measured with torch 2.13 (``scripts/measure_call_conversions.py``;
``aten`` an operator, ``python`` a torch function compiled from source, ``user`` a function of the
file, the same for a submodule's ``forward``; the conversions are the same for all of them):

| parameter | accepts | rejects |
|---|---|---|
| `float` | float, bool, Tensor, number | **int** (literal or variable), str, None, Optional[float] |
| `Optional[float]` | float, None, bool, Tensor | **int** (`F.pad(value=0)`, `nan_to_num(nan=0)`) |
| `int` | int, bool, Tensor, number | float (`n ** 2` is a float), str |
| `bool` | bool | int, Tensor |
| `number` (Scalar) | int, float, bool, Tensor | str |
| `str` | str | Tensor, Optional[str] |
| `Tensor` (annotated or inferred) | Tensor | None, Optional[Tensor], int, float, bool, str, lists, tuples |
| `ScalarType` (`dtype=`) | int, Tensor, None | str |
| `Device` (`device=`) | Device, str | Tensor (an unannotated parameter), int, Optional[str] |
| `List[int]` | List[int], tuples of int | List[Tensor] (a list mixing Tensors is `List[Union[..]]`), tuples holding a Tensor, float or Optional, `Union[Tuple[int, int], int]` |
| `List[float]` | List[float], tuples of float | List[int], tuples of int, an int (`F.interpolate(scale_factor=2)`) |
| `List[Tensor]` | List[Tensor], tuples of Tensors | List[Optional[Tensor]], Tensor |
| `Tuple[int, int]` | tuples whose items convert (Tensors too) | List[int] |

A value is converted (``aten::Int``/``Float``/``ScalarImplicit``) only from a Tensor, a number or a
bool, and only to ``int``/``float``/``number`` (also inside ``Optional``): an int never becomes a
float. A list parameter that is the last positional one also takes the remaining positional
values one by one, each converted (``x.view(n, 2)``, ``x.view(t, 2)`` with ``t`` a Tensor); an int
for a ``List[int]`` parameter of a torch function is accepted (it may be a broadcasting list, ``int[2]``,
which the tables do not record); of a user's function only when it is the last positional one.
Unannotated parameters are ``Tensor (inferred)``, also with a ``None`` default (passing ``None``
fails). Too many positional arguments: "Expected at most N arguments but found M positional
arguments"; a parameter with no default left out: "Argument y not provided".

Anything outside this vocabulary (``Any``, type variables, dicts, classes, generators) is
accepted: the checker reports only what it is sure of.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tsscan.semantic.annotations import split_type_args
from tsscan.semantic.knowledge import Param, Signature

_TYPEVAR = re.compile(r"^t\d*$")
_PLAIN = ("Tensor", "int", "float", "bool", "str", "complex", "None", "number", "Device")
_CONTAINERS = ("List", "Tuple", "Optional", "Union", "Dict")
# what each plain parameter type takes by conversion (besides itself)
_CONVERTS = {
    "float": {"bool", "Tensor", "number"},
    "int": {"bool", "Tensor", "number"},
    "number": {"int", "float", "bool", "complex", "Tensor"},
    "Device": {"str"},
}


def _head(t: str) -> str:
    return t.split("[", 1)[0]


def _items(t: str) -> list[str]:
    return split_type_args(t) or []


def known(t: str | None) -> bool:
    """True when every part of ``t`` is in the vocabulary the relations below decide."""
    if not t:
        return False
    if t in _PLAIN:
        return True
    head = _head(t)
    if head not in _CONTAINERS or t == head:
        return False
    items = _items(t)
    if head == "Tuple" and items == []:
        return True  # Tuple[()]
    arity = {"List": (1, 1), "Optional": (1, 1), "Dict": (2, 2), "Union": (2, 99), "Tuple": (1, 99)}[head]
    if not arity[0] <= len(items) <= arity[1]:
        return False
    return "..." not in items and all(known(i) for i in items)


def subtype(param: str, arg: str) -> bool | None:
    """Is ``arg`` a subtype of ``param`` (no conversion)? None: not decided here."""
    if param == arg:
        return True
    if not (known(param) and known(arg)):
        return None
    if param == "number":
        return arg in ("int", "float", "complex")
    head = _head(param)
    if head == "Optional":
        inner = param[len("Optional[") : -1]
        if arg == "None":
            return True
        if arg.startswith("Optional["):
            return subtype(inner, arg[len("Optional[") : -1])
        return subtype(inner, arg)
    if head == "Union":
        members = _items(param)
        if arg.startswith("Union["):
            verdicts = [any(subtype(m, a) for m in members) for a in _items(arg)]
            return all(verdicts)
        return any(subtype(m, arg) for m in members)
    if head == "Tuple" and arg.startswith("Tuple["):
        p, a = _items(param), _items(arg)
        return len(p) == len(a) and all(subtype(x, y) for x, y in zip(p, a, strict=True))
    return False  # lists are invariant, plain types are distinct


def accepts(param: str, arg: str | None, *, broadcast: bool = False) -> bool | None:
    """Can a value of type ``arg`` be passed for a parameter of type ``param``, with the
    compiler's implicit conversions? True/False when the vocabulary decides, None otherwise.
    ``broadcast``: the parameter may be a broadcasting list (``int[2]``) that takes one item."""
    if arg is None or not param or param == "Any" or arg == "Any" or _TYPEVAR.match(param):
        return None
    if not (known(param) and known(arg)):
        return None
    if subtype(param, arg):
        return True
    head = _head(param)
    if arg.startswith("Union["):
        return False  # a Union value is never converted
    if head == "Optional":
        if arg.startswith("Optional["):
            return False  # an Optional value is not converted either
        return accepts(param[len("Optional[") : -1], arg, broadcast=broadcast)
    if head == "Union":
        verdicts = [accepts(m, arg, broadcast=broadcast) for m in _items(param)]
        return True if any(verdicts) else (None if None in verdicts else False)
    if param in _CONVERTS:
        return arg in _CONVERTS[param]
    if head == "List":
        elem = param[len("List[") : -1]
        if arg.startswith("Tuple["):
            return all(subtype(elem, a) for a in _items(arg))  # convertibleToList: no conversion
        if broadcast and not arg.startswith(("List[", "Optional[")):
            return subtype(elem, arg)
        return False
    if head == "Tuple" and arg.startswith("Tuple["):
        p, a = _items(param), _items(arg)
        if len(p) != len(a):
            return False
        verdicts = [accepts(x, y) for x, y in zip(p, a, strict=True)]
        return True if all(verdicts) else (None if None in verdicts else False)
    return False


@dataclass(frozen=True)
class Failure:
    """Why one signature does not take the call, as the compiler says it."""

    kind: str  # "type" or "arity"
    text: str
    param: str = ""
    expected: str = ""  # for a type failure: the parameter's type and the argument's
    found: str = ""
    position: int = 0  # how far binding got (the failing parameter's index)


def spoken(t: str, inferred: bool = False) -> str:
    """A type as the compiler prints it in its messages."""
    if t == "None":
        return "NoneType"
    return f"{t} (inferred)" if inferred else t


def _packable(sig: Signature, index: int) -> bool:
    """``varargsCanBeUsedAsList``: the last positional parameter, a list of a concrete type."""
    positional = sig.positional
    p = positional[index]
    last = index + 1 == len(positional)
    return last and _head(p.type) == "List" and not _TYPEVAR.match(p.type[len("List[") : -1])


def match(
    sig: Signature,
    args: Sequence[str | None],
    keywords: Mapping[str, str | None],
    *,
    user: bool = False,
    inferred: frozenset[str] = frozenset(),
    arg_inferred: Sequence[bool] = (),
    kw_inferred: Mapping[str, bool] | None = None,
    packs: bool = True,
) -> Failure | None:
    """The reason ``sig`` rejects a call with positional argument types ``args`` and keyword
    argument types ``keywords`` (None: unknown), or None when it may bind. ``user``: the
    signature comes from annotations (its lists are not broadcasting lists). ``inferred``: its
    parameters typed Tensor for want of an annotation; ``arg_inferred``/``kw_inferred``: which
    arguments are such parameters of the caller (for the compiler's wording). ``packs``: its
    last positional list parameter may take the remaining positional values."""
    if any(p.variadic for p in sig.params):
        return None
    kw_inferred = kw_inferred or {}
    positional = sig.positional
    bound: set[str] = set()
    used = 0
    for i, p in enumerate(positional):
        if used >= len(args):
            break
        arg = args[used]
        if packs and _packable(sig, i) and not (arg or "").startswith("List["):
            whole = accepts(p.type, arg, broadcast=not user) if used + 1 == len(args) else False
            if whole is not False:
                used += 1
                bound.add(p.name)
                continue
            elem = p.type[len("List[") : -1]
            for j in range(used, len(args)):
                if accepts(elem, args[j]) is False:
                    found = spoken(args[j] or "", j < len(arg_inferred) and arg_inferred[j])
                    return Failure(
                        "type",
                        f"Expected a value of type '{elem}' for argument '<varargs>' but instead found type '{found}'.",
                        p.name,
                        elem,
                        args[j] or "",
                        i,
                    )
            used = len(args)
            bound.add(p.name)
            break
        if accepts(p.type, arg, broadcast=not user) is False:
            return _type_failure(p, arg or "", inferred, used < len(arg_inferred) and arg_inferred[used], i)
        used += 1
        bound.add(p.name)
    if used < len(args):
        return Failure(
            "arity", f"Expected at most {len(positional)} arguments but found {len(args)} positional arguments."
        )
    by_name = {p.name: p for p in sig.params}
    for name, arg in keywords.items():
        named = by_name.get(name)
        if named is None:
            return Failure("arity", f"Keyword argument {name} unknown.", name)
        p = named
        if name in bound:
            return Failure("arity", f"Keyword argument {name} specified twice.", name)
        if accepts(p.type, arg, broadcast=not user) is False:
            where = next(i for i, q in enumerate(sig.params) if q is p)
            return _type_failure(p, arg or "", inferred, kw_inferred.get(name, False), where)
        bound.add(name)
    for p in sig.params:
        if p.name not in bound and not p.has_default:
            return Failure("arity", f"Argument {p.name} not provided.", p.name)
    return None


def _type_failure(p: Param, arg: str, inferred: frozenset[str], arg_inferred: bool, position: int) -> Failure:
    want = spoken(p.type, p.name in inferred)
    return Failure(
        "type",
        f"Expected a value of type '{want}' for argument '{p.name}' but instead found type '{spoken(arg, arg_inferred)}'.",
        p.name,
        p.type,
        arg,
        position,
    )


@dataclass(frozen=True)
class Callee:
    """What a call resolves to: its signatures in the order the compiler tries them."""

    shown: str  # `torch.full`, `F.normalize`, `self.norm1`, `helper`
    signatures: tuple[Signature, ...]
    user: bool = False  # signatures from annotations in the user's code
    where: str = ""  # "file.py:12" for a callee defined in user code
    inferred: frozenset[str] = frozenset()  # its unannotated (Tensor) parameters
    method: bool = False  # called on an object: the compiler counts ``self`` among the arguments
    # False for torch functions compiled from source: their list parameters are broadcasting
    # lists (``BroadcastingList2[int]``), which take one item but never the remaining values
    packs: bool = True
    # a function of the file being checked: its ``ast`` node (fixes may edit its signature)
    node: ast.FunctionDef | ast.AsyncFunctionDef | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Verdict:
    """A call no signature of its callee takes."""

    callee: Callee
    failures: tuple[Failure, ...]  # one per signature

    @property
    def kind(self) -> str:
        """``"type"`` when some signature fails on an argument's type, else ``"arity"``."""
        return "type" if any(f.kind == "type" for f in self.failures) else "arity"

    @property
    def reason(self) -> Failure:
        """The failure to show: of the verdict's kind, the one of the signature that took the
        most arguments before failing (the first such)."""
        mine = [f for f in self.failures if f.kind == self.kind]
        return max(mine, key=lambda f: f.position)

    @property
    def compiler_says(self) -> str:
        """The head of the compiler's error for this call."""
        if len(self.failures) == 1:
            return self.failures[0].text
        return f"Arguments for call are not valid ({self.reason.text.rstrip('.')})."


def check(
    callee: Callee,
    args: Sequence[str | None],
    keywords: Mapping[str, str | None],
    arg_inferred: Sequence[bool] = (),
    kw_inferred: Mapping[str, bool] | None = None,
) -> Verdict | None:
    """The verdict on a call of ``callee``: None when some signature may take it."""
    if not callee.signatures:
        return None
    failures = []
    if callee.method:  # the receiver is the first argument, already bound
        args = [None, *args]
        arg_inferred = [False, *arg_inferred]
    for sig in callee.signatures:
        if callee.method:
            sig = Signature((Param("self", "", False, False), *sig.params), sig.returns, sig.return_names)
        f = match(
            sig,
            args,
            keywords,
            user=callee.user,
            inferred=callee.inferred,
            arg_inferred=arg_inferred,
            kw_inferred=kw_inferred,
            packs=callee.packs,
        )
        if f is None:
            return None
        failures.append(f)
    return Verdict(callee, tuple(failures))
