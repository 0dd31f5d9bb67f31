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
* ``schemas``: the signatures of every operator the tables refer to (``aten::cat``), in the
  order the compiler tries them: the registered schemas (``torch._C._jit_get_schemas_for_operator``),
  then TorchScript's builtin functions of that name (``div(float a, Tensor b)``), which only show in
  the list of variants the compiler prints for a call that matches none. The text format is
  described below (signatures).
* ``functions``: public callables of ``torch``, ``torch.nn.functional``, ``torch.linalg``,
  ``torch.fft`` and ``torch.special``. ``builtin`` ones map to an operator with schemas
  (``torch.jit._builtins``, ``op``). ``python`` ones are compiled from their source: their
  ``overloads`` are the schemas of the compiled function (each ``@_overload``, every branch of a
  ``boolean_dispatch``); ``"compiles": false`` when ``torch.jit.script`` rejects it (then the
  overload is its Python signature, names only). ``unknown-op`` maps to an operator with no
  schema (``torch.is_tensor`` -> ``aten::is_tensor``: "Unknown builtin op").
* ``tensor_method_signatures``: for each supported Tensor method, the operator the compiler calls
  for ``x.NAME(...)`` (``x.type`` -> ``aten::to``; the overloads are its schemas with a ``self``
  that takes a Tensor, wherever ``self`` is: ``aten::where.self(condition, self, other)``), or
  for the special forms with no schema (``x.float()``) the signature of a call without argument.
  ``tolist`` has none: its type comes from an annotation.
* ``math_signatures``: for each supported ``math`` function, the operator ``math.NAME`` calls.
* ``builtin_signatures``: for each supported Python builtin that the compiler maps to an operator
  (``len`` -> ``aten::len``, ``round`` -> ``aten::round``), that operator.
* ``value_types``: the TorchScript type of each Tensor property (``shape``: ``List[int]``) and
  ``math`` constant, read from a compiled function that returns it.
* ``eager_returns``: what an *eager* call returns (a constructor's argument values are computed
  in Python) for the ``unknown-op`` functions, which have no schema to say it: ``Tensor`` for
  ``torch.Tensor`` and the legacy tensor types (``torch.FloatTensor``), and for a builtin whose
  docstring's signature line says ``-> Tensor`` (``from_numpy(ndarray) -> Tensor``).

* ``decorators``: what TorchScript sees of a compiled function under each torch decorator. It
  reads the source of the innermost function (``inspect`` follows ``__wrapped__``) but resolves
  global names through the outermost wrapper's ``__globals__`` and closure, then ``typing``, then
  ``builtins``. ``wrap``: for each decorator form (``torch.no_grad()`` called, ``torch.no_grad``
  bare), measured by decorating a function: the module of the wrapper it returns and that
  wrapper's closure names, or null when it returns the function itself. ``modules``: each such
  module's global names: the module a name is bound to, ``"class"`` for a class, ``""`` for any
  other value.
  ``typing`` / ``builtins``: the names the resolution falls back to.

