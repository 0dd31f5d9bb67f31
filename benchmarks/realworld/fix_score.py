#!/usr/bin/env python
"""How many of the corpus's failing classes script after `tsscan --fix` (issue 12).

    python benchmarks/realworld/fix_score.py [--labels DIR] [--site-packages DIR]
        [--python /work/rwenv/bin/python] [--package NAME ...] [--unsafe-fixes]
        [--work DIR] [--json OUT] [--target-version 2.14]

For each package of ``labels/<package>.jsonl`` (made by ``build_corpus.py``):

1. the installed package is copied from ``--site-packages`` into a work directory (site-packages
   is never written), with a ``pyproject.toml`` whose ``[tool.tsscan.verify] python`` is the
   corpus's torch interpreter;
2. every failing class is built (``build_corpus.build``: defaults, else derived arguments, as
   the labels were made) and scripted in the copy, in that interpreter: the baseline;
3. ``tsscan --fix --format json --target-version 2.14`` (the labels' torch, as in ``score.py``)
   runs (with this interpreter, tsscan's own) on the files of the failing classes and of their
   failure sites; it confirms each fix in its worker (the corpus's torch);
4. the classes are built and scripted again.

Prints, per package and in total: failing classes (baseline), classes that script afterwards,
fixes written / reverted / unverified, confirmed per level, how the verifier built each class
(defaults, factory, derived) according to the fix outcomes, and (``remaining``) where each class
that still fails stops: the compiler's file:line and the first line of its message. Figures depend on the machine only
for time; say the load (``uptime``) next to the timings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMPORT_NAMES = {
    "torchvision": "torchvision",
    "timm": "timm",
    "segmentation-models-pytorch": "segmentation_models_pytorch",
    "transformers": "transformers",
    "x-transformers": "x_transformers",
    "open-clip-torch": "open_clip",
}

# run in the corpus's interpreter: build each class as build_corpus does, script it
CHILD = r"""
import importlib, json, os, re, sys, warnings
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
warnings.simplefilter("ignore")
import torch
torch.set_num_threads(1)
from build_corpus import build
out = {}
for key in json.loads(sys.argv[3]):
    module, _, qual = key.partition(":")
    try:
        cls = importlib.import_module(module)
        for part in qual.split("."):
            cls = getattr(cls, part)
        inst, kind, note = build(cls)
    except BaseException as exc:
        out[key] = {"status": "unbuildable", "why": f"{type(exc).__name__}: {str(exc)[:200]}"}
        continue
    try:
        inst.eval()
        torch.jit.script(inst)
        out[key] = {"status": "scripts", "build": kind}
    except BaseException as exc:
        first = next((l.strip() for l in str(exc).splitlines() if l.strip()), type(exc).__name__)
        where = re.search(r'File "([^"]+)", line (\d+)', str(exc))
        at = f"{where.group(1).split(sys.argv[1] + os.sep)[-1]}:{where.group(2)}" if where else ""
        out[key] = {"status": "fails", "build": kind, "why": first[:200], "at": at}
