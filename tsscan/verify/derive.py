"""Worker side: build a module class whose constructor needs arguments, and make its inputs.

Loaded by path by :mod:`tsscan.verify.torch_worker` (it imports only the stdlib and torch, never
tsscan). Arguments come from the parameter's annotation and its conventional name, in a few
consistent sets tried in turn until one builds: widths that every head count and group count
divides (set A: 32 wide, 4 heads; set B: 16 wide, 2 heads), ``nn.Identity()`` for a module,
``nn.Identity`` for a layer class (``act_layer``, ``norm_layer``). Parameters with defaults keep
them. Inputs follow ``forward``'s annotations (an unannotated parameter is a Tensor, as in
TorchScript) and the first layer the input meets: ``Conv2d(C)`` gives ``(2, C, 16, 16)``,
``Linear(F)`` gives ``(2, F)``, ``Embedding(N)`` gives integer ids below ``N``.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import re
import typing
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

# (name pattern, value in set A, value in set B); the first match wins
INT_NAMES: list[tuple[str, int, int]] = [
    (r"(^|_)(num_)?heads?$|^n_?heads?$|num_attention_heads|heads_num", 4, 2),
    (r"head_dim|dim_head|head_size|key_dim|d_head", 8, 8),
    (r"(^|_)(depths?|num_layers|n_layers|layers|num_blocks|n_blocks|blocks|repeats)$", 1, 2),
    (r"kernel(_size)?$|^k$|ksize", 3, 1),
    (r"stride", 1, 2),
    (r"padding|^pad$", 1, 0),
    (r"dilation", 1, 1),
    (r"groups$|num_groups", 4, 1),
    (r"num_classes|n_classes|classes|num_labels", 10, 4),
    (r"vocab|num_tokens|n_tokens|num_embeddings", 100, 64),
    (r"seq_len|max_len|max_length|context_length|max_seq|num_positions|block_size", 16, 32),
    (r"patch_size|patch$", 4, 2),
    (r"img_size|image_size|input_size|resolution", 32, 16),
    (r"window_size|window", 4, 2),
    (r"scale_factor|upscale|factor|ratio|mult|expansion|reduction", 2, 4),
    (r"dim|channels|chans|hidden|features|embed|d_model|size|width|units|planes|in_ch|out_ch|emb", 32, 16),
    (r"^num_|^n_|count|number", 2, 4),
]
FLOAT_NAMES = re.compile(r"drop|eps|rate|^p$|prob|scale|alpha|beta|gamma|momentum|temperature|std|tau|lambda")
LAYER_NAMES = re.compile(r"(_layer|_cls|_class|_type|activation|act)$|^act|^norm$")
MODULE_NAMES = re.compile(r"(^|_)(module|model|block|layer|net|encoder|decoder|backbone|head|embedding)s?$")
SETS = ("A", "B")


def _ann(p: inspect.Parameter) -> str:
    a = p.annotation
    if a is inspect.Parameter.empty:
        return ""
    if isinstance(a, str):
        return a
    if getattr(a, "__origin__", None) is not None:
        return str(a)  # typing.List[torch.Tensor] (whose __name__ is just "List")
    return getattr(a, "__name__", None) or str(a)


def _int_for(name: str, which: int) -> int:
    low = name.lower()
    for rx, a, b in INT_NAMES:
        if re.search(rx, low):
            return a if which == 0 else b
    return 32 if which == 0 else 16


_SEQUENCES = (list, collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable)


def _structured(t: Any) -> bool:
    """A dataclass, or a container of containers or dataclasses (``List[Tuple[int, ...]]``)."""
    if isinstance(t, type) and dataclasses.is_dataclass(t):
        return True
    args = [a for a in typing.get_args(t) if a is not Ellipsis]
    return typing.get_origin(t) not in (None, typing.Union) and any(
        typing.get_origin(a) is not None or dataclasses.is_dataclass(a) for a in args
    )


def typed_value(t: Any, name: str, which: int) -> Any:
    """A value for an annotation *object* whose structure its text does not give
    (``List[Tuple[int, ...]]``: a list of int pairs; a dataclass config: built from its defaults,
    its required fields derived the same way). LookupError: left to :func:`value_for`'s reading
    of the text (unions, strings, flat containers and what this does not know)."""
    if not _structured(t):
        raise LookupError(name)
    return _build(t, name, which, 0)


def _build(t: Any, name: str, which: int, depth: int) -> Any:
    origin, args = typing.get_origin(t), typing.get_args(t)
    if depth > 3 or origin is typing.Union:
        raise LookupError(name)
    if origin in _SEQUENCES:
        v = _build(args[0], name, which, depth + 1) if args else _int_for(name, which)
        return [v, v]
    if origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            v = _build(args[0], name, which, depth + 1) if args else _int_for(name, which)
            return (v, v)
        return tuple(_build(a, name, which, depth + 1) for a in args)
    if t is int:
        return _int_for(name, which)
    if t is float:
        return 0.0
    if t is bool:
        return False
    if isinstance(t, type) and dataclasses.is_dataclass(t):
        required = {
            f.name: _build(f.type, f.name, which, depth + 1)
            for f in dataclasses.fields(t)
            if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        return t(**required)
    raise LookupError(name)


def value_for(name: str, p: inspect.Parameter, which: int) -> Any:
    """A value for a required parameter; LookupError when nothing sensible can be guessed."""
    if p.annotation is not inspect.Parameter.empty and not isinstance(p.annotation, str):
        try:
            return typed_value(p.annotation, name, which)
        except (LookupError, TypeError):
            pass
    ann, low = _ann(p), name.lower()
    if re.match(r"Optional\[|.*\| None$", ann):
        ann = re.sub(r"^Optional\[(.*)\]$|^(.*) \| None$", r"\1\2", ann)
    if re.search(r"\bbool\b", ann):
        return False
    if "Module" in ann and not re.search(r"Type\[|type\[|Callable", ann):
        return nn.ModuleList([nn.Identity()]) if re.search(r"List|Sequence", ann) else nn.Identity()
    if re.search(r"Callable|Type\[|type\[", ann) or (not ann and LAYER_NAMES.search(low)):
        return nn.Identity
    if "Tensor" in ann:
        return torch.zeros(4)
    if re.search(r"\bfloat\b", ann) or (not ann and FLOAT_NAMES.search(low) and not re.search(r"dim|size|num", low)):
        return 1e-5 if "eps" in low else 0.0
    seq = bool(re.search(r"List|Tuple|Sequence|list|tuple", ann)) or (
        not ann and bool(re.search(r"(dims|sizes|depths)$", low))
    )
    for rx, a, b in INT_NAMES:
        if re.search(rx, low):
            v = a if which == 0 else b
            return ([v, v] if "List" in ann or "list" in ann or not ann else (v, v)) if seq else v
    if not ann and MODULE_NAMES.search(low):
        return nn.Identity()
    if "int" in ann or not ann:
        return (32 if which == 0 else 16) if not seq else [32, 32]
    raise LookupError(f"no value for {name}: {ann}")


def _init_signature(cls: type) -> inspect.Signature | None:
    """The ``__init__`` that takes the arguments: a subclass's ``(*args, **kwargs)`` passes on
    to its base's."""
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return None
        if any(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in list(sig.parameters.values())[1:]):
            return sig
    return None