The output is deterministic (sorted), so ``tests/test_knowledge.py`` can regenerate it and compare.
"""

from __future__ import annotations

import argparse
import builtins
import inspect
import json
import math
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tsscan" / "data"
FORMAT = 2

NO_MEMBER = ("has no attribute or method", "nonexistent attribute")
NOT_SUPPORTED = "is currently not supported in Torchscript"


def _compile_error(src: str):
    import torch

    try:
        torch.jit.CompilationUnit(src)
    except Exception as exc:  # noqa: BLE001 - any compiler error is an answer
        return str(exc) or type(exc).__name__
    return None


def _compile(src: str):
    """The compiled ``CompilationUnit`` of ``src``, or None when the compiler rejects it."""
    import torch

    try:
        return torch.jit.CompilationUnit(src)
    except Exception:  # noqa: BLE001 - any compiler error is an answer
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


# ---- signatures -------------------------------------------------------------------------------
#
# A signature is stored as one line of text, in TorchScript's types (``str()`` of the schema's
# types: ``List[int]``, ``Optional[Tensor]``, ``number`` for Scalar, ``int`` for ScalarType,
# Layout and MemoryFormat, ``t`` for a type variable):
#
#     (tensors: List[Tensor], dim: int=, *, out: Tensor) -> Tensor
#
# ``=`` after a type: the parameter has a default; ``*``: the parameters after it are
# keyword-only; ``*name`` / ``**name``: Python varargs (only in signatures of Python functions
# that do not compile). The part after `` -> `` is one type, or ``(a: T, b: U)`` / ``(T, U)`` for
# an operator with several (possibly named) returns, ``()`` for none. A parameter whose type is
# unknown is written without ``: type``. ``tsscan/semantic/knowledge.py`` parses this.

PROBE_KEYWORD = "tsscan_probe_keyword"
_VARIANT = re.compile(r"^\s*([A-Za-z_][\w:.]*)\((.*)\) -> (.*):$")


def _sig_text(params: list[tuple[str, str, bool, bool]], returns: list[tuple[str, str]]) -> str:
    parts: list[str] = []
    star = False
    for name, typ, kwarg_only, has_default in params:
        if kwarg_only and not star and not name.startswith("*"):
            parts.append("*")
            star = True
        parts.append((f"{name}: {typ}" if typ else name) + ("=" if has_default else ""))
    if len(returns) == 1:
        ret = returns[0][1]
    else:
        ret = "(" + ", ".join(f"{n}: {t}" if n and all(r[0] for r in returns) else t for n, t in returns) + ")"
    return f"({', '.join(parts)}) -> {ret}"


def _schema_text(schema) -> str:
    params = [(a.name, str(a.type), bool(a.kwarg_only), bool(a.has_default_value())) for a in schema.arguments]
    return _sig_text(params, [(r.name or "", str(r.type)) for r in schema.returns])


def _probe(call: str) -> list[str]:
    """The variants the compiler lists for ``call(<an unknown keyword>)``, as schema texts (from
    its "The following variants are available" message); empty when it lists none."""
    err = _compile_error(f"def f(x: Tensor):\n    return {call}({PROBE_KEYWORD}=1)\n") or ""
    return [m.group(1) + "(" + m.group(2) + ") -> " + m.group(3) for m in map(_VARIANT.match, err.splitlines()) if m]


class Schemas:
    """Schemas by operator (``aten::cat``), in the order the compiler tries them: registered
    operators first, then TorchScript's builtin functions of that name (``div(float a, Tensor b)``),
    which only show in the compiler's list of variants."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}

    def add(self, op: str, probe_call: str | None) -> bool:
        """Record ``op``'s schemas (probing ``probe_call`` for builtin functions); False when it has none."""
        import torch

        if op not in self.table:
            texts = [_schema_text(s) for s in torch._C._jit_get_schemas_for_operator(op)]
            if probe_call is not None:
                for variant in _probe(probe_call):
                    if "::" not in variant.split("(", 1)[0]:
                        texts.append(_schema_text(torch._C.parse_schema(variant)))
            self.table[op] = texts
        return bool(self.table[op])

    def probed_op(self, probe_call: str) -> str | None:
        """The operator the compiler resolves ``probe_call`` to (``x.type`` -> ``aten::to``)."""
        for variant in _probe(probe_call):
            name = variant.split("(", 1)[0]
            if "::" in name:
                return name.split(".", 1)[0]
        return None

    def resolve(self, call: str, name: str) -> str | None:
        """The operator, with schemas, that ``call`` (``x.NAME``, ``math.NAME``) resolves to."""
        op = self.probed_op(call) or f"aten::{name}"
        return op if self.add(op, call) else None


def _compiled_signatures(obj) -> dict | None:
    """What TorchScript compiles for a Python function: ``{"overloads": [...]}``, the schemas of
    each ``@_overload`` or of the function; for a ``boolean_dispatch`` (``F.max_pool2d``,
    ``torch.unique``, nested) those of every function it may pick, plus ``"dispatch"``: the flag
    that picks (``{"arg", "index", "default", "false", "true"}``, each branch a nested dispatch
    or the list of its overloads' indices). None when it does not compile."""
    import torch
    import torch._jit_internal as _jit_internal

    texts: list[str] = []

    def walk(fn):
        dispatch = _jit_internal.boolean_dispatched.get(fn)
        if dispatch:
            return {
                "arg": dispatch["arg_name"],
                "index": dispatch["index"],
                "default": dispatch["default"],
                "false": walk(dispatch["if_false"]),
                "true": walk(dispatch["if_true"]),
            }
        overloads = torch.jit._script._get_overloads(fn)
        indices = []
        for schema in [o.schema for o in overloads] if overloads else [torch.jit.script(fn).schema]:
            text = _schema_text(schema)
            if text not in texts:
                texts.append(text)
            indices.append(texts.index(text))
        return indices

    try:
        tree = walk(obj)
    except Exception:  # noqa: BLE001 - any compiler error means: does not compile
        return None
    return {"overloads": texts, "dispatch": tree} if isinstance(tree, dict) else {"overloads": texts}


