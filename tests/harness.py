"""Compile example sources with the real torch.jit.script (tests only).

An example is a whole source file. ``script_all`` imports it from a real file (TorchScript
reads source through ``inspect``) and scripts every ``nn.Module`` subclass it defines
(instantiated without arguments); functions and classes decorated ``@torch.jit.script`` are
scripted by the import itself.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import math
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import torch

_counter = itertools.count()


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def load(code: str, directory: Path, eager: bool = False):
    """Import ``code`` as a module. ``eager=True`` makes ``torch.jit.script`` a no-op during the
    import, to get the plain Python behaviour of code that does not script."""
    name = f"tsscan_example_{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    real_script = torch.jit.script
    if eager:
        torch.jit.script = lambda obj, *a, **k: obj  # type: ignore[assignment]
    try:
        with quiet():
            spec.loader.exec_module(mod)
    finally:
        torch.jit.script = real_script
    return mod


def targets(mod) -> list[tuple[str, Any]]:
    """(name, object) for each nn.Module subclass and each function the example defines."""
    out = []
    for name, obj in vars(mod).items():
        if isinstance(obj, type) and issubclass(obj, torch.nn.Module) and obj.__module__ == mod.__name__:
            out.append((name, obj))
        elif isinstance(obj, torch.jit.ScriptFunction) or (
            callable(obj) and getattr(obj, "__module__", None) == mod.__name__ and not isinstance(obj, type)
        ):
            out.append((name, obj))
    return out


def script_all(code: str, directory: Path) -> list[tuple[str, Any]]:
    """Import and script everything in ``code``; raises what the compiler raises."""
    mod = load(code, directory)
    scripted = []
    with quiet():
        for name, obj in targets(mod):
            if isinstance(obj, type):
                torch.manual_seed(0)
                scripted.append((name, torch.jit.script(obj())))
            elif isinstance(obj, torch.jit.ScriptFunction):
                scripted.append((name, obj))
    return scripted


def eager_all(code: str, directory: Path) -> list[tuple[str, Any]]:
    mod = load(code, directory, eager=True)
    out = []
    for name, obj in targets(mod):
        if isinstance(obj, type):
            torch.manual_seed(0)
            out.append((name, obj()))
        elif name in [n for n, _ in targets(mod)]:
            out.append((name, obj))
    return out


def same(a: Any, b: Any) -> bool:
    """Values (NaN equal to NaN), dtype, shape, container kind and python scalar type."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        return (
            a.dtype == b.dtype
            and a.shape == b.shape
            and bool(
                torch.equal(a, b) or (a.is_floating_point() and torch.allclose(a, b, equal_nan=True, rtol=0, atol=0))
            )
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def outcome(fn, args) -> tuple[str, Any]:
    args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    try:
        with quiet():
            return "ok", fn(*args)
    except Exception as exc:  # both raising counts as agreeing
        return "raise", type(exc).__name__
