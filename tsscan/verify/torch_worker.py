"""The verification worker: the only part of tsscan that imports torch and runs user code.

``tsscan.verify.process`` starts it as ``python .../tsscan/verify/torch_worker.py MEMORY_MB`` (by path, so
any interpreter with torch can run it; it imports nothing of tsscan) and talks to it in
JSON lines (one request on stdin, one answer on the protocol pipe). It imports torch once and
answers every request of a run. User code prints go to stderr (a file the parent owns), never
into the protocol; torch's DeprecationWarning/FutureWarning are silenced here only.

Requests:

``{"op": "hello"}``
    whether torch imports and ``torch.jit.script`` works.
``{"op": "check", ...}`` (see :func:`check`)
    level 1: each compiled function through torch's own frontend, from its source text;
    level 2: import the text from a temporary file (under the file's package, so relative
    imports work), build each module class, ``torch.jit.script`` it; script the scripted
    functions; level 3: run the eager original and the scripted text on the same inputs.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import importlib
import importlib.util
import inspect
import json
import math
import os
import re
import sys
import traceback
import warnings
from typing import Any

torch: Any = None
_counter = [0]


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _probe(x: int) -> int:
    return x + 1


def hello() -> dict[str, Any]:
    global torch
    try:
        with quiet():
            import torch as _torch  # the worker is where torch lives
        torch = _torch
    except BaseException as exc:  # ImportError, or a broken install raising anything
        return {"ok": False, "reason": f"torch cannot be imported: {type(exc).__name__}: {exc}"}
    version = getattr(torch, "__version__", "?")
    script = getattr(getattr(torch, "jit", None), "script", None)
    if script is None:
        return {"ok": False, "torch": version, "reason": f"torch {version} has no torch.jit.script"}
    try:
        with quiet():
            fn = script(_probe)
            if fn(1) != 2:
                raise RuntimeError("a scripted probe function returned a wrong value")
    except BaseException as exc:
        return {
            "ok": False,
            "torch": version,
            "reason": f"torch.jit.script does not work in torch {version}: {type(exc).__name__}: {_first_line(str(exc))}",
        }
    return {"ok": True, "torch": version}


def _first_line(msg: str) -> str:
    for line in msg.splitlines():
        if line.strip():
            return line.strip()
    return msg.strip()


def _error(exc: BaseException, real_path: str, temp_paths: list[str]) -> dict[str, Any]:
    """An exception as data; temp file names in the text are replaced by the user's path."""
    msg = str(exc)
    for tp in temp_paths:
        msg = msg.replace(tp, real_path)
    line = None
    # the deepest traceback frame inside the user's file, for errors without a location
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename in temp_paths:
            line = lineno
    if len(msg) > 6000:
        msg = msg[:6000] + "\n..."
    return {"type": type(exc).__name__, "message": msg, "tb_line": line}


# --------------------------------------------------------------------------- level 1
def frontend(fn: dict[str, Any], real_path: str) -> dict[str, Any] | None:
    """Build the JIT definition of one function from its source, as torch.jit.script's first
    step does, without importing the module it lives in. None when the frontend accepts it."""
    from torch._sources import ParsedDef, dedent, make_source_context, normalize_source_lines
    from torch.jit.frontend import get_jit_def

    source = "".join(normalize_source_lines(fn["source"].splitlines(keepends=True)))
    try:
        dedented = dedent(source)
        tree = ast.parse(dedented)
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
            # async def and friends: what parse_def itself says
            raise RuntimeError(f"Expected a single top-level function: {real_path}:{fn['start']}")
        lead = len(source.split("\n", 1)[0]) - len(dedented.split("\n", 1)[0])
        ctx = make_source_context(source, real_path, fn["start"], lead, True, fn["name"])
        with quiet():
            get_jit_def(ParsedDef(tree, ctx, source, real_path, fn["start"]), fn["name"], self_name=fn.get("self_name"))
    except Exception as exc:
        err = _error(exc, real_path, [])
        err["tb_line"] = None
        return err
    return None


