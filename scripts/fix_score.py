#!/usr/bin/env python
"""How far `tsscan --fix` gets on the oracle's failing cases and on the fixture models.

    python scripts/fix_score.py [--oracle DIR] [--unsafe-fixes] [--verbose]

For every oracle case that torch 2.13 rejects, the ``original`` (with the case's ``fixed*``
variants cut out) is fixed with the compiler's confirmation (tsscan.fixer.fix_file, one
worker for the whole run), then the result is compiled again: does it script now? Also runs
the fixture models (fixtures/fix/*.py and fixtures/yolo_head.py). Prints the figures and
the confirmation timings.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _strip_variants(text: str) -> str:
    """The case file without its top-level ``fixed*`` definitions."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    drop = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name.startswith("fixed"):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            drop.update(range(start, node.end_lineno + 1))
    return "".join(ln for i, ln in enumerate(lines, 1) if i not in drop)


def scripts(outcome) -> bool:
    if outcome.unavailable or outcome.import_error is not None:
        return False
    units = [c.scripts for c in outcome.classes.values()] + [e is None for e in outcome.scripted.values()]
    return bool(units) and all(units)


def run_one(engine, verifier, path: Path, text: str, safeties):
    from tsscan.fixer import fix_file

    ff = fix_file(engine, str(path), text, safeties, verifier=verifier)
    after = verifier.check(str(path), ff.new_text, None, ff.result.scope if ff.result else None)
    return ff, scripts(after), after


def main() -> int:
    from tsscan.config import Settings
    from tsscan.engine import Engine
    from tsscan.registry import load_rules
    from tsscan.rule import SAFE, UNSAFE
    from tsscan.verify import Verifier

    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", default=os.environ.get("TSSCAN_ORACLE", str(ROOT.parent / "shared" / "oracle")))
    ap.add_argument("--unsafe-fixes", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    oracle = Path(args.oracle)
    safeties = (SAFE, UNSAFE) if args.unsafe_fixes else (SAFE,)
    engine = Engine(load_rules(), "2.13.0")
    results = json.loads((oracle / "RESULTS.json").read_text())["results"]
    failing = [c for c in results if not c["scripts"]]
    tmp = Path(tempfile.mkdtemp(prefix="tsscan-fixscore-"))
    shutil.copy(oracle / "scannable" / "_common.py", tmp / "_common.py")
    rows = []
    t0 = time.monotonic()
    try:
        with Verifier(Settings(root=tmp)) as verifier:
            if verifier.available():
                print(f"cannot compile: {verifier.available()}")
                return 2
            for case in failing:
                stem = Path(case["file"]).name
                text = _strip_variants((oracle / "scannable" / stem).read_text(encoding="utf-8"))
                path = tmp / stem
                path.write_text(text, encoding="utf-8")
                ff, ok, after = run_one(engine, verifier, path, text, safeties)
                remaining = sorted({d.code for d in ff.result.diagnostics}) if ff.result else []
                rows.append((case["id"], ff, ok, remaining, after))
            models = sorted((ROOT / "fixtures" / "fix").glob("*.py"))
            models = [p for p in models if not p.name.endswith(".fixed.py")] + [ROOT / "fixtures" / "yolo_head.py"]
            model_rows = []
            mdir = tmp / "models"
            mdir.mkdir()
            for p in models:
                shutil.copy(p, mdir / p.name)
            if (ROOT / "fixtures" / "fix" / "pyproject.toml").is_file():
                from tsscan.config import load_settings

                verifier.factories.update(
                    {
                        k: v
                        for k, v in load_settings([str(ROOT / "fixtures" / "fix" / "x.py")])
                        .verify.get("factories", {})
                        .items()
                    }
                )
                verifier.inputs.update(
                    load_settings([str(ROOT / "fixtures" / "fix" / "x.py")]).verify.get("inputs", {})
                )
                verifier.root = mdir
            for p in models:
                text = (mdir / p.name).read_text(encoding="utf-8")
                before = verifier.check(str(mdir / p.name), text)
                ff, ok, after = run_one(engine, verifier, mdir / p.name, text, safeties)
                model_rows.append((p.name, scripts(before), ff, ok, after))
            elapsed = time.monotonic() - t0
            import_s, checks, check_s = verifier.worker.import_seconds, verifier.checks, verifier.check_seconds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    fixed_any = [r for r in rows if r[1].applied]
    now_ok = [r for r in fixed_any if r[2]]
    print(
        f"oracle: {len(failing)} failing cases; --fix applied fixes in {len(fixed_any)}; "
        f"{len(now_ok)} of those script afterwards"
    )
    statuses = Counter(rec.status for r in rows for rec in r[1].applied + r[1].dropped)
    levels = Counter(rec.level for r in rows for rec in r[1].applied if rec.status == "confirmed")
    print(f"  fixes: {dict(statuses)}; confirmed by level: {dict(sorted(levels.items()))}")
    no_fix = Counter(",".join(r[3]) or "not flagged" for r in rows if not r[1].applied)
    print(f"  no fix applied: {sum(no_fix.values())} cases; remaining codes: {dict(no_fix.most_common())}")
    for cid, ff, ok, remaining, _after in rows:
        if ff.applied and not ok:
            print(f"  {cid}: fixed {[r.diagnostic.code for r in ff.applied]} but still fails: remaining {remaining}")
        if args.verbose:
            for rec in ff.applied + ff.dropped:
                print(f"    {cid}: {rec.note()}")
    print("models:")
    for name, before, ff, ok, after in model_rows:
        rem = sorted({d.code for d in ff.result.diagnostics}) if ff.result else []
        why = ""
        if not ok:
            errs = [
                f"{n}: {c.script_error.short() if c.script_error else c.build_error}"
                for n, c in after.classes.items()
                if not c.scripts
            ]
            errs += [f"{n}: {e.short()}" for n, e in after.scripted.items() if e is not None]
            why = f"; still fails: {errs}; remaining findings {rem}"
        print(
            f"  {name}: scripts before: {before}; fixes {[(r.diagnostic.code, r.status, r.level) for r in ff.applied]}"
            f"{' dropped ' + str([(r.diagnostic.code, r.status) for r in ff.dropped]) if ff.dropped else ''}; scripts after: {ok}{why}"
        )
    print(
        f"timing: {elapsed:.1f} s total; torch imported once in {import_s:.1f} s; {checks} compiler checks in {check_s:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
