"""Generate ``tsscan/data/nn-forwards-<major>.<minor>.json``: the TorchScript signature of the
``forward`` of every ``torch.nn`` module class, for checking calls of submodules
(``self.norm(h, zq)`` where ``self.norm = nn.GroupNorm(...)``).

Run it with the torch the table is for (it imports torch; checking never does)::

    .venv/bin/python scripts/gen_nn_forwards.py

Each parameter's type is what the compiler makes of its annotation
(``torch.jit.annotations.ann_to_type``); a parameter without one is a Tensor and is listed in
``inferred``. The return type is the compiler's reading of the return annotation (the compiler
checks the body against it), left empty (unknown) where there is none. Classes whose ``forward`` has overloads (``nn.LSTM``), takes ``*args``, or has an
annotation the compiler cannot read are left out: nothing is checked against them.
"""

from __future__ import annotations

import inspect
import json
import sys
import typing
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tsscan" / "data"


def _param_text(name: str, t: str, default: bool, kw_only: bool) -> str:
    return f"{name}: {t}{'=' if default else ''}"


def _return_text(hints: dict, ann_to_type, fake_range) -> str:
    """What the compiler makes of ``forward``'s return annotation; empty (unknown) without one,
    or when it names a type outside the signature vocabulary (a class of torch, ``Any``)."""
    if "return" not in hints:
        return ""
    try:
        t = str(ann_to_type(hints["return"], fake_range()))
    except (ValueError, RuntimeError, TypeError):
        return ""
    return "" if "__torch__" in t or t == "Any" else t


def forwards() -> dict[str, dict]:
    import torch
    from torch import nn
    from torch._sources import fake_range
    from torch.jit.annotations import ann_to_type

    out: dict[str, dict] = {}
    for name in sorted(dir(nn)):
        cls = getattr(nn, name)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)) or cls.forward is nn.Module.forward:
            continue
        fwd = cls.forward
        if torch._jit_internal._get_overloaded_methods(fwd, cls):
            continue
        try:
            sig = inspect.signature(fwd)
            hints = typing.get_type_hints(fwd)
        except (TypeError, NameError, ValueError):
            continue
        params = list(sig.parameters.values())[1:]
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            continue
        parts: list[str] = []
        inferred: list[str] = []
        star = False
        ok = True
        for p in params:
            if p.kind == p.KEYWORD_ONLY and not star:
                parts.append("*")
                star = True
            if p.name in hints:
                try:
                    t = str(ann_to_type(hints[p.name], fake_range()))
                except (ValueError, RuntimeError, TypeError):
                    ok = False
                    break
            else:
                t = "Tensor"
                inferred.append(p.name)
            parts.append(_param_text(p.name, t, p.default is not p.empty, star))
        if not ok:
            continue
        entry = {
            "signature": f"({', '.join(parts)}) -> {_return_text(hints, ann_to_type, fake_range)}",
            "inferred": inferred,
        }
        out[f"torch.nn.{name}"] = entry
        out[f"{cls.__module__}.{cls.__qualname__}"] = entry
    return out


def main() -> None:
    import torch

    major, minor = torch.__version__.split(".")[:2]
    data = {
        "torch_version": torch.__version__,
        "generated_by": "scripts/gen_nn_forwards.py",
        "forwards": forwards(),
    }
    path = OUT / f"nn-forwards-{major}.{minor}.json"
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(data['forwards'])} entries)", file=sys.stderr)


if __name__ == "__main__":
    main()