# --------------------------------------------------------------------------- level 2
def _load(text: str, req: dict[str, Any], tag: str, eager: bool):
    """Import ``text`` from a temporary file as a sibling of the user's module."""
    _counter[0] += 1
    stem = f"_tsscan_{tag}{_counter[0]}_{req['stem']}"
    package = req.get("package") or ""
    name = f"{package}.{stem}" if package else stem
    path = os.path.join(req["tmpdir"], f"{stem}.py")
    with open(path, "w", encoding=_source_encoding(text), newline="") as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    real_script = torch.jit.script
    if eager or req.get("defer_script", True):
        # module-level scripting runs later, one target at a time (errors per target)
        torch.jit.script = lambda obj, *a, **k: obj
    try:
        with quiet():
            if package:
                importlib.import_module(package)
            spec.loader.exec_module(mod)
    finally:
        torch.jit.script = real_script
    return mod, path


_CODING_RE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _source_encoding(text: str) -> str:
    """The encoding the copy must be written in: the file's coding cookie (PEP 263), if any,
    so that string literals read back as in the user's file."""
    for line in text.splitlines()[:2]:
        m = _CODING_RE.match(line)
        if m:
            try:
                return codecs.lookup(m.group(1)).name
            except LookupError:
                return "utf-8"
        if line.strip() and not line.lstrip().startswith("#"):
            break
    return "utf-8"


