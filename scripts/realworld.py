#!/usr/bin/env python
"""Agreement of tsscan with the real compiler on model code no one here wrote (timm, torchvision).

    python scripts/realworld.py [--package timm|torchvision] [--limit N] [--rows rows.json] [--json out.json]

Run it in an environment with torch, torchvision and timm installed (timm needs torchvision; see
docs/realworld.md for the exact set-up used). For one model of each timm architecture module
(``--package timm``, the default) or of each ``torchvision.models`` module (``--package
torchvision``: classification, detection, segmentation, video, optical flow and quantization;
the builder with the fewest parameters, or every builder with ``--all-builders``; built with
``weights=None`` and ``weights_backbone=None``, so nothing is downloaded) it:

1. builds the model (random weights) and calls ``torch.jit.script`` on it, recording whether it
   scripts and, if not, the first ``File "...", line N`` frame inside the package that the error
   names;
2. runs ``tsscan`` (no torch, the engine only) over the package's source files;
3. compares: a failure is *found* when tsscan reports on the line the compiler names; a model that
   scripts has *false alarms* for every finding (TS6xx warnings aside) inside the classes it is built
   from.

Each model is scripted in a child process (time and memory limits), so one that hangs or crashes
does not stop the sweep.
"""

from __future__ import annotations

import argparse
import ast
import json
import multiprocessing as mp
import os
import queue
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FRAME_RE = re.compile(r'File "([^"]+)", line (\d+)')
SMALL = ("pico", "nano", "tiny", "micro", "small", "mobile", "xs", "b0", "18", "s")


def size_key(n: str):
    for i, tag in enumerate(SMALL):
        if tag in n:
            return (i, len(n), n)
    return (len(SMALL), len(n), n)


def pick_timm(limit: int):
    import timm
    from timm.models import _registry

    by_module = defaultdict(list)
    for name in timm.list_models():
        fn = _registry._model_entrypoints.get(name)
        if fn is not None:
            by_module[fn.__module__].append(name)
    picks = [sorted(names, key=size_key)[0] for _, names in sorted(by_module.items())]
    return picks[:limit] if limit else picks


# builders whose weights would need more memory than the sweep allows; the classes they are
# built from are the ones of a smaller builder of the same module (vit_b_16, regnet_y_32gf ...)
TV_MAX_PARAMS = 250_000_000


def pick_torchvision(limit: int, all_builders: bool = False):
    """One builder per ``torchvision.models`` module (the one with the fewest parameters), or
    every builder with ``all_builders``."""
    import torchvision.models as tvm

    sizes, skipped = {}, []
    for name in sorted(tvm.list_models()):
        params = 0
        try:
            for w in tvm.get_model_weights(name):
                params = max(params, w.meta.get("num_params", 0))
        except Exception:
            pass
        if params > TV_MAX_PARAMS:
            skipped.append(name)
        else:
            sizes[name] = params
    if skipped:
        print(f"skipped (over {TV_MAX_PARAMS // 1_000_000}M parameters): {', '.join(skipped)}", file=sys.stderr)
    if all_builders:
        picks = sorted(sizes)
    else:
        by_module = defaultdict(list)
        for name in sizes:
            by_module[tvm.get_model_builder(name).__module__].append(name)
        picks = [min(names, key=lambda n: (sizes[n], n)) for _, names in sorted(by_module.items())]
    return picks[:limit] if limit else picks


def build_timm(name: str):
    import timm

    return timm.create_model(name, pretrained=False)


def build_torchvision(name: str):
    import inspect

    import torchvision.models as tvm

    builder = tvm.get_model_builder(name)
    kwargs = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        kwargs["weights_backbone"] = None  # detection/segmentation default to downloading one
    return builder(**kwargs)


PACKAGES = {"timm": (pick_timm, build_timm), "torchvision": (pick_torchvision, build_torchvision)}


def _script_one(package: str, name: str, queue) -> None:
    import resource
    import warnings

    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    warnings.simplefilter("ignore")
    import torch

    row = {"model": name}
    try:
        model = PACKAGES[package][1](name).eval()
    except Exception as exc:
        row["status"] = "build-failed"
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        queue.put(row)
        return
    classes = sorted(
        {
            (sys.modules[type(m).__module__].__file__, type(m).__name__)
            for m in model.modules()
            if type(m).__module__.startswith(package + ".")
        }
    )
    row["classes"] = classes
    try:
        torch.jit.script(model)
        row["status"] = "scripts"
    except Exception as exc:
        text = str(exc)
        row["status"] = "fails"
        row["error"] = next((ln for ln in text.splitlines() if ln.strip()), type(exc).__name__)[:300]
        frames = [(f, int(n)) for f, n in FRAME_RE.findall(text) if f"/{package}/" in f]
        row["site"] = frames[0] if frames else None
    queue.put(row)


