"""Compile example sources with the real torch.jit.script (tests only).

An example is a whole source file. ``script_all`` imports it from a real file (TorchScript
reads source through ``inspect``) and scripts every ``nn.Module`` subclass it defines
(instantiated without arguments); functions and classes decorated ``@torch.jit.script`` are
scripted by the import itself.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import importlib.util
import itertools
import re
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tsscan.verify import torch_worker as verify_worker

_counter = itertools.count()

# Fixed rule examples whose original is broken in Python too (it raises this on every input):
# nothing to compare the fix with at level 3; the scripted fix is compared with the eager
# *fixed* text instead.
EAGER_RAISES = {("TS123", 3): "TypeError"}  # `with torch.no_grad:` (no call)


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
    """(name, object) for each nn.Module subclass and each function the example defines
    (a ``@torch.jit.interface`` class is a type for annotations, not a module to build)."""
    out = []
    for name, obj in vars(mod).items():
        if isinstance(obj, type) and issubclass(obj, torch.nn.Module) and obj.__module__ == mod.__name__:
            if not getattr(obj, "__torch_script_interface__", None):
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


# ONE definition of "behaves the same" in the product and its tests: the verifier's (values with
# rtol=1e-5/atol=1e-6 for floating tensors, NaN equal to NaN, dtype, shape, container kind and
# python scalar type). Re-exported here so that tests cannot drift from what `--fix` confirms.
same = verify_worker.same
assert verify_worker.hello()["ok"]  # the worker's own start-up: it imports torch for `same`


def clone(value: Any) -> Any:
    """A deep copy of call arguments: tensors (also inside lists, tuples and dicts) cloned,
    other values deep-copied."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, list | tuple):
        return type(value)(clone(v) for v in value)
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    return copy.deepcopy(value)


@dataclass(frozen=True)
class Outcome:
    """A call: ("ok", its value) or ("raise", the exception type's name), and the arguments as
    the call left them (a caller-visible change of an argument is behaviour too). ``named``:
    for ``torch.jit.Error`` (how scripted code raises every exception), the Python type its
    message names (``builtins.ValueError: ...``)."""

    kind: str
    value: Any
    args: tuple
    named: str | None = None


_RAISED_IN_SCRIPT = re.compile(r"^builtins\.(\w+):", re.M)


def outcome(fn, args) -> Outcome:
    """Call ``fn`` on a deep copy of ``args`` (lists and dicts of tensors included), so that
    eager and scripted calls never share or see each other's mutations."""
    mine = [clone(a) for a in args]
    try:
        with quiet():
            return Outcome("ok", fn(*mine), tuple(mine))
    except Exception as exc:  # the caller compares exception types
        named = _RAISED_IN_SCRIPT.findall(str(exc)) if isinstance(exc, torch.jit.Error) else []
        return Outcome("raise", type(exc).__name__, tuple(mine), named[-1] if named else None)


def agree(e: Outcome, s: Outcome, scripted: bool = False) -> bool:
    """Same kind; same value (``same``) or the same exception type; arguments left the same.

    ``scripted``: ``s`` ran scripted code, which raises what ``raise`` raises as
    ``torch.jit.Error`` naming the type (agrees when it names ``e``'s type), and where a failing
    builtin (an index out of range, a failed unpack, ``next`` of an empty iterator) raises a
    plain RuntimeError whatever Python raises (agrees with any exception; the exact types are
    compared between the eager original and the eager fixed code)."""
    if e.kind != s.kind:
        return False
    if e.kind == "ok" and not same(e.value, s.value):
        return False
    if e.kind == "raise" and e.value != s.value:
        mapped = s.value == "Error" and s.named == e.value
        if not (scripted and (mapped or s.value == "RuntimeError")):
            return False
    return same(list(e.args), list(s.args))


_EXAMPLE_FILE = r"tsscan_example_\d+\.py"
_LINE_RE = re.compile(rf'File "[^"]*{_EXAMPLE_FILE}", line (\d+)')
# "Expected a single top-level function: path:N": N is the first line of the function's source
# (its first decorator)
_FUNCTION_RE = re.compile(rf"{_EXAMPLE_FILE}:(\d+)")


@dataclass
class CompilerError:
    """What ``torch.jit.script`` raised on an example, and the example lines it points at."""

    type: str
    message: str
    lines: set[int]
    how: str  # "message" (the compiler named the line), "frontend" (the AST node it was at), "quoted", ""


def _frontend_lines(exc: BaseException) -> set[int]:
    """The lines of the innermost Python AST node torch's frontend was building when it raised
    (errors such as ``'UnaryOp' object has no attribute 'range'`` name no line)."""
    file_lineno, node = None, None
    tb = exc.__traceback__
    while tb is not None:
        local = tb.tb_frame.f_locals
        if "torch" in tb.tb_frame.f_code.co_filename:
            parsed = local.get("parsed_def")
            if isinstance(getattr(parsed, "file_lineno", None), int):
                file_lineno = parsed.file_lineno
            for value in local.values():
                if isinstance(value, ast.stmt | ast.expr) and not isinstance(value, ast.FunctionDef):
                    node = value
        tb = tb.tb_next
    if file_lineno is None or node is None:
        return set()
    end = getattr(node, "end_lineno", None) or node.lineno
    return set(range(file_lineno + node.lineno - 1, file_lineno + end))


def assert_fails_where_flagged(err: CompilerError | None, findings: list) -> None:
    """The compiler failed, at a line one of ``findings`` spans."""
    assert err is not None and err.lines, err
    flagged = {n for d in findings for n in range(d.line, max(d.line, d.end_line) + 1)}
    assert err.lines & flagged, (err.lines, flagged, err.message)


def compiler_error(code: str, directory: Path) -> CompilerError | None:
    """Script ``code`` like :func:`script_all`; None if it scripts, else where it failed: the
    lines the message names, else the AST node the frontend was at, else source lines the
    message quotes."""
    src = textwrap.dedent(code).lstrip("\n")
    try:
        script_all(code, directory)
    except Exception as exc:  # the compiler's errors have many types; the caller asserts which
        message = str(exc)
        lines = {int(n) for n in _LINE_RE.findall(message)}
        src_lines = src.splitlines()
        for n in map(int, _FUNCTION_RE.findall(message)):
            while n < len(src_lines) and src_lines[n - 1].lstrip().startswith("@"):
                n += 1
            lines.add(n)
        if lines:
            return CompilerError(type(exc).__name__, message, lines, "message")
        lines = _frontend_lines(exc)
        if lines:
            return CompilerError(type(exc).__name__, message, lines, "frontend")
        quoted = {ln.strip() for ln in message.splitlines() if len(ln.strip()) > 8}
        lines = {n for n, ln in enumerate(src.splitlines(), 1) if ln.strip() in quoted}
        return CompilerError(type(exc).__name__, message, lines, "quoted" if lines else "")
    return None
