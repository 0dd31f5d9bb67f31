#!/usr/bin/env python
"""Generate ``tsscan/data/torch-<major>.<minor>.json``: what TorchScript knows in the installed torch.

    python scripts/gen_knowledge.py            # writes the table for the installed torch
    python scripts/gen_knowledge.py --stdout   # prints it instead

Everything in the table is measured, not typed in:

* ``tensor``: every public member of ``torch.Tensor`` is probed by compiling ``x.NAME()`` with
  ``torch.jit.CompilationUnit``. A member is *unsupported* when the compiler answers that the
  Tensor "has no attribute or method" (the shipped ``torch/jit/unsupported_tensor_ops.py`` still
  greps for an older wording and finds nothing in 2.13). Members are split into methods and
  properties by what they are on a real tensor.
* ``builtins`` / ``math``: every public Python builtin and ``math`` member is compiled in a few
  call shapes. *unsupported*: the compiler says "Python builtin ... is currently not supported";
  *opaque*: builtin classes (``map``, ``reversed``, ...) that TorchScript does not implement and
  treats as an unknown class whose constructor takes Tensors (so they fail on anything else).
* ``tensor_method_overloads``: for supported Tensor methods that are ``aten::NAME`` operators,
  the argument lists after ``self`` (name, type, keyword-only, has a default).
* ``functions``: public callables of ``torch`` and ``torch.nn.functional``. ``builtin`` ones map
  to a registered operator (``torch.jit._builtins``); their overloads come from the registered
  schemas (argument name, type, keyword-only, has a default). ``python`` ones are compiled from
  their source; their signature is the Python one. ``unknown-op`` maps to an operator with no
  schema (``torch.Tensor`` -> ``aten::Tensor``: "Unknown builtin op").

The output is deterministic (sorted), so ``tests/test_knowledge.py`` can regenerate it and compare.
"""

from __future__ import annotations

import argparse
import builtins
import inspect
import json
import math
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tsscan" / "data"
FORMAT = 1

NO_MEMBER = ("has no attribute or method", "nonexistent attribute")
NOT_SUPPORTED = "is currently not supported in Torchscript"


def _compile_error(src: str):
    import torch

    try:
        torch.jit.CompilationUnit(src)
    except Exception as exc:  # noqa: BLE001 - any compiler error is an answer
        return str(exc) or type(exc).__name__
    return None


def tensor_members():
    import torch

    t = torch.tensor([2])
    out = {"methods": [], "properties": [], "unsupported_methods": [], "unsupported_properties": []}
    for name in sorted({a for a in dir(torch.Tensor) if not a.startswith("_")}):
        err = _compile_error(f"def f(x: Tensor):\n    return x.{name}()\n")
        try:
            r = repr(getattr(t, name))
        except Exception:  # noqa: BLE001
            r = ""
        is_method = "bound method" in r or "built-in method" in r or "method-wrapper" in r
        supported = not (err and any(m in err for m in NO_MEMBER))
        key = ("" if supported else "unsupported_") + ("methods" if is_method else "properties")
        out[key].append(name)
    return out


def python_builtins():
    out = {"supported": [], "unsupported": [], "opaque": []}
    sig = "def f(a: int, l: List[int]):\n    return "
    for name in sorted(n for n in dir(builtins) if not n.startswith("_") and n[:1].islower()):
        obj = getattr(builtins, name)
        if not callable(obj) or name in ("copyright", "credits", "exit", "help", "license", "quit"):
            continue
        errors = [_compile_error(sig + f"{name}({args})\n") for args in ("", "a", "a, a", "l")]
        if all(e and NOT_SUPPORTED in e for e in errors):
            out["unsupported"].append(name)
        elif inspect.isclass(obj) and all(e and e.lstrip().startswith(f"{name}(Tensor 0") for e in errors[1:]):
            out["opaque"].append(name)
        else:
            out["supported"].append(name)
    return out


def math_members():
    out = {"supported": [], "unsupported": [], "constants": [], "unsupported_constants": []}
    sig = "def f(a: float, b: float, l: List[float]):\n    return "
    for name in sorted(n for n in dir(math) if not n.startswith("_")):
        obj = getattr(math, name)
        if not callable(obj):
            err = _compile_error(sig + f"math.{name}\n")
            out["constants" if err is None else "unsupported_constants"].append(name)
            continue
        errors = [_compile_error(sig + f"math.{name}({args})\n") for args in ("a", "a, b", "l")]
        if all(e and NOT_SUPPORTED in e for e in errors):
            out["unsupported"].append(name)
        else:
            out["supported"].append(name)
    return out