def script_models(package: str, names, timeout: float = 120.0):
    # torch and the package are imported once here; each model is scripted in a forked child
    import importlib

    import torch  # noqa: F401

    importlib.import_module(package)

    ctx = mp.get_context("fork")
    rows = []
    for i, name in enumerate(names, 1):
        q = ctx.Queue()
        p = ctx.Process(target=_script_one, args=(package, name, q))
        t0 = time.time()
        p.start()
        # read before joining: a child blocks on exit until its queued row is read
        row = None
        while row is None and p.is_alive() and time.time() - t0 < timeout:
            try:
                row = q.get(timeout=1.0)
            except queue.Empty:
                pass
        if row is None and not q.empty():
            row = q.get()
        p.join(max(1.0, timeout - (time.time() - t0)) if row is not None else 0.1)
        if p.is_alive():
            p.kill()
            p.join()
            if row is None:
                row = {"model": name, "status": "timeout"}
        if row is None:
            row = {"model": name, "status": f"crashed ({p.exitcode})"}
        row["seconds"] = round(time.time() - t0, 2)
        rows.append(row)
        print(f"[{i}/{len(names)}] {name}: {row['status']}", file=sys.stderr, flush=True)
    return rows


def class_ranges(path: str):
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    return {n.name: (n.lineno, n.end_lineno) for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}


def tsscan_findings(package_dir: Path, target: str):
    from tsscan.engine import Engine
    from tsscan.files import read_source
    from tsscan.registry import load_rules

    engine = Engine(load_rules(), target)
    by_file = defaultdict(list)
    t0 = time.time()
    n = 0
    # walked here, not with tsscan's file finder: that one skips site-packages by default
    paths = sorted(str(p) for p in package_dir.rglob("*.py"))
    for path in paths:
        n += 1
        try:
            res = engine.check(path, read_source(path).text)
        except Exception:
            continue
        for d in res.diagnostics:
            by_file[os.path.realpath(path)].append(d)
    return by_file, n, time.time() - t0


def compare(rows, findings):
    found, missed, noloc = [], [], []
    alarms = {}
    for row in rows:
        if row["status"] == "fails":
            site = row.get("site")
            if not site:
                noloc.append(row)
                continue
            f, line = os.path.realpath(site[0]), site[1]
            hit = [d for d in findings.get(f, []) if d.line == line and not d.code.startswith("TS6")]
            (found if hit else missed).append((row, [d.code for d in hit]))
        elif row["status"] == "scripts":
            for f, cls in row["classes"]:
                rng = class_ranges(f).get(cls)
                if not rng:
                    continue
                for d in findings.get(os.path.realpath(f), []):
                    if rng[0] <= d.line <= rng[1] and not d.code.startswith("TS6"):
                        alarms[(f, d.line, d.code)] = (row["model"], d.message)
    return found, missed, noloc, alarms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", choices=sorted(PACKAGES), default="timm")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--all-builders", action="store_true", help="torchvision: every builder, not one per module")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds to build and script one model")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--rows", type=Path, help="reuse the scripting results of an earlier run")
    args = ap.parse_args()
    import importlib
    from importlib.metadata import version

    pkg = args.package
    mod = importlib.import_module(pkg)
    target = version("torch").split("+")[0]
    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text())
    else:
        pick = PACKAGES[pkg][0]
        names = pick(args.limit, args.all_builders) if pkg == "torchvision" else pick(args.limit)
        rows = script_models(pkg, names, args.timeout)
        if args.rows:
            args.rows.write_text(json.dumps(rows, indent=1))
    findings, nfiles, secs = tsscan_findings(Path(mod.__file__).parent, target)
    found, missed, noloc, alarms = compare(rows, findings)
    statuses = defaultdict(int)
    for r in rows:
        statuses[r["status"].split(" ")[0]] += 1
    short = lambda f: f.split(f"/{pkg}/")[-1]  # noqa: E731
    print(f"torch {version('torch')}, {pkg} {version(pkg)}: {len(rows)} models tried: {dict(statuses)}")
    print(f"tsscan over {pkg}: {nfiles} files, {sum(len(v) for v in findings.values())} findings, {secs:.1f} s")
    fails = len(found) + len(missed)
    print(f"failure sites found: {len(found)}/{fails}; failures without a location: {len(noloc)}")
    print(f"false alarms (findings inside classes of models that script): {len(alarms)}")
    for row, codes in found:
        print(
            f"  found {row['model']}: {short(row['site'][0])}:{row['site'][1]}: {','.join(sorted(set(codes)))}: {row['error']}"
        )
    for row, _ in missed:
        print(f"  missed {row['model']}: {short(row['site'][0])}:{row['site'][1]}: {row['error']}")
    for row in noloc:
        print(f"  no location {row['model']}: {row.get('error')}")
    for r in rows:
        if r["status"] not in ("scripts", "fails"):
            print(f"  {r['status']} {r['model']}: {r.get('error', '')}")
    for (f, line, code), (model, msg) in sorted(alarms.items()):
        print(f"  false alarm {short(f)}:{line}: {code} {msg} (model {model} scripts)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "package": pkg,
                    "versions": {"torch": version("torch"), pkg: version(pkg)},
                    "tsscan_seconds": round(secs, 1),
                    "files": nfiles,
                    "rows": rows,
                    "found": [(r["model"], c) for r, c in found],
                    "missed": [r["model"] for r, _ in missed],
                    "no_location": [r["model"] for r in noloc],
                    "false_alarms": [list(k) + list(v) for k, v in alarms.items()],
                },
                indent=1,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
