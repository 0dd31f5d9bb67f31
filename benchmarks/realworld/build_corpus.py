#!/usr/bin/env python
"""Label every ``nn.Module`` subclass of a model package with what ``torch.jit.script`` does to it.

    nice -n 10 python benchmarks/realworld/build_corpus.py PACKAGE [PACKAGE ...] [--workers 2]
        [--timeout 60] [--mem-gib 4] [--limit N] [--out benchmarks/realworld/labels]

Runs in the torch environment made by ``setup.sh`` (never in tsscan's own). For each package it
imports every submodule, collects the classes derived from ``torch.nn.Module`` whose
``__module__`` lies in the package, and for each class, in a forked child with a timeout and an
address-space limit:

1. builds it: ``cls()`` (build ``defaults``); if that raises, a few consistent sets of arguments
   derived from ``__init__``'s parameter names and annotations (build ``derived``; for a
   ``transformers`` class taking ``config``, the module's config class with its defaults, shrunk);
2. calls ``torch.jit.script`` on the instance.

One JSON row per class goes to ``labels/<package>.jsonl``: ``scripts``, ``fails`` (first line of
the message, the first ``File "...", line N`` frame inside the package = the *site*, and every
frame inside the package), ``unbuildable`` (why), ``timeout`` or ``crashed``. Classes already in
the file are skipped, so the run can be stopped and resumed. Big packages are walked in a fixed
pseudo-random order (hash of the class name), so a partial run is a fair sample.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import inspect
import json
import os
import pkgutil
import re
import sys
import time
import traceback
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent

# pip name -> import name
PACKAGES = {
    "torchvision": "torchvision",
    "timm": "timm",
    "segmentation-models-pytorch": "segmentation_models_pytorch",
    "open-clip-torch": "open_clip",
    "effdet": "effdet",
    "x-transformers": "x_transformers",
    "torch-geometric": "torch_geometric",
    "speechbrain": "speechbrain",
    "diffusers": "diffusers",
    "transformers": "transformers",
}
# (transformers' modular_*.py files are templates its code generator expands into modeling_*.py,
# not code a model runs: skipped)
FRAME_RE = re.compile(r'File "([^"]+)", line (\d+)')
SCHEMA_RE = re.compile(r"^[\w.:]+\(.*\) -> .*:?$|^aten::|^[\w.:]+\(.*\) -> \S+:$")
# submodules not worth importing: tests, CLIs, conversion scripts, backends that need other stacks
SKIP_MODULE = re.compile(
    r"(^|\.)(tests?|testing_utils|conftest|__main__|convert_\w+|benchmarks?|commands|cli|"
    r"\w*_flax\w*|\w*_tf\w*|modeling_flax_\w+|modeling_tf_\w+|\w*onnx\w*|"
    r"integrations|quantizers|pipelines|kernels|modular_\w+)($|\.)"
)


# ------------------------------------------------------------------------------- enumeration
def iter_modules(import_name: str):
    pkg = importlib.import_module(import_name)
    yield pkg
    for info in pkgutil.walk_packages(pkg.__path__, import_name + ".", onerror=lambda _n: None):
        if SKIP_MODULE.search(info.name[len(import_name) + 1 :]):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield importlib.import_module(info.name)
        except BaseException as exc:  # noqa: BLE001 - optional dependencies, SystemExit ...
            print(f"  import {info.name}: {type(exc).__name__}: {str(exc)[:120]}", file=sys.stderr)


def collect_classes(import_name: str):
    import torch.nn as nn

    found = {}
    for mod in iter_modules(import_name):
        for obj in list(vars(mod).values()):
            if (
                inspect.isclass(obj)
                and issubclass(obj, nn.Module)
                and getattr(obj, "__module__", "") == mod.__name__
                and "<locals>" not in obj.__qualname__
            ):
                found[(obj.__module__, obj.__qualname__)] = obj
    return found


def class_span(cls):
    try:
        lines, start = inspect.getsourcelines(cls)
        return inspect.getsourcefile(cls), start, start + len(lines) - 1
    except (OSError, TypeError):
        return None, None, None


# ------------------------------------------------------------------------- derived arguments
INT_NAMES = [  # (regex on the parameter name, value in set A, value in set B)
    (r"(^|_)(num_)?heads?$|^n_?heads$|num_attention_heads|num_key_value_heads|heads_num", 4, 2),
    (r"head_dim|dim_head|head_size|key_dim|d_head", 8, 16),
    (r"(^|_)(depths?|num_layers|n_layers|layers|num_blocks|n_blocks|blocks|repeats|num_hidden_layers)$", 1, 2),
    (r"kernel(_size)?$|^k$|ksize", 3, 1),
    (r"stride", 1, 2),
    (r"padding|^pad$", 1, 0),
    (r"dilation", 1, 1),
    (r"groups$|num_groups", 4, 1),
    (r"num_classes|n_classes|classes|num_labels|out_classes", 10, 4),
    (r"vocab|num_tokens|n_tokens|num_embeddings|n_vocab", 100, 64),
    (r"seq_len|max_len|max_length|context_length|max_seq|num_positions|max_position|n_ctx|block_size", 16, 32),
    (r"patch_size|patch$", 4, 2),
    (r"img_size|image_size|input_size|resolution|spatial", 32, 16),
    (r"window_size|window", 4, 2),
    (r"num_experts|experts", 2, 4),
    (r"top_k|topk|k_neighbors|^k_", 1, 2),
    (r"scale_factor|upscale|factor|ratio|mult|expansion|reduction", 2, 4),
    (r"sample_rate|sampling_rate|sr$", 16000, 8000),
    (r"n_fft|win_length|hop", 16, 8),
    (
        r"in_channels|in_chans|in_ch$|input_channels|inp$|inplanes|in_planes|in_dim|input_dim|in_features|c_in|channels_in",
        32,
        8,
    ),
    (
        r"out_channels|out_chans|out_ch$|output_channels|oup$|planes|out_dim|output_dim|out_features|c_out|channels_out",
        32,
        16,
    ),
    (r"dim|channels|hidden|features|embed|d_model|size|width|units|planes|chans|nf$|n_feats|emb", 32, 16),
    (r"^num_|^n_|count|number", 2, 4),
]
FLOAT_NAMES = re.compile(
    r"drop|dropout|eps|rate|^p$|prob|scale|ratio|alpha|beta|gamma|momentum|temperature|theta|init|std|margin|tau|weight|lambda"
)
LAYER_NAMES = re.compile(r"(_layer|_fn|_cls|_class|_type|activation|act)$|^act|^norm$|^activation")
MODULE_NAMES = re.compile(
    r"(^|_)(module|model|block|layer|net|network|encoder|decoder|backbone|head|submodule|embedding|fn|func|function)s?$"
)


def _ann_text(p: inspect.Parameter) -> str:
    a = p.annotation
    if a is inspect.Parameter.empty:
        return ""
    return a if isinstance(a, str) else getattr(a, "__name__", None) or str(a)


def derived_value(name: str, p: inspect.Parameter, which: int):
    """A value for a required ``__init__`` parameter, from its annotation and name (``which`` picks
    set A or B). Raises LookupError when nothing sensible can be guessed."""
    import torch
    import torch.nn as nn

    ann = _ann_text(p)
    low = name.lower()
    if ann.startswith("Optional") or ann.endswith("| None") or "NoneType" in ann:
        if which == 1:
            return None
        ann = re.sub(r"^Optional\[(.*)\]$", r"\1", ann)
    if ann in ("dtype", "torch.dtype"):
        return torch.float32
    if ann == "type":
        return nn.Identity
    if re.search(r"\bbool\b", ann) and "int" not in ann:
        return False
    if "Module" in ann and "Type" not in ann and "Callable" not in ann:
        if "List" in ann or "Sequence" in ann or "ModuleList" in ann:
            return nn.ModuleList([nn.Identity()])
        return nn.Identity()
    if "Callable" in ann or "Type[" in ann or "type[" in ann or LAYER_NAMES.search(low):
        if "str" in ann and "Callable" not in ann:
            return "relu" if "act" in low else ("batchnorm" if "norm" in low else "default")
        return nn.Identity
    if "Tensor" in ann:
        return torch.zeros(4)
    if re.search(r"\bstr\b", ann):
        if "act" in low:
            return "relu"
        if "norm" in low:
            return "batchnorm"
        raise LookupError(f"str parameter {name}")
    is_float = re.search(r"\bfloat\b", ann) and "int" not in ann
    if is_float or (not ann and FLOAT_NAMES.search(low) and not re.search(r"dim|size|num|channel|layers", low)):
        if "eps" in low:
            return 1e-5
        return 0.1 if which == 0 else 0.0
    seq = bool(re.search(r"List|Tuple|Sequence|list|tuple|Iterable", ann)) or bool(
        re.search(
            r"(dims|sizes|depths|strides|widths|_channels_list|(encoder|decoder|hidden|block|stage)_channels|feature_info|offsets)$",
            low,
        )
        and not re.search(r"^(in|out|num|n)_", low)
    )
    if which == 1 and not ann:
        seq = not seq and bool(re.search(r"s$", low))
    for rx, a, b in INT_NAMES:
        if re.search(rx, low):
            v = a if which == 0 else b
            if seq:
                return [v, v] if "List" in ann or "list" in ann or not ann else (v, v)
            return v
    if MODULE_NAMES.search(low) and not ann:
        return nn.Identity()
    if re.search(r"transforms|modules|layers|blocks", low):
        return [nn.Identity()]
    if "int" in ann:
        return 32 if which == 0 else 16
    if seq:
        return [32, 32] if which == 0 else [16, 16, 16]
    if not ann:
        if which == 0:
            return 32
        return None
    raise LookupError(f"{name}: {ann}")


SHRINK = {
    "hidden_size": 32,
    "d_model": 32,
    "n_embd": 32,
    "embed_dim": 32,
    "dim": 32,
    "hidden_dim": 32,
    "num_hidden_layers": 1,
    "num_layers": 1,
    "n_layer": 1,
    "n_layers": 1,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "num_decoder_layers": 1,
    "num_encoder_layers": 1,
    "num_attention_heads": 4,
    "n_head": 4,
    "n_heads": 4,
    "num_heads": 4,
    "encoder_attention_heads": 4,
    "decoder_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "intermediate_size": 64,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
    "n_inner": 64,
    "ffn_dim": 64,
    "vocab_size": 100,
    "num_experts": 2,
    "num_local_experts": 2,
    "moe_intermediate_size": 32,
}


def shrink_config(cfg, depth: int = 0):
    for key, val in SHRINK.items():
        old = getattr(cfg, key, None)
        if isinstance(old, int) and not isinstance(old, bool) and old > val:
            try:
                setattr(cfg, key, val)
            except Exception:
                pass
    if depth < 2:
        for key in list(vars(cfg)):
            sub = getattr(cfg, key, None)
            if sub is not None and type(sub).__name__.endswith("Config") and hasattr(sub, "to_dict"):
                shrink_config(sub, depth + 1)
    return cfg


def config_candidates(cls, p: inspect.Parameter):
    """transformers: the config classes a ``config`` parameter may take, the annotated one first."""
    try:
        from transformers import PretrainedConfig
    except Exception:
        return []
    out = []
    ann = p.annotation
    if inspect.isclass(ann) and issubclass(ann, PretrainedConfig) and ann is not PretrainedConfig:
        out.append(ann)
    cc = getattr(cls, "config_class", None)
    if inspect.isclass(cc) and issubclass(cc, PretrainedConfig) and cc not in out and cc is not PretrainedConfig:
        out.append(cc)
    mod = sys.modules.get(cls.__module__)
    ann_name = ann if isinstance(ann, str) else ""
    names = sorted(vars(mod).items()) if mod else []
    for name, obj in names:
        if (
            inspect.isclass(obj)
            and issubclass(obj, PretrainedConfig)
            and obj is not PretrainedConfig
            and obj not in out
        ):
            if ann_name and name in ann_name:
                out.insert(0, obj)
            else:
                out.append(obj)
    if not out:  # the config module next to the modeling module
        pkg = cls.__module__.rsplit(".", 1)[0]
        short = cls.__module__.rsplit(".", 1)[-1].replace("modeling_", "configuration_")
        try:
            cmod = importlib.import_module(f"{pkg}.{short}")
            out += [
                o
                for o in vars(cmod).values()
                if inspect.isclass(o) and issubclass(o, PretrainedConfig) and o is not PretrainedConfig
            ]
        except Exception:
            pass
    return out[:4]


def package_config(cls, name: str):
    """Package-specific config objects for a required ``config`` parameter."""
    if cls.__module__.startswith("effdet") and name == "config":
        from effdet import get_efficientdet_config

        return get_efficientdet_config("efficientdet_d0")
    raise LookupError(name)


def argument_sets(cls):
    """Yield (description, kwargs) candidates for building ``cls`` when ``cls()`` fails."""
    sig = None
    for klass in cls.__mro__:  # a subclass whose __init__ takes (*args, **kwargs): its base's
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return
        if any(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in list(sig.parameters.values())[1:]):
            break
    if sig is None:
        return
    params = [
        (n, p)
        for n, p in list(sig.parameters.items())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.default is inspect.Parameter.empty
    ]
    cfg_params = [n for n, _ in params if n in ("config", "cfg", "model_config")]
    cands = config_candidates(cls, dict(params)[cfg_params[0]]) if cfg_params else []
    if cands:
        cname = cfg_params[0]
        for ccls in cands:
            for shrink in (True, False):
                try:
                    cfg = ccls()
                    if shrink:
                        shrink_config(cfg)
                except Exception:
                    continue
                kw = {cname: cfg}
                ok = True
                for n, p in params:
                    if n == cname:
                        continue
                    try:
                        kw[n] = derived_value(n, p, 0)
                    except LookupError:
                        ok = False
                if ok:
                    yield f"{ccls.__name__}{' shrunk' if shrink else ''}", kw
        return
    for which in (0, 1):
        kw = {}
        try:
            for n, p in params:
                try:
                    kw[n] = package_config(cls, n)
                except LookupError:
                    kw[n] = derived_value(n, p, which)
        except LookupError as exc:
            yield f"no guess ({exc})", None
            return
        yield "AB"[which], kw


# defaults that would download weights (nothing can be downloaded here): switched off, and the
# build still counts as ``defaults``
NO_DOWNLOAD = {
    "encoder_weights": None,
    "pretrained": False,
    "weights": None,
    "weights_backbone": None,
    "pretrained_backbone": False,
    "pretrained_weights": None,
}


def no_download(cls) -> dict:
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return {}
    return {
        k: v
        for k, v in NO_DOWNLOAD.items()
        if k in params and params[k].default not in (inspect.Parameter.empty, None, False)
    }


def build(cls):
    """Returns (instance, kind, note) or raises with the reasons."""
    if inspect.isabstract(cls):
        raise RuntimeError("abstract class")
    nodl = no_download(cls)
    try:
        return cls(**nodl), "defaults", ", ".join(f"{k}={v}" for k, v in nodl.items())
    except Exception as exc:
        first = f"cls(): {type(exc).__name__}: {str(exc)[:150]}"
    errors = [first]
    for desc, kw in argument_sets(cls):
        if kw is None:
            errors.append(desc)
            continue
        kw = {**nodl, **kw}
        try:
            return cls(**kw), "derived", desc + ": " + ", ".join(f"{k}={_short(v)}" for k, v in kw.items())
        except Exception as exc:
            errors.append(f"{desc}: {type(exc).__name__}: {str(exc)[:150]}")
    raise RuntimeError(" | ".join(errors))


def _short(v) -> str:
    if inspect.isclass(v):
        return v.__name__
    if hasattr(v, "to_dict"):
        return type(v).__name__ + "()"
    s = repr(v)
    return s if len(s) < 30 else s[:27] + "..."


# -------------------------------------------------------------------------------- the child
def label_in_child(cls, import_name: str, pkg_root: str, mem_gib: float, wfd: int) -> None:
    import resource

    try:
        with open("/proc/self/status") as fh:
            vm = next(int(row.split()[1]) * 1024 for row in fh if row.startswith("VmSize:"))
        limit = vm + int(mem_gib * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except Exception:
        pass
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(1)
    row = {}
    try:
        inst, kind, note = build(cls)
        row.update(build=kind, build_args=note)
    except BaseException as exc:  # noqa: BLE001
        row.update(status="unbuildable", reason=str(exc)[:600])
        _send(wfd, row)
        return
    try:
        inst.eval()
    except Exception:
        pass
    row["has_forward"] = type(inst).forward is not torch.nn.Module.forward
    try:
        torch.jit.script(inst)
        row["status"] = "scripts"
    except BaseException as exc:  # noqa: BLE001
        text = str(exc)
        row["status"] = "fails"
        row["error_type"] = type(exc).__name__
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        # the first line that is not a schema ("forward(Tensor x) -> Tensor:") nor a frame
        row["message"] = next(
            (ln for ln in lines if not SCHEMA_RE.match(ln) and not ln.startswith(("File ", "~", "The following"))),
            lines[0] if lines else type(exc).__name__,
        )[:400]
        row["text_head"] = "\n".join(lines[:8])[:1200]
        frames = []
        for f, n in FRAME_RE.findall(text):
            if f.startswith(pkg_root + os.sep):
                fr = [os.path.relpath(f, pkg_root), int(n)]
                if not frames or frames[-1] != fr:
                    frames.append(fr)
        if not frames:  # a Python exception raised by the frontend: take the traceback
            for fs in traceback.extract_tb(exc.__traceback__):
                if fs.filename.startswith(pkg_root + os.sep):
                    frames.append([os.path.relpath(fs.filename, pkg_root), fs.lineno])
            row["frames_from"] = "traceback" if frames else None
        row["frames"] = frames[:20]
        row["site"] = {"file": frames[0][0], "line": frames[0][1]} if frames else None
        if not frames:
            row["other_frames"] = [[f, int(n)] for f, n in FRAME_RE.findall(text)][:5]
    _send(wfd, row)


def _send(wfd: int, row: dict) -> None:
    data = json.dumps(row).encode()
    with os.fdopen(wfd, "wb") as fh:
        fh.write(data)


# ------------------------------------------------------------------------------- the driver
def _drain(rfd: int, chunks: list) -> None:
    """Read what a child has written so far (its pipe is non-blocking)."""
    try:
        while True:
            b = os.read(rfd, 1 << 16)
            if not b:
                break
            chunks.append(b)
    except (BlockingIOError, OSError):
        pass


def label_package(pip_name: str, args) -> None:
    import torch  # noqa: F401 - imported once, before forking

    import_name = PACKAGES[pip_name]
    out = Path(args.out) / f"{pip_name}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if args.retry_unbuildable and r["status"] == "unbuildable":
                    done.discard((r["module"], r["qualname"]))
                else:
                    done.add((r["module"], r["qualname"]))
    t0 = time.time()
    classes = collect_classes(import_name)
    pkg = importlib.import_module(import_name)
    pkg_root = os.path.dirname(os.path.realpath(pkg.__file__))
    from importlib.metadata import version

    ver = version(pip_name)
    todo = sorted(
        (k for k in classes if k not in done),
        key=lambda k: hashlib.sha1(f"{k[0]}:{k[1]}".encode()).hexdigest(),
    )
    if args.limit:
        todo = todo[: max(0, args.limit - len(done))]
    print(
        f"{pip_name} {ver}: {len(classes)} classes ({len(done)} labelled, {len(todo)} to do; "
        f"import {time.time() - t0:.0f}s)",
        file=sys.stderr,
        flush=True,
    )
    running = {}  # pid -> (key, rfd, start, chunks)
    with open(out, "a") as sink:
        i = 0
        while todo or running:
            while todo and len(running) < args.workers:
                key = todo.pop(0)
                rfd, wfd = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(rfd)
                    code = 0
                    try:
                        os.setpgid(0, 0)
                        label_in_child(classes[key], import_name, pkg_root, args.mem_gib, wfd)
                    except BaseException:
                        code = 1
                    finally:
                        os._exit(code)
                os.close(wfd)
                os.set_blocking(rfd, False)
                running[pid] = (key, rfd, time.time(), [])
            time.sleep(0.02)
            for pid, (key, rfd, start, chunks) in list(running.items()):
                _drain(rfd, chunks)
                wpid, status = os.waitpid(pid, os.WNOHANG)
                timed_out = time.time() - start > args.timeout
                if wpid == 0 and not timed_out:
                    continue
                if wpid == 0:
                    try:
                        os.killpg(pid, 9)
                    except ProcessLookupError:
                        pass
                    os.waitpid(pid, 0)
                _drain(rfd, chunks)
                os.close(rfd)
                del running[pid]
                try:
                    row = json.loads(b"".join(chunks)) if chunks else None
                except ValueError:
                    row = None
                if row is None:
                    row = {"status": "timeout" if wpid == 0 else "crashed"}
                    if wpid != 0:
                        row["reason"] = f"exit status {status}"
                cls = classes[key]
                f, lo, hi = class_span(cls)
                row = {
                    "package": pip_name,
                    "version": ver,
                    "module": key[0],
                    "qualname": key[1],
                    "file": os.path.relpath(f, pkg_root) if f and f.startswith(pkg_root) else f,
                    "span": [lo, hi],
                    **row,
                    "seconds": round(time.time() - start, 2),
                }
                sink.write(json.dumps(row) + "\n")
                sink.flush()
                i += 1
                if i % 50 == 0:
                    print(
                        f"  {pip_name}: {i + len(done)}/{len(classes)} ({time.time() - t0:.0f}s)",
                        file=sys.stderr,
                        flush=True,
                    )
    print(f"{pip_name}: done in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)


def add_extra_packages(specs: list[str]) -> None:
    """``pip=import`` names of packages outside the ten (held-out checks, docs/realworld.md)."""
    for spec in specs:
        pip, sep, imp = spec.partition("=")
        if not sep or not pip or not imp:
            raise SystemExit(f"--extra wants PIP=IMPORT, got {spec!r}")
        PACKAGES[pip] = imp


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # fail at once instead of retrying a download
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packages", nargs="*", default=list(PACKAGES), help="pip names (default: all ten)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--mem-gib", type=float, default=4.0)
    ap.add_argument("--limit", type=int, default=0, help="label at most N classes per package")
    ap.add_argument("--out", default=str(HERE / "labels"))
    ap.add_argument(
        "--retry-unbuildable",
        action="store_true",
        help="label again the classes labelled unbuildable (the new row wins)",
    )
    ap.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="PIP=IMPORT",
        help="a package outside the ten, for a held-out check (give its pip name as a package too)",
    )
    args = ap.parse_args()
    add_extra_packages(args.extra)
    for name in args.packages:
        # each package in its own process, so one package's imports do not weigh on the next
        pid = os.fork()
        if pid == 0:
            try:
                label_package(name, args)
                os._exit(0)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
