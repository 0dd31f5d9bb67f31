#!/usr/bin/env python
"""Score tsscan against the oracle's scannable cases (../shared/oracle by default).

    python scripts/oracle_score.py [--oracle DIR] [--verbose]

For every case that torch 2.13 rejects: is it flagged on its MARK line (or on the line the
compiler names) inside ``original``? For every ``original`` that scripts and every ``fixed*``
variant that scripts: is there any finding inside it (a false alarm)? Findings in the TS6xx
band (constructs that script but behave differently) are warnings by design and are not
counted as false alarms. Prints the figures; ``score()`` is used by tests/test_oracle.py.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISSUE2_IDS = (
    "S01 S02 S04 S10 S11 S13 S14 S18 S19 S20 S21 S22 S23 S24 S25 S26 S27 S28 S29 S30 S31 "
    "S43 S44 S45 E02 E03 E08 E09 E11 E12 E13 E15 E16 E27 T10 T11 T12 B02 B03"
).split()
WARNING_BAND = "TS6"


def default_oracle() -> Path:
    return Path(os.environ.get("TSSCAN_ORACLE", ROOT.parent / "shared" / "oracle"))


def _ranges(text: str):
    """name -> (first line, last line) of top-level defs/classes."""
    tree = ast.parse(text)
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            out[node.name] = (start, node.end_lineno)
    return out


def score(oracle: Path):
    from tsscan.engine import Engine
    from tsscan.registry import load_rules

    results = json.loads((oracle / "RESULTS.json").read_text())["results"]
    engine = Engine(load_rules(), "2.13.0")
    rows = []
    for case in results:
        stem = Path(case["file"]).name
        path = oracle / "scannable" / stem
        text = path.read_text(encoding="utf-8")
        diags = engine.check(str(path), text).diagnostics
        ranges = _ranges(text)
        inside = lambda name, diags=diags, ranges=ranges: [  # noqa: E731
            d for d in diags if name in ranges and ranges[name][0] <= d.line <= ranges[name][1]
        ]
        orig = inside("original")
        err = case.get("error") or {}
        wanted_lines = {case["mark_line"]}
        if err.get("in_case_file") and err.get("line"):
            wanted_lines.add(err["line"])
        row = {"id": case["id"], "scripts": case["scripts"], "file": stem}
        if not case["scripts"]:
            # anywhere but inside a fixed* variant: the MARK may sit in a helper `original` calls
            in_fixed = lambda d, ranges=ranges: any(  # noqa: E731
                n.startswith("fixed") and r[0] <= d.line <= r[1] for n, r in ranges.items()
            )
            hits = [d for d in diags if d.line in wanted_lines and not in_fixed(d)]
            row["flagged"] = bool(hits)
            row["codes"] = sorted({d.code for d in hits})
        else:
            row["false_alarms"] = [f"{d.line}:{d.code}" for d in orig if not d.code.startswith(WARNING_BAND)]
        fixed_alarms = []
        for rw in case.get("rewrites", []):
            if rw.get("scripts"):
                fixed_alarms += [
                    f"{rw['name']}:{d.line}:{d.code}" for d in inside(rw["name"]) if not d.code.startswith(WARNING_BAND)
                ]
        row["fixed_false_alarms"] = fixed_alarms
        rows.append(row)
    return rows


def summarize(rows):
    failing = [r for r in rows if not r["scripts"]]
    issue2 = [r for r in failing if r["id"] in ISSUE2_IDS]
    se_scripting = [r for r in rows if r["scripts"] and r["id"][0] in "SE"]
    return {
        "failing": len(failing),
        "failing_flagged": sum(r["flagged"] for r in failing),
        "issue2": len(issue2),
        "issue2_flagged": sum(r["flagged"] for r in issue2),
        "false_alarm_cases": [r["id"] for r in rows if r.get("false_alarms")],
        "se_false_alarm_cases": [r["id"] for r in se_scripting if r.get("false_alarms")],
        "fixed_false_alarm_cases": [r["id"] for r in rows if r["fixed_false_alarms"]],
        "missed": [r["id"] for r in failing if not r["flagged"]],
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", type=Path, default=default_oracle())
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    rows = score(args.oracle)
    s = summarize(rows)
    print(
        f"issue-2 list flagged: {s['issue2_flagged']}/{s['issue2']} ({100 * s['issue2_flagged'] / s['issue2']:.1f} %)"
    )
    print(
        f"all failing flagged:  {s['failing_flagged']}/{s['failing']} ({100 * s['failing_flagged'] / s['failing']:.1f} %)"
    )
    print(f"missed: {' '.join(s['missed']) or '-'}")
    print(f"false alarms in originals that script: {' '.join(s['false_alarm_cases']) or '-'}")
    print(f"false alarms in fixed variants that script: {' '.join(s['fixed_false_alarm_cases']) or '-'}")
    if args.verbose:
        for r in rows:
            if r.get("false_alarms") or r["fixed_false_alarms"]:
                print(r["id"], r.get("false_alarms"), r["fixed_false_alarms"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
