"""What TorchScript knows, per torch version: the tables ``scripts/gen_knowledge.py`` generates.

The tables live in ``tsscan/data/torch-<major>.<minor>.json``. :func:`load` picks the one for a
target version (the same minor, else the nearest older one, else the newest) and never imports
torch: checking code must not need it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tsscan.semantic.tables import DATA_DIR, available


@dataclass(frozen=True)
class Param:
    """One parameter of a signature, as TorchScript types it (``""``: unknown, only in the Python
    signature of a function that does not compile). ``*name`` / ``**name`` are Python varargs."""

    name: str
    type: str
    kwarg_only: bool
    has_default: bool

    @property
    def variadic(self) -> bool:
        return self.name.startswith("*")


Arg = Param  # the name the rules import


@dataclass(frozen=True)
class Signature:
    """One overload: its parameters and what it returns, in TorchScript's types (``Tensor``,
    ``int``, ``List[int]``, ``Optional[Tensor]``, ``number`` for a Scalar, ``int`` for a
    ScalarType/Layout/MemoryFormat, ``Device``, ``t`` for a type variable)."""

    params: tuple[Param, ...]
    returns: tuple[str, ...]  # one type per value returned; several for an operator returning a tuple
    return_names: tuple[str, ...] = ()  # field names of a named-tuple return (``torch.max(x, 0).values``)

    @property
    def return_type(self) -> str | None:
        """``"Tensor"``, ``"Tuple[Tensor, Tensor]"``, ``"None"`` (returns nothing: no value, or
        TorchScript's ``NoneType``); None when unknown."""
        if any(not r for r in self.returns):
            return None
        if len(self.returns) == 1:
            return "None" if self.returns[0] == "NoneType" else self.returns[0]
        return f"Tuple[{', '.join(self.returns)}]" if self.returns else "None"

    @property
    def positional(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.kwarg_only and not p.variadic)

    def binds(
        self,
        args: Sequence[str | None] = (),
        keywords: Mapping[str, str | None] | None = None,
        conversions: bool = True,
    ) -> bool:
        """Whether a call with positional arguments of TorchScript types ``args`` and keyword
        arguments ``keywords`` (name -> type; None: unknown type) can bind to this overload.
        The compiler tries every overload without implicit conversions first, then with them
        (``conversions``: a Tensor or an int for a ``float``/``int``/``number``); a trailing
        value may be packed into the last positional ``List[E]`` (``x.view(2, 3)``)."""
        keywords = keywords or {}
        if any(p.name.startswith("**") for p in self.params):
            return True
        positional = self.positional
        bound: set[str] = set()
        for i, arg in enumerate(args):
            if i < len(positional):
                param = positional[i]
            elif (
                positional and positional[-1].type.startswith("List[") and not _TYPEVAR.match(positional[-1].type[5:-1])
            ):
                param = positional[-1]  # `x.view(2, 3)`: values packed into `size: List[int]`
            elif any(p.name.startswith("*") for p in self.params):
                continue  # taken by *args
            else:
                return False
            if not _accepts(param.type, arg, conversions):
                return False
            bound.add(param.name)
        by_name = {p.name: p for p in self.params}
        for name, arg in keywords.items():
            kw = by_name.get(name)
            if kw is None or kw.variadic or name in bound or not _accepts(kw.type, arg, conversions):
                return False
            bound.add(name)
        return all(p.has_default or p.variadic or p.name in bound for p in self.params)


def _accepts(param: str, arg: str | None, conversions: bool = True) -> bool:
    """Whether a value of TorchScript type ``arg`` may be passed for ``param`` (True when unsure)."""
    if arg is None or not param or param == arg or param == "Any" or _TYPEVAR.match(param):
        return True
    if param.startswith("Optional["):
        return arg == "None" or _accepts(param[9:-1], arg, conversions)
    if param == "number":
        return arg in ("int", "float", "complex") or (conversions and arg in ("bool", "Tensor"))
    if param in ("int", "float") and conversions:
        return arg in ("int", "bool", "Tensor") if param == "int" else arg in ("int", "float", "Tensor")
    if param.startswith("List["):
        inner = param[5:-1]
        if arg.startswith("List["):
            return _accepts(inner, arg[5:-1], conversions)
        if arg.startswith("Tuple["):
            return all(_accepts(inner, a, conversions) for a in _split(arg[6:-1]))
        return not _TYPEVAR.match(inner) and _accepts(inner, arg, conversions)  # packed into a list
    return False


_TYPEVAR = re.compile(r"^t\d*$")


def _split(text: str) -> list[str]:
    """``text`` split at its top-level commas (not those inside brackets)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    return parts + [tail] if tail or parts else parts


def parse_signature(text: str) -> Signature:
    """Parse one signature of the table (the format is described in ``scripts/gen_knowledge.py``):
    ``(tensors: List[Tensor], dim: int=, *, out: Tensor) -> Tensor``."""
    head, _, ret = text.rpartition(" -> ")
    params: list[Param] = []
    kwarg_only = False
    for part in _split(head[1:-1]):
        if part == "*":
            kwarg_only = True
            continue
        has_default = part.endswith("=")
        name, _, typ = part.rstrip("=").partition(": ")
        params.append(Param(name, typ, kwarg_only or name.startswith("**"), has_default))
    if ret.startswith("(") and ret.endswith(")"):
        fields = [f.partition(": ") for f in _split(ret[1:-1])]
        named = all(sep for _, sep, _ in fields)
        returns = tuple(t if sep else n for n, sep, t in fields)
        return Signature(tuple(params), returns, tuple(n for n, _, _ in fields) if named and fields else ())
    return Signature(tuple(params), (ret,))


def _agreed(signatures: list[Signature]) -> str | None:
    types = {s.return_type for s in signatures}
    return types.pop() if len(types) == 1 else None


def _takes_tensor_self(sig: Signature) -> bool:
    """The compiler's test for a Tensor method (``BuiltinFunction::tryCreate``): a parameter
    ``self`` whose type a Tensor is a subtype of."""
    return any(
        p.name == "self" and (p.type in ("Tensor", "Optional[Tensor]", "Any") or bool(_TYPEVAR.match(p.type)))
        for p in sig.params
    )


def _without_self(sig: Signature) -> Signature:
    return Signature(tuple(p for p in sig.params if p.name != "self"), sig.returns, sig.return_names)


@dataclass
class Knowledge:
    """One generated table. Attribute names follow the JSON; helpers answer rule questions."""

    torch_version: str
    tensor_methods: frozenset[str]
    tensor_properties: frozenset[str]
    unsupported_tensor_methods: frozenset[str]
    unsupported_tensor_properties: frozenset[str]
    builtins_supported: frozenset[str]
    builtins_unsupported: frozenset[str]
    builtins_opaque: frozenset[str]
    math_supported: frozenset[str]
    math_unsupported: frozenset[str]
    math_constants: frozenset[str]
    raw_functions: dict[str, dict] = field(repr=False, default_factory=dict)
    raw_tensor_methods: dict[str, dict] = field(repr=False, default_factory=dict)
    raw_math: dict[str, dict] = field(repr=False, default_factory=dict)
    raw_builtins: dict[str, dict] = field(repr=False, default_factory=dict)
    raw_schemas: dict[str, list[str]] = field(repr=False, default_factory=dict)
    property_types: dict[str, str] = field(repr=False, default_factory=dict)
    math_constant_types: dict[str, str] = field(repr=False, default_factory=dict)
    # torch decorators: the module of the wrapper each returns, its closure, the global names of
    # those modules, and the typing/builtins names name resolution falls back to
    raw_decorators: dict[str, Any] = field(repr=False, default_factory=dict)
    # what an eager call of an operator with no schema returns (``torch.FloatTensor``: Tensor)
    eager_returns: dict[str, str] = field(repr=False, default_factory=dict)
    source: Path | None = None
    _parsed: dict[str, tuple[Signature, ...]] = field(repr=False, default_factory=dict)

    # ---- signatures (parsed on first use, once per operator or entry)
    def _signatures(self, key: str, texts: list[str]) -> tuple[Signature, ...]:
        sigs = self._parsed.get(key)
        if sigs is None:
            sigs = self._parsed[key] = tuple(parse_signature(t) for t in texts)
        return sigs

    def _entry_signatures(self, prefix: str, name: str, entry: dict | None) -> tuple[Signature, ...]:
        if not entry:
            return ()
        if "op" in entry:
            return self._signatures(entry["op"], self.raw_schemas.get(entry["op"], []))
        return self._signatures(f"{prefix}:{name}", entry.get("overloads", []))

    def function_overloads(self, qualname: str, flags: Mapping[str, bool] | None = None) -> list[Signature]:
        """The overloads of ``torch.X`` / ``torch.nn.functional.X`` / ``torch.linalg.X`` ... that
        TorchScript accepts, in the order the compiler tries them; empty when it accepts none
        (not in the table, an operator with no schema, a Python function that does not compile).
        ``flags``: constant values of a ``boolean_dispatch`` flag (``{"return_indices": True}``
        for ``F.max_pool2d``), which pick the function the compiler calls; without: all of them."""
        out: list[Signature] = []
        for group in self._function_groups(qualname, flags or {}, None):
            out += [s for s in group if s not in out]
        return out

    def _function_groups(
        self, qualname: str, flags: Mapping[str, bool], passed: set[str] | None
    ) -> list[list[Signature]]:
        """The overloads, grouped by the function a ``boolean_dispatch`` may call (one group otherwise)."""
        if self.function_compiles(qualname) is not True:
            return []
        entry = self.raw_functions[qualname]
        sigs = self._entry_signatures("function", qualname, entry)
        if "dispatch" not in entry:
            return [list(sigs)]
        return [[sigs[i] for i in leaf] for leaf in _dispatch_leaves(entry["dispatch"], flags, passed)]

    def method_overloads(self, name: str) -> list[Signature]:
        """The overloads of the Tensor method ``x.NAME(...)``, without ``self``; empty when the
        table has none (an unsupported method, or ``tolist``, whose type comes from an annotation)."""
        sigs = self._entry_signatures("method", name, self.raw_tensor_methods.get(name))
        entry = self.raw_tensor_methods.get(name) or {}
        if "op" not in entry:
            return list(sigs)
        return [_without_self(s) for s in sigs if _takes_tensor_self(s)]

    def math_overloads(self, name: str) -> list[Signature]:
        """The overloads of ``math.NAME(...)`` (the operator the compiler calls for it)."""
        return list(self._entry_signatures("math", name, self.raw_math.get(name)))

    def builtin_overloads(self, name: str) -> list[Signature]:
        """The overloads of the Python builtin ``NAME(...)`` when the compiler maps it to an
        operator (``len``, ``int``, ``round``, ``abs``, ``max``); empty for the special forms
        (``range``, ``isinstance``, ``print``, ...)."""
        return list(self._entry_signatures("builtin", name, self.raw_builtins.get(name)))

    def property_type(self, name: str) -> str | None:
        """The TorchScript type of the Tensor property ``x.NAME`` (``shape``: ``List[int]``)."""
        return self.property_types.get(name)

    def function_return(
        self,
        qualname: str,
        args: Sequence[str | None] | None = None,
        keywords: Mapping[str, str | None] | None = None,
        flags: Mapping[str, bool] | None = None,
    ) -> str | None:
        """The TorchScript type ``qualname(...)`` returns when all its overloads agree, else None.
        With ``args`` (the TorchScript types of the positional arguments, None for unknown) and/or
        ``keywords``, only the overloads such a call binds to count: ``torch.sum`` alone
        disagrees (``sum(List[int]) -> int``), ``function_return("torch.sum", ["Tensor"])`` is
        ``"Tensor"``. A ``boolean_dispatch`` flag the call does not pass takes its default
        (``F.max_pool2d(x, 2)``: ``Tensor``); one it passes counts only with its value in ``flags``."""
        passed = None
        if args is not None or keywords is not None:
            passed = set(keywords or ()) | {f"#{i}" for i in range(len(args or ()))}
        # each function a boolean_dispatch may call picks its own overload; they must agree
        found = [_matching(group, args, keywords) for group in self._function_groups(qualname, flags or {}, passed)]
        return _agreed([s for group in found for s in group])

    def method_return(
        self, name: str, args: Sequence[str | None] | None = None, keywords: Mapping[str, str | None] | None = None
    ) -> str | None:
        """The TorchScript type ``tensor.NAME(...)`` returns when all (matching) overloads agree:
        ``method_return("size")`` is None, ``method_return("size", [])`` is ``"List[int]"``."""
        return _agreed(_matching(self.method_overloads(name), args, keywords))

    def math_return(
        self, name: str, args: Sequence[str | None] | None = None, keywords: Mapping[str, str | None] | None = None
    ) -> str | None:
        """The TorchScript type ``math.NAME(...)`` returns when all (matching) overloads agree."""
        return _agreed(_matching(self.math_overloads(name), args, keywords))

    def builtin_return(
        self, name: str, args: Sequence[str | None] | None = None, keywords: Mapping[str, str | None] | None = None
    ) -> str | None:
        """The TorchScript type the builtin ``NAME(...)`` returns when all (matching) overloads
        agree: ``builtin_return("round", ["float"])`` is ``"float"``."""
        return _agreed(_matching(self.builtin_overloads(name), args, keywords))

    def eager_function_return(
        self, qualname: str, args: Sequence[str | None] | None = None, keywords: Mapping[str, str | None] | None = None
    ) -> str | None:
        """The type an eager (Python) call of ``qualname`` returns, as far as the tables tell: the
        type all its overloads return, else the one all the overloads a call with ``args`` /
        ``keywords`` binds to agree on (``torch.max(x)``: ``Tensor``); for an operator with no
        schema, the type torch documents (``torch.from_numpy``, ``torch.FloatTensor``: ``Tensor``)."""
        found = self.function_return(qualname)
        if found is None and (args is not None or keywords is not None):
            found = self.function_return(qualname, args, keywords)
        return found if found is not None else self.eager_returns.get(qualname)

    def eager_method_return(
        self, name: str, args: Sequence[str | None] | None = None, keywords: Mapping[str, str | None] | None = None
    ) -> str | None:
        """The type an eager call ``tensor.NAME(...)`` returns, as far as the tables tell: the type
        all the method's overloads return, else the one all the overloads a call with ``args`` /
        ``keywords`` binds to agree on (``x.max()``: ``Tensor``, ``x.max(0)``: a tuple)."""
        found = self.method_return(name)
        if found is None and (args is not None or keywords is not None):
            found = self.method_return(name, args, keywords)
        return found

    def function_compiles(self, qualname: str) -> bool | None:
        """True when TorchScript accepts a call of ``qualname`` (an operator with schemas, or a
        Python function it compiles), False when it rejects every call ("Unknown builtin op",
        a Python function that does not compile), None when the table does not list it."""
        entry = self.raw_functions.get(qualname)
        if not entry:
            return None
        return entry["kind"] == "builtin" or (entry["kind"] == "python" and entry.get("compiles", True))

    # ---- functions
    def function_kind(self, qualname: str) -> str | None:
        """``"builtin"`` (a registered operator), ``"python"`` (compiled from source),
        ``"unknown-op"`` (maps to an operator with no schema) or None (not in the table)."""
        entry = self.raw_functions.get(qualname)
        return entry["kind"] if entry else None

    def overloads(self, qualname: str) -> list[list[Arg]]:
        """The argument lists of ``torch.X`` / ``torch.nn.functional.X`` (also the Python
        signature, types unknown, of a Python function that does not compile)."""
        sigs = self._entry_signatures("function", qualname, self.raw_functions.get(qualname))
        return [list(s.params) for s in sigs]

    def accepts_keyword(self, qualname: str, keyword: str) -> bool | None:
        """Whether some overload of ``qualname`` has an argument named ``keyword``; None when
        the table cannot tell (not in the table, or a signature with ``**kwargs``)."""
        ovs = self.overloads(qualname)
        if not ovs:
            return None
        for ov in ovs:
            for a in ov:
                if a.name.startswith("**"):
                    return None
                if a.name == keyword:
                    return True
        return False

    def tensor_method_overloads(self, name: str) -> list[list[Arg]]:
        """Argument lists (after ``self``) of ``x.NAME(...)``."""
        return [list(s.params) for s in self.method_overloads(name)]

    def tensor_member_unsupported(self, name: str) -> str | None:
        """``"method"`` / ``"property"`` when TorchScript's Tensor lacks ``name``, else None."""
        if name in self.unsupported_tensor_methods:
            return "method"
        if name in self.unsupported_tensor_properties:
            return "property"
        return None


def _dispatch_leaves(node: dict | list, flags: Mapping[str, bool], passed: set[str] | None) -> list[list[int]]:
    """The functions (each a list of overload indices) a ``boolean_dispatch`` tree may call: a
    flag with a value in ``flags`` picks its branch; one the call does not pass (``passed``:
    keyword names and ``#i`` for the positions filled; None: the call is not known) takes its
    default; otherwise both."""
    if isinstance(node, list):
        return [node]
    arg = node["arg"]
    if arg in flags:
        value = flags[arg]
    elif passed is not None and arg not in passed and f"#{node['index']}" not in passed:
        value = node["default"]
    else:
        return _dispatch_leaves(node["false"], flags, passed) + _dispatch_leaves(node["true"], flags, passed)
    return _dispatch_leaves(node["true" if value else "false"], flags, passed)


def _matching(
    sigs: list[Signature], args: Sequence[str | None] | None, keywords: Mapping[str, str | None] | None
) -> list[Signature]:
    """The overloads a call may pick. With every argument type known, the compiler's choice:
    the first overload that binds without conversions, else the first that binds with them."""
    if args is None and keywords is None:
        return sigs
    args, keywords = args or (), keywords or {}
    known = all(a is not None for a in args) and all(t is not None for t in keywords.values())
    for conversions in (False, True):
        found = [s for s in sigs if s.binds(args, keywords, conversions)]
        if found:
            return found[:1] if known else found
    return []


def _version_tuple(v: str) -> tuple[int, int]:
    m = re.match(r"^\s*(\d+)(?:\.(\d+))?", v or "")
    if not m:
        raise ValueError(f"not a torch version: {v!r}")
    return int(m.group(1)), int(m.group(2) or 0)


def pick(target_version: str | None, data_dir: Path = DATA_DIR) -> Path:
    """The table for ``target_version``: exact minor, else the nearest older, else the newest."""
    tables = available(data_dir)
    if not tables:
        raise FileNotFoundError(f"no knowledge tables in {data_dir}")
    newest = max(tables)
    if not target_version:
        return tables[newest]
    try:
        want = _version_tuple(target_version)
    except ValueError:
        return tables[newest]
    if want in tables:
        return tables[want]
    older = [v for v in tables if v < want]
    return tables[max(older)] if older else tables[newest]


def _from_json(data: dict, source: Path | None) -> Knowledge:
    t, b, m = data["tensor"], data["builtins"], data["math"]
    return Knowledge(
        torch_version=data["torch_version"],
        tensor_methods=frozenset(t["methods"]),
        tensor_properties=frozenset(t["properties"]),
        unsupported_tensor_methods=frozenset(t["unsupported_methods"]),
        unsupported_tensor_properties=frozenset(t["unsupported_properties"]),
        builtins_supported=frozenset(b["supported"]),
        builtins_unsupported=frozenset(b["unsupported"]),
        builtins_opaque=frozenset(b["opaque"]),
        math_supported=frozenset(m["supported"]),
        math_unsupported=frozenset(m["unsupported"]),
        math_constants=frozenset(m["constants"]),
        raw_functions=data["functions"],
        raw_tensor_methods=data["tensor_method_signatures"],
        raw_math=data["math_signatures"],
        raw_builtins=data["builtin_signatures"],
        raw_schemas=data["schemas"],
        property_types=data["value_types"]["tensor_properties"],
        math_constant_types=data["value_types"]["math_constants"],
        raw_decorators=data.get("decorators", {}),
        eager_returns=data.get("eager_returns", {}),
        source=source,
    )


@cache
def _load_path(path: Path) -> Knowledge:
    with open(path, encoding="utf-8") as f:
        return _from_json(json.load(f), path)


def load(target_version: str | None = None) -> Knowledge:
    """The table for ``target_version`` (``"2.13"``, ``"2.13.0"``; None: the newest)."""
    return _load_path(pick(target_version))