def _annotation(ann) -> str:
    if ann is inspect.Parameter.empty:
        return ""
    if isinstance(ann, str):
        return ann
    return inspect.formatannotation(ann).replace("typing.", "")


def functions():
    import torch
    import torch._jit_internal as _jit_internal
    import torch.jit._builtins as jit_builtins
    import torch.nn.functional as F

    table = {}
    for mod, prefix in ((torch, "torch"), (F, "torch.nn.functional")):
        for name in sorted(dir(mod)):
            if name.startswith("_"):
                continue
            try:
                obj = getattr(mod, name)
            except Exception:  # noqa: BLE001
                continue
            if not callable(obj) or inspect.ismodule(obj):
                continue
            try:
                op = jit_builtins._find_builtin(obj)
            except Exception:  # noqa: BLE001 - unhashable objects
                op = None
            qual = f"{prefix}.{name}"
            if op:
                schemas = torch._C._jit_get_schemas_for_operator(op)
                if not schemas:
                    table[qual] = {"kind": "unknown-op", "op": op}
                    continue
                overloads = []
                for s in schemas:
                    overloads.append(
                        [[a.name, str(a.type), bool(a.kwarg_only), bool(a.has_default_value())] for a in s.arguments]
                    )
                overloads.sort()
                table[qual] = {"kind": "builtin", "op": op, "overloads": overloads}
            elif inspect.isfunction(obj):
                # boolean_dispatch (torch.unique, F.max_pool2d, ...): TorchScript compiles one of
                # two functions depending on a bool argument; both signatures are overloads
                dispatch = _jit_internal.boolean_dispatched.get(obj)
                targets = [dispatch["if_false"], dispatch["if_true"]] if dispatch else [obj]
                overloads = [_python_signature(t) for t in targets]
                overloads = [o for i, o in enumerate(overloads) if o is not None and o not in overloads[:i]]
                if overloads:
                    table[qual] = {"kind": "python", "overloads": overloads}
    return table


def _python_signature(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    args = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            args.append(["*" + p.name, "", False, False])
        elif p.kind is p.VAR_KEYWORD:
            args.append(["**" + p.name, "", True, False])
        else:
            args.append(
                [
                    p.name,
                    _annotation(p.annotation),
                    p.kind is p.KEYWORD_ONLY,
                    p.default is not p.empty,
                ]
            )
    return args


def tensor_method_overloads(methods):
    """Argument lists (after ``self``) of the ``aten::NAME`` schemas of supported Tensor
    methods; methods TorchScript implements otherwise are left out."""
    import torch

    out = {}
    for name in methods:
        overloads = []
        for s in torch._C._jit_get_schemas_for_operator(f"aten::{name}"):
            args = list(s.arguments)
            if not args or args[0].name != "self" or str(args[0].type) != "Tensor":
                continue
            overloads.append([[a.name, str(a.type), bool(a.kwarg_only), bool(a.has_default_value())] for a in args[1:]])
        if overloads:
            out[name] = sorted(overloads)
    return out


def generate() -> dict:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        version = torch.__version__.split("+")[0]
        tensor = tensor_members()
        return {
            "format": FORMAT,
            "torch_version": version,
            "generated_by": "scripts/gen_knowledge.py",
            "tensor": tensor,
            "tensor_method_overloads": tensor_method_overloads(tensor["methods"]),
            "builtins": python_builtins(),
            "math": math_members(),
            "functions": functions(),
        }


def dump(table: dict) -> str:
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


def table_path(version: str) -> Path:
    major, minor = version.split(".")[:2]
    return DATA / f"torch-{major}.{minor}.json"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stdout", action="store_true", help="print the table instead of writing it")
    ap.add_argument("--out", type=Path, help="write here instead of tsscan/data/torch-X.Y.json")
    args = ap.parse_args(argv)
    table = generate()
    text = dump(table)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    path = args.out or table_path(table["torch_version"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    t = table["tensor"]
    print(
        f"{path}: torch {table['torch_version']}, "
        f"{len(t['unsupported_methods'])} unsupported Tensor methods, "
        f"{len(t['unsupported_properties'])} unsupported properties, "
        f"{len(table['functions'])} functions"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