def _python_signature(fn) -> str | None:
    """The Python signature (names only: the types are unknown) of a function that does not compile."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    args = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            args.append(("*" + p.name, "", False, False))
        elif p.kind is p.VAR_KEYWORD:
            args.append(("**" + p.name, "", True, False))
        else:
            args.append((p.name, "", p.kind is p.KEYWORD_ONLY, p.default is not p.empty))
    return _sig_text(args, [("", "")])


# public namespaces whose callables TorchScript resolves through torch.jit._builtins
FUNCTION_MODULES = ("torch", "torch.nn.functional", "torch.linalg", "torch.fft", "torch.special")


def functions(schemas: Schemas) -> dict:
    import importlib

    import torch.jit._builtins as jit_builtins

    table = {}
    for prefix in FUNCTION_MODULES:
        mod = importlib.import_module(prefix)
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
                known = schemas.add(op, qual)
                table[qual] = {"kind": "builtin" if known else "unknown-op", "op": op}
            elif inspect.isfunction(obj):
                compiled = _compiled_signatures(obj)
                if compiled:
                    table[qual] = {"kind": "python", **compiled}
                else:
                    sig = _python_signature(obj)
                    if sig is not None:
                        table[qual] = {"kind": "python", "compiles": False, "overloads": [sig]}
    return table


def tensor_method_signatures(methods: list[str], schemas: Schemas) -> dict:
    """For each supported Tensor method: the operator whose schemas with a ``self`` that takes a
    Tensor are its overloads (``knowledge.py`` drops ``self``), or, for the special forms that
    have no schema (``x.float()``), the signature of a call with no argument."""
    out: dict[str, dict] = {}
    for name in methods:
        op = schemas.resolve(f"x.{name}", name)
        if op:
            out[name] = {"op": op}
            continue
        cu = _compile(f"def f(x: Tensor):\n    return x.{name}()\n")
        if cu is not None:
            returns = [(r.name or "", str(r.type)) for r in cu.f.schema.returns]
            out[name] = {"overloads": [_sig_text([], returns)]}
    return out


def math_signatures(supported: list[str], schemas: Schemas) -> dict:
    """For each supported ``math`` function: the operator the compiler calls (``math.X`` ->
    ``aten::X``)."""
    out: dict[str, dict] = {}
    for name in supported:
        op = schemas.resolve(f"math.{name}", name)
        if op:
            out[name] = {"op": op}
    return out


def builtin_signatures(supported: list[str], schemas: Schemas) -> dict:
    """For each supported Python builtin that the compiler maps to an operator (``len`` ->
    ``aten::len``, ``round`` -> ``aten::round``, ``abs`` -> ``prim::abs``): that operator. The
    special forms (``range``, ``isinstance``, ``getattr``, ``print``, ...) have none."""
    out: dict[str, dict] = {}
    for name in supported:
        op = schemas.probed_op(name)
        if op and schemas.add(op, name):
            out[name] = {"op": op}
    return out


def _returned_type(expr: str, params: str) -> str | None:
    cu = _compile(f"def f({params}):\n    return {expr}\n")
    return str(cu.f.schema.returns[0].type) if cu is not None else None


def value_types(tensor: dict, maths: dict) -> dict:
    """The TorchScript type of each Tensor property (``x.shape``: ``List[int]``) and ``math``
    constant (``math.pi``: ``float``), read from the compiled function that returns it."""
    out: dict[str, dict[str, str]] = {"tensor_properties": {}, "math_constants": {}}
    for name in tensor["properties"]:
        typ = _returned_type(f"x.{name}", "x: Tensor")
        if typ:
            out["tensor_properties"][name] = typ
    for name in maths["constants"]:
        typ = _returned_type(f"math.{name}", "")
        if typ:
            out["math_constants"][name] = typ
    return out


def eager_returns(table: dict) -> dict[str, str]:
    """``{qualname: "Tensor"}`` for the ``unknown-op`` functions of ``table`` (no schema) whose
    eager call returns a Tensor: ``torch.Tensor`` and the legacy tensor types construct one, and
    a builtin's docstring starts with its signature (``from_numpy(ndarray) -> Tensor``)."""
    import importlib

    import torch

    out: dict[str, str] = {}
    for qual, entry in table.items():
        if entry["kind"] != "unknown-op":
            continue
        prefix, _, name = qual.rpartition(".")
        obj = getattr(importlib.import_module(prefix), name)
        doc = obj.__doc__ if isinstance(obj.__doc__, str) else ""
        first = doc.strip().split("\n")[0]
        if obj is torch.Tensor or type(obj) is type(torch.FloatTensor):
            out[qual] = "Tensor"
        elif re.fullmatch(re.escape(name) + r"\(.*\)\s*->\s*Tensor", first):
            out[qual] = "Tensor"
    return out