def argument_sets(cls: type) -> Iterator[tuple[str, dict[str, Any]]]:
    """(description, keyword arguments) for each set of derived arguments."""
    sig = _init_signature(cls)
    if sig is None:
        return
    required = [
        (n, p)
        for n, p in list(sig.parameters.items())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.default is inspect.Parameter.empty
    ]
    if not required:
        return
    for which, label in enumerate(SETS):
        kw = {n: value_for(n, p, which) for n, p in required}
        yield f"derived set {label}: " + ", ".join(f"{k}={_short(v)}" for k, v in kw.items()), kw


def _short(v: Any) -> str:
    if inspect.isclass(v):
        return f"nn.{v.__name__}" if v.__module__.startswith("torch.nn") else v.__name__
    if isinstance(v, nn.Module):
        return f"nn.{type(v).__name__}()"
    s = repr(v)
    return s if len(s) < 30 else s[:27] + "..."


# --------------------------------------------------------------------------- inputs
def forward_params(obj: Any) -> list[tuple[str, str]] | None:
    """(name, kind) of the arguments to pass: each required parameter of ``forward`` (an
    unannotated one is a Tensor, as TorchScript types it), and the annotated Tensors after them;
    None when one cannot be made."""
    is_module = isinstance(obj, nn.Module)
    try:
        sig = inspect.signature(type(obj).forward if is_module else obj)
    except (TypeError, ValueError):
        return None
    out: list[tuple[str, str]] = []
    for i, p in enumerate(sig.parameters.values()):
        if i == 0 and is_module:
            continue  # self
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            if p.kind == p.VAR_KEYWORD or out:
                break
            return None
        ann = _ann(p)
        kind = _kind(ann)
        if p.default is not p.empty:
            if kind != "tensor" or not ann:
                break
            continue  # an optional Tensor argument keeps its default
        if kind is None:
            return None
        out.append((p.name, kind))
    return out or None