def _factory(spec: str, mod, real_module: str | None, cls_name: str):
    """A factory named ``module:function`` in config. A factory in the file being checked is
    taken from the loaded copy; another module is imported with the user's module name
    pointing at the copy, so it builds the copy's class."""
    modname, _, fname = spec.partition(":")
    if not fname:
        raise ValueError(f"factory {spec!r} is not 'module:function'")
    if real_module and modname == real_module:
        target = getattr(mod, fname)
    else:
        saved = sys.modules.get(real_module) if real_module else None
        if real_module:
            sys.modules[real_module] = mod
        try:
            sys.modules.pop(modname, None)
            with quiet():
                target = getattr(importlib.import_module(modname), fname)
        finally:
            if real_module:
                if saved is None:
                    sys.modules.pop(real_module, None)
                else:
                    sys.modules[real_module] = saved
    cls = getattr(mod, cls_name)
    try:
        params = [
            p
            for p in inspect.signature(target).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    with quiet():
        made = target(cls) if params else target()
    inputs = None
    if isinstance(made, tuple) and len(made) == 2 and isinstance(made[0], torch.nn.Module):
        made, inputs = made
        inputs = [tuple(x) if isinstance(x, (list, tuple)) else (x,) for x in inputs]
    return made, inputs


def _derive():
    """:mod:`tsscan.verify.derive`, loaded by path (the worker imports nothing of tsscan)."""
    if "_tsscan_derive" not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "derive.py")
        spec = importlib.util.spec_from_file_location("_tsscan_derive", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["_tsscan_derive"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["_tsscan_derive"]


def _build(mod, cls_name: str, req: dict[str, Any]):
    """(instance, inputs from a factory or None, error text or None, how it was built): a
    configured factory, else the defaults, else arguments derived from the constructor's
    annotations and parameter names (:mod:`tsscan.verify.derive`), set after set."""
    cls = getattr(mod, cls_name, None)
    if not isinstance(cls, type):
        return None, None, f"{cls_name} is not defined at module level after import", ""
    factory = (req.get("factories") or {}).get(cls_name)
    attempts: list[tuple[str, Any]] = []
    if factory:
        attempts.append((f"factory {factory}", lambda: _factory(factory, mod, req.get("real_module"), cls_name)))
    else:
        attempts.append(("defaults", lambda: (cls(), None)))
        try:
            for how, kw in _derive().argument_sets(cls):
                attempts.append((how, lambda kw=kw: (cls(**kw), None)))
        except LookupError as exc:
            attempts.append((f"no derived arguments ({exc})", None))
    errors: list[str] = []
    for how, make in attempts:
        if make is None:
            errors.append(how)
            continue
        torch.manual_seed(0)
        try:
            with quiet():
                obj, inputs = make()
        except BaseException as exc:  # noqa: B036 - user code can raise anything, SystemExit too
            if isinstance(exc, KeyboardInterrupt):
                raise
            label = how if how != "defaults" else f"{cls_name}()"
            errors.append(f"{label} raised {type(exc).__name__}: {_first_line(str(exc))}")
            continue
        if not isinstance(obj, torch.nn.Module):
            errors.append(f"{how}: did not give an nn.Module")
            continue
        return obj, inputs, None, how
    return None, None, "; ".join(errors), ""


# --------------------------------------------------------------------------- level 3
def same(a: Any, b: Any) -> bool:
    """Values (NaN equal to NaN), dtype, shape, container kind and python scalar type."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if torch.equal(a, b):
            return True
        if a.is_floating_point() or a.is_complex():
            return bool(torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))
        return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        # TorchScript returns lists for List[...] and tuples for Tuple[...], like eager
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _describe(v: Any) -> str:
    if isinstance(v, torch.Tensor):
        return f"Tensor(shape={tuple(v.shape)}, dtype={v.dtype})"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_describe(x) for x in list(v)[:4])
        return f"{type(v).__name__}[{inner}{', ...' if len(v) > 4 else ''}]"
    return f"{type(v).__name__}({v!r})"[:80]


def _clone(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.clone()
    if isinstance(v, list):
        return [_clone(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_clone(x) for x in v)
    return v


def _call(fn, args) -> tuple[str, Any]:
    torch.manual_seed(1)
    try:
        with quiet(), torch.no_grad():
            return "ok", fn(*_clone(args))
    except Exception as exc:  # both raising counts as agreeing
        return "raise", f"{type(exc).__name__}: {_first_line(str(exc))}"


def _original_runs(orig_obj, args, made: list[Any]) -> bool:
    """The original module, scripted (once, kept in ``made``), runs on ``args`` without raising
    (False when it does not script: it is what the fixes are for)."""
    if not made:
        try:
            with quiet():
                made.append(torch.jit.script(orig_obj))
        except Exception:
            made.append(None)
    return made[0] is not None and _call(made[0], args)[0] == "ok"


def compare(
    orig_obj, fixed_scripted, cls_name: str, req: dict[str, Any], factory_inputs, fixed_obj=None
) -> dict[str, Any]:
    """Eager ``orig_obj`` against ``fixed_scripted`` on the same inputs. Derived inputs follow
    the fixed text's ``forward`` (``fixed_obj``, eager), whose annotations a fix may have
    written (`x: List[torch.Tensor]`), else the original's."""
    configured = (req.get("inputs") or {}).get(cls_name)
    input_sets: list[tuple[Any, ...]] = []
    described = ""
    if factory_inputs:
        input_sets = [tuple(x) for x in factory_inputs]
        described = "inputs from the factory"
    elif configured is not None:
        if isinstance(configured, str):
            ns = {"torch": torch}
            torch.manual_seed(0)
            value = eval(configured, ns)  # the user's own config, in the sandboxed worker
            value = value if isinstance(value, list) else [value]
            input_sets = [v if isinstance(v, tuple) else (v,) for v in value]
            described = "inputs from config"
        else:  # shapes: one list of ints per Tensor argument
            input_sets = _derive().shaped_inputs([tuple(s) for s in configured])
            described = f"shapes {configured} from config"
    else:
        derive = _derive()
        params = (derive.forward_params(fixed_obj) if fixed_obj is not None else None) or derive.forward_params(
            orig_obj
        )
        if params is None:
            return {
                "status": "none",
                "detail": "the arguments cannot be made from the annotations; name inputs in [tool.tsscan.verify] inputs",
            }
        _train(orig_obj, False)
        vocab = derive.embedding_size(orig_obj)
        for kind, shape in derive.first_layer_shapes(orig_obj):
            sets = derive.input_sets(params, kind, shape, vocab)
            if all(_call(orig_obj, s)[0] == "ok" for s in sets):
                input_sets = sets
                what = "integer ids" if kind == "ids" else "random inputs"
                described = f"{what} of shape {list(shape)}"
                if any(k == "tensors" for _, k in params):
                    described += " (each List[Tensor] argument: 2 of them)"
                break
        if not input_sets:
            return {
                "status": "none",
                "detail": "no input shape tried runs the eager original; name inputs in [tool.tsscan.verify] inputs",
            }
    results = []
    inconclusive = 0
    guessed = described.startswith(("random inputs of shape", "integer ids of shape"))
    scripted_original: list[Any] = []  # made when first needed: [the scripted original or None]
    for mode in ("eval", "train"):
        if mode == "train" and not isinstance(orig_obj, torch.nn.Module):
            break
        _train(orig_obj, mode == "train")
        _train(fixed_scripted, mode == "train")
        for args in input_sets:
            e = _call(orig_obj, args)
            if mode == "train" and not _deterministic(orig_obj, args, e):
                continue  # dropout and friends: only eval mode compares
            s = _call(fixed_scripted, args)
            if guessed and e[0] != s[0] and not (e[0] == "ok" and _original_runs(orig_obj, args, scripted_original)):
                # guessed shapes can be nonsense for the model: TorchScript may assert where
                # eager broadcasts; only values count there. Unless the original scripts and
                # runs on them: then the fix made the scripted module raise
                inconclusive += 1
                continue
            if e[0] != s[0] or (e[0] == "ok" and not same(e[1], s[1])):
                return {
                    "status": "differ",
                    "detail": (
                        f"{mode} mode, {described}: eager original gave {_result_text(e)}, "
                        f"scripted fix gave {_result_text(s)}"
                    ),
                }
            results.append(e[0])
    _train(orig_obj, False)
    if not results:
        why = "one side raised on every guessed input" if inconclusive else "no deterministic run"
        return {"status": "none", "detail": f"{why}; name inputs in [tool.tsscan.verify] inputs"}
    extra = ", NaN/inf/negatives included" if described.startswith(("random", "shapes")) else ""
    return {"status": "agree", "detail": f"{described} ({len(results)} runs{extra})"}


def _train(obj, mode: bool) -> None:
    if isinstance(obj, torch.nn.Module):
        obj.train(mode)


def _deterministic(obj, args, first) -> bool:
    again = _call(obj, args)
    return again[0] == first[0] and (first[0] != "ok" or same(first[1], again[1]))


def _result_text(r) -> str:
    return _describe(r[1]) if r[0] == "ok" else f"an exception ({r[1]})"


# --------------------------------------------------------------------------- requests
def check(req: dict[str, Any]) -> dict[str, Any]:
    """One file. ``req``: path (the user's file), text (the version to check), original (the
    unfixed text, for level 3, or null), functions (level 1: name, self_name, start, source),
    classes (module classes), scripted (functions and script classes), tmpdir, package,
    stem, real_module, sys_path, factories, inputs, level (1 = frontend only)."""
    if torch is None:
        status = hello()
        if not status["ok"]:
            raise RuntimeError(status["reason"])
    before = set(sys.modules)
    try:
        return _check(req)
    finally:
        # forget the user's modules imported for this file: the next file may import them
        # after --fix rewrote them
        roots = [os.path.abspath(p) + os.sep for p in req.get("sys_path") or []]
        for key in set(sys.modules) - before:
            f = getattr(sys.modules.get(key), "__file__", None) or ""
            if "site-packages" in f or "dist-packages" in f:
                continue  # a virtualenv inside the project: libraries stay loaded
            if "._tsscan_" in key or key.startswith("_tsscan_") or any(os.path.abspath(f).startswith(r) for r in roots):
                sys.modules.pop(key, None)


def _check(req: dict[str, Any]) -> dict[str, Any]:
    real = req["path"]
    res: dict[str, Any] = {"frontend": {}, "import": None, "classes": {}, "scripted": {}}
    for fn in req.get("functions", []):
        res["frontend"][fn["qualname"]] = frontend(fn, real)
    if req.get("level", 3) < 2:
        return res
    for p in reversed(req.get("sys_path") or []):
        if p not in sys.path:
            sys.path.insert(0, p)
    try:
        mod, tpath = _load(req["text"], req, "fix", eager=False)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        res["import"] = _error(exc, real, [])
        return res
    temps = [tpath]
    orig_mod = None
    if req.get("original") is not None and req.get("level", 3) >= 3:
        try:
            orig_mod, opath = _load(req["original"], req, "orig", eager=True)
            temps.append(opath)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            res["original_import"] = _error(exc, real, [])
    for name in req.get("scripted", []):
        obj = getattr(mod, name, None)
        if obj is None:
            res["scripted"][name] = {
                "type": "NameError",
                "message": f"{name} is not defined at module level",
                "tb_line": None,
            }
            continue
        try:
            with quiet():
                scripted_fn = torch.jit.script(obj)
            res["scripted"][name] = None
        except Exception as exc:
            res["scripted"][name] = _error(exc, real, temps)
            continue
        orig_fn = getattr(orig_mod, name, None) if orig_mod is not None else None
        if callable(orig_fn) and not isinstance(orig_fn, type) and isinstance(scripted_fn, torch.jit.ScriptFunction):
            try:
                res.setdefault("scripted_compare", {})[name] = compare(orig_fn, scripted_fn, name, req, None, obj)
            except Exception as exc:
                res.setdefault("scripted_compare", {})[name] = {
                    "status": "none",
                    "detail": f"inputs could not be made: {type(exc).__name__}: {_first_line(str(exc))}",
                }
    for cls_name in req.get("classes", []):
        out: dict[str, Any] = {"built": False}
        res["classes"][cls_name] = out
        obj, factory_inputs, problem, how = _build(mod, cls_name, req)
        if problem:
            out["build_error"] = problem
            continue
        out["built"], out["built_by"] = True, how
        try:
            with quiet():
                scripted = _script_class(obj, cls_name, req, temps)
        except Exception as exc:
            out["script_error"] = _error(exc, real, temps)
            continue
        out["script_error"] = None
        if orig_mod is None:
            continue
        orig_obj, orig_inputs, problem, _ = _build(orig_mod, cls_name, req)
        if problem:
            out["compare"] = {"status": "none", "detail": f"the original cannot be built: {problem}"}
            continue
        try:
            scripted.load_state_dict(orig_obj.state_dict())
        except Exception:
            pass  # different state names: both were built with the same seed anyway
        try:
            out["compare"] = compare(orig_obj, scripted, cls_name, req, factory_inputs or orig_inputs, obj)
        except Exception as exc:
            out["compare"] = {
                "status": "none",
                "detail": f"inputs could not be made: {type(exc).__name__}: {_first_line(str(exc))}",
            }
    return res


def _script_class(obj, cls_name: str, req: dict[str, Any], temps: list[str]):
    """``torch.jit.script(obj)``. When an earlier class of this file failed to compile, torch
    keeps the submodule classes it had started ("Can't redefine method: forward on class ...")
    and a later class that holds one of them fails on that instead of its own code: then the
    file is loaded again under a new name (new classes) and the class built and scripted there."""
    try:
        return torch.jit.script(obj)
    except Exception as exc:
        if "Can't redefine method" not in str(exc):
            raise
    mod, path = _load(req["text"], req, "fix", eager=False)
    temps.append(path)
    again, _, problem, _ = _build(mod, cls_name, req)
    if problem:
        raise RuntimeError(problem)
    return torch.jit.script(again)


def _watch_parent() -> None:
    """Exit when tsscan goes away (killed: nobody would enforce the time limit any more)."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True, name="tsscan-parent-watch").start()


def main() -> int:
    # run as a script: its own directory (tsscan/) must not shadow the user's modules
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    sys.path.insert(0, os.getcwd())
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    _watch_parent()
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # user prints go to stderr, never into the protocol
    sys.stdout = sys.stderr
    if memory_mb > 0:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            if req.get("op") == "hello":
                answer = hello()
            elif req.get("op") == "check":
                answer = {"ok": True, "result": check(req)}
            else:
                answer = {"ok": False, "reason": f"unknown request {req.get('op')!r}"}
        except MemoryError:
            answer = {"ok": False, "reason": f"out of memory (limit {memory_mb} MiB)"}
        except BaseException as exc:  # the worker must answer, whatever user code did
            if isinstance(exc, KeyboardInterrupt):
                raise
            answer = {"ok": False, "reason": f"worker error: {type(exc).__name__}: {_first_line(str(exc))}"}
        proto.write(json.dumps(answer) + "\n")
        proto.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