print(json.dumps(out))
"""


REDEFINED = "Can't redefine method"


def load_labels(labels: Path, package: str) -> list[dict]:
    with open(labels / f"{package}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def script_classes(python: str, site: Path, corpus_dir: Path, keys: list[str], timeout: float) -> dict:
    """{key: {"status": scripts|fails|unbuildable, ...}}, in a fresh interpreter; one class at
    a time when the batch dies (a crash or a timeout costs only that class)."""
    try:
        r = subprocess.run(
            [python, "-c", CHILD, str(site), str(corpus_dir), json.dumps(keys)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=site,
        )
        if r.returncode == 0 and r.stdout.strip():
            out = json.loads(r.stdout.strip().splitlines()[-1])
            if len(keys) > 1:
                # a class that another class of the batch compiled (and failed) first is
                # half-defined in torch's compilation unit: "Can't redefine method". Its own
                # first error comes from a fresh interpreter.
                for key in [k for k, v in out.items() if REDEFINED in v.get("why", "")]:
                    out.update(script_classes(python, site, corpus_dir, [key], timeout))
            return out
    except subprocess.TimeoutExpired:
        pass
    if len(keys) == 1:
        return {keys[0]: {"status": "crashed"}}
    out: dict = {}
    for key in keys:
        out.update(script_classes(python, site, corpus_dir, [key], timeout / 2))
    return out


def run_package(package: str, args) -> dict:
    import_name = IMPORT_NAMES[package]
    rows = load_labels(args.labels, package)
    failing = [r for r in rows if r["status"] == "fails"]
    work = args.work / package
    site = work / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    shutil.copytree(
        Path(args.site_packages) / import_name, site / import_name, ignore=shutil.ignore_patterns("__pycache__")
    )
    (site / "pyproject.toml").write_text(
        f'[tool.tsscan.verify]\npython = "{args.python}"\ntimeout = {args.file_timeout}\nmemory-mb = 8192\n',
        encoding="utf-8",
    )
    keys = sorted({f"{r['module']}:{r['qualname']}" for r in failing})
    before = script_classes(args.python, site, args.corpus_dir, keys, args.script_timeout)
    still_failing = [k for k in keys if before.get(k, {}).get("status") == "fails"]
    files = sorted(
        {r["file"] for r in failing if f"{r['module']}:{r['qualname']}" in still_failing}
        | {r["site"]["file"] for r in failing if r.get("site") and f"{r['module']}:{r['qualname']}" in still_failing}
    )
    paths = [f"{import_name}/{f}" for f in files if (site / import_name / f).is_file()]
    cmd = [sys.executable, "-m", "tsscan", "--fix", "--format", "json", "--target-version", args.target_version]
    if args.unsafe_fixes:
        cmd.append("--unsafe-fixes")
    t0 = time.monotonic()
    r = subprocess.run(cmd + paths, cwd=site, capture_output=True, text=True, timeout=args.fix_timeout)
    fix_seconds = time.monotonic() - t0
    try:
        report = json.loads(r.stdout)
    except json.JSONDecodeError:
        report = {"fix_outcomes": [], "errors": [{"message": (r.stderr or r.stdout)[-500:]}]}
    outcomes = report.get("fix_outcomes") or []
    after = script_classes(args.python, site, args.corpus_dir, still_failing, args.script_timeout)
    fixed_classes = [k for k in still_failing if after.get(k, {}).get("status") == "scripts"]
    built: dict[str, str] = {}
    for o in outcomes:
        for part in filter(None, (o.get("built_by") or "").split("; ")):
            cls, _, how = part.partition(": ")
            built.setdefault(f"{o['path']}:{cls}", how.split(" set ")[0].split(" ")[0] if how else "?")
    return {
        "package": package,
        "labelled_failing": len(keys),
        "failing_here": len(still_failing),
        "baseline_other": dict(
            Counter(before.get(k, {}).get("status", "missing") for k in keys if k not in still_failing)
        ),
        "scripts_after": len(fixed_classes),
        "scripted_classes": fixed_classes,
        "files_fixed_over": len(paths),
        "fix_seconds": round(fix_seconds, 1),
        "fixes": dict(Counter(o["status"] for o in outcomes)),
        "written": sum(1 for o in outcomes if o.get("written")),
        "levels_written": dict(Counter(o["level"] for o in outcomes if o.get("written"))),
        "levels_all": dict(Counter(f"{o['status']}@{o['level']}" for o in outcomes)),
        "by_code_written": dict(Counter(o["code"] for o in outcomes if o.get("written"))),
        "classes_built_by": dict(Counter(built.values())),
        "after_errors": dict(
            Counter(
                (after.get(k) or {}).get("why", "")[:80] for k in still_failing if k not in fixed_classes
            ).most_common(12)
        ),
        "remaining": {
            k: f"{(after.get(k) or {}).get('at', '')}: {(after.get(k) or {}).get('why', (after.get(k) or {}).get('status', ''))}"
            for k in still_failing
            if k not in fixed_classes
        },
        "tsscan_errors": report.get("errors", [])[:5],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, default=HERE / "labels")
    ap.add_argument("--corpus-dir", type=Path, default=HERE, help="where build_corpus.py is")
    ap.add_argument("--site-packages", default="/work/rwenv/lib/python3.11/site-packages")
    ap.add_argument("--python", default="/work/rwenv/bin/python")
    ap.add_argument("--package", action="append")
    ap.add_argument("--unsafe-fixes", action="store_true")
    ap.add_argument("--target-version", default="2.14", help="torch version the labels were made with")
    ap.add_argument("--work", type=Path, default=Path("/tmp/tsscan-fix-score"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--file-timeout", type=float, default=300)
    ap.add_argument("--fix-timeout", type=float, default=3600)
    ap.add_argument("--script-timeout", type=float, default=900)
    args = ap.parse_args()
    if not (args.corpus_dir / "build_corpus.py").is_file():
        ap.error(f"no build_corpus.py in {args.corpus_dir} (pass --corpus-dir)")
    packages = args.package or [p for p in IMPORT_NAMES if (args.labels / f"{p}.jsonl").is_file()]
    results = []
    for package in packages:
        res = run_package(package, args)
        results.append(res)
        print(json.dumps(res, indent=1), flush=True)
    total_fail = sum(r["failing_here"] for r in results)
    total_ok = sum(r["scripts_after"] for r in results)
    print(
        f"\nTOTAL: {total_ok} of {total_fail} failing classes script after tsscan --fix"
        f"{' --unsafe-fixes' if args.unsafe_fixes else ''} ({100.0 * total_ok / max(total_fail, 1):.1f} %)"
    )
    for key in ("fixes", "levels_written", "classes_built_by"):
        c: Counter = Counter()
        for r in results:
            c.update(r[key])
        print(f"{key}: {dict(c)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