def _kind(ann: str) -> str | None:
    if ann in ("", "torch.Tensor", "Tensor"):
        return "tensor"
    if re.fullmatch(r"(typing\.)?List\[(torch\.)?Tensor\]", ann.replace(" ", "")):
        return "tensors"  # two Tensors of the same shape (TS409's `x: List[torch.Tensor]`)
    if ann in ("int", "float", "bool"):
        return ann
    members = _union_members(ann.replace(" ", ""))
    if members is not None and any(m in ("torch.Tensor", "Tensor") for m in members):
        return "tensor"  # a Tensor is one of the values the Union takes
    return None


def _union_members(ann: str) -> list[str] | None:
    """``typing.Union[torch.Tensor,typing.Dict[str,torch.Tensor]]`` -> its top-level members."""
    m = re.fullmatch(r"(typing\.)?Union\[(.*)\]", ann)
    if m is None:
        return None
    out, depth, cur = [], 0, ""
    for ch in m.group(2):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [*out, cur]


def first_layer_shapes(obj: Any) -> list[tuple[str, tuple[int, ...]]]:
    """("float" or "ids", shape) suggested by the first layers (registration order), then
    common shapes."""
    shapes: list[tuple[str, tuple[int, ...]]] = []
    for m in obj.modules() if isinstance(obj, nn.Module) else ():
        if isinstance(m, nn.Embedding):
            shapes.append(("ids", (2, 7)))
        elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            shapes.append(("float", (2, m.in_channels, 16, 16)))
        elif isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
            shapes.append(("float", (2, m.in_channels, 16)))
        elif isinstance(m, nn.Conv3d):
            shapes.append(("float", (2, m.in_channels, 4, 8, 8)))
        elif isinstance(m, nn.Linear):
            shapes += [("float", (2, m.in_features)), ("float", (2, 5, m.in_features))]
        elif isinstance(m, nn.LayerNorm):
            shapes.append(("float", (2, 5, *m.normalized_shape)))
        elif isinstance(m, nn.BatchNorm2d):
            shapes.append(("float", (2, m.num_features, 8, 8)))
        elif isinstance(m, nn.BatchNorm1d):
            shapes.append(("float", (2, m.num_features)))
        if len(shapes) >= 3:
            break
    common = [(2, 8), (2, 3, 16, 16), (2, 16), (2, 32), (2, 5, 32), (2, 4, 8), (2, 64), (1, 3, 32, 32), (4,)]
    shapes += [("float", s) for s in common]
    return list(dict.fromkeys(shapes))


def embedding_size(obj: Any) -> int:
    for m in obj.modules() if isinstance(obj, nn.Module) else ():
        if isinstance(m, nn.Embedding):
            return int(m.num_embeddings)
    return 10


def _with_specials(t: torch.Tensor) -> torch.Tensor:
    """``t`` scaled, with NaN, 0, -inf (or -2) and -0.0 as its first values."""
    t = (t * 3).clone()
    flat = t.view(-1)
    if flat.numel() >= 4:
        flat[0] = float("nan")
        flat[1] = 0.0
        flat[2] = -float("inf") if flat.numel() > 8 else -2.0
        flat[3] = -0.0
    return t


def shaped_inputs(shapes: list[tuple[int, ...]]) -> list[tuple[Any, ...]]:
    """Random float inputs, one shape per argument (``[tool.tsscan.verify] shapes``): plain
    values, then with NaN, inf, negatives and zeros mixed in."""
    gen = torch.Generator().manual_seed(1234)
    plain = tuple(torch.randn(s, generator=gen) for s in shapes)
    return [plain, tuple(_with_specials(t) for t in plain)]


def input_sets(params: list[tuple[str, str]], kind: str, shape: tuple[int, ...], vocab: int) -> list[tuple[Any, ...]]:
    """Inputs of one shape for every Tensor argument (ints 2, floats 0.5, bools False for the
    others): plain values, then (floats only) with NaN, inf, negatives and zeros mixed in."""
    gen = torch.Generator().manual_seed(1234)
    scalars: dict[str, Any] = {"int": 2, "float": 0.5, "bool": False}

    def one(k: str) -> Any:
        if k == "tensors":
            return [one("tensor"), one("tensor")]
        if k != "tensor":
            return scalars[k]
        return torch.randint(0, vocab, shape, generator=gen) if kind == "ids" else torch.randn(shape, generator=gen)

    plain = tuple(one(k) for _, k in params)
    if kind == "ids":
        return [plain]

    def specials(v: Any) -> Any:
        if isinstance(v, list):
            return [specials(t) for t in v]
        return _with_specials(v) if isinstance(v, torch.Tensor) else v

    return [plain, tuple(specials(v) for v in plain)]