# ---- decorators -------------------------------------------------------------------------------
#
# name -> the arguments of its called form (None: only the bare form is measured); each is also
# tried bare. Which of them wrap, and where, is measured.
DECORATORS: dict[str, str | None] = {
    "torch.no_grad": "",
    "torch.enable_grad": "",
    "torch.inference_mode": "",
    "torch.set_grad_enabled": "False",
    "torch.autograd.no_grad": "",
    "torch.autograd.enable_grad": "",
    "torch.autograd.inference_mode": "",
    "torch.autograd.set_grad_enabled": "False",
    "torch.autograd.grad_mode.no_grad": "",
    "torch.autograd.grad_mode.enable_grad": "",
    "torch.autograd.grad_mode.inference_mode": "",
    "torch.autograd.grad_mode.set_grad_enabled": "False",
    "torch.autograd.forward_ad.dual_level": "",
    "torch.autocast": "'cpu'",
    "torch.amp.autocast": "'cpu'",
    "torch.cpu.amp.autocast": "",
    "torch.cuda.amp.autocast": "",
    "torch.amp.custom_fwd": "device_type='cpu'",
    "torch.amp.custom_bwd": "device_type='cpu'",
    "torch.cuda.amp.custom_fwd": "",
    "torch.cuda.amp.custom_bwd": None,
    "torch.compiler.disable": "",
    "torch._dynamo.disable": "",
    "torch.compile": "",
    "torch.autograd.profiler.record_function": "'f'",
    "torch.profiler.record_function": "'f'",
    "torch.random.fork_rng": "",
    "torch.nn.attention.sdpa_kernel": "torch.nn.attention.SDPBackend.MATH",
    "torch.autograd.function.once_differentiable": None,
    "torch.jit.export": None,
    "torch.jit.unused": None,
    "torch.jit.ignore": "",
    "torch.compiler.allow_in_graph": None,
    "torch.compiler.assume_constant_result": None,
    "torch._dynamo.assume_constant_result": None,
}


def _undecorated(x):
    return x


def decorators() -> dict:
    import torch  # noqa: F401  (the decorator expressions name it)

    wrap: dict[str, dict | None] = {}
    modules: dict[str, dict[str, str]] = {}
    for name, args in DECORATORS.items():
        forms = {name: name} if args is None else {name: name, f"{name}()": f"{name}({args})"}
        for key, expr in forms.items():
            try:
                got = eval(expr, {"torch": sys.modules["torch"]})(_undecorated)  # noqa: S307
            except Exception:  # noqa: BLE001  (a form that is not a decorator: not recorded)
                continue
            if got is _undecorated:
                wrap[key] = None
            elif getattr(got, "__wrapped__", None) is not None and hasattr(got, "__globals__"):
                where = got.__globals__["__name__"]
                wrap[key] = {"module": where, "closure": sorted(got.__code__.co_freevars)}
                if where not in modules:
                    modules[where] = {
                        k: v.__name__ if inspect.ismodule(v) else "class" if inspect.isclass(v) else ""
                        for k, v in sorted(got.__globals__.items())
                    }
    import typing

    return {
        "wrap": wrap,
        "modules": modules,
        "typing": sorted(dir(typing)),
        "builtins": sorted(dir(builtins)),
    }


def generate() -> dict:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        version = torch.__version__.split("+")[0]
        tensor = tensor_members()
        maths = math_members()
        schemas = Schemas()
        py_builtins = python_builtins()
        table = {
            "format": FORMAT,
            "torch_version": version,
            "generated_by": "scripts/gen_knowledge.py",
            "tensor": tensor,
            "tensor_method_signatures": tensor_method_signatures(tensor["methods"], schemas),
            "builtins": py_builtins,
            "builtin_signatures": builtin_signatures(py_builtins["supported"], schemas),
            "value_types": value_types(tensor, maths),
            "math": maths,
            "math_signatures": math_signatures(maths["supported"], schemas),
            "functions": functions(schemas),
            "decorators": decorators(),
            "schemas": {op: texts for op, texts in schemas.table.items() if texts},
        }
        table["eager_returns"] = eager_returns(table["functions"])
        return table


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
        f"{len(table['functions'])} functions, {len(table['tensor_method_signatures'])} Tensor methods "
        f"and {len(table['schemas'])} operators with signatures, {path.stat().st_size} bytes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
