#!/usr/bin/env python
"""Behaviour unchanged? Compare the findings of two tsscan runs.

    python scripts/compare_runs.py OLD.json NEW.json
    python scripts/compare_runs.py --run OLD_TSSCAN NEW_TSSCAN [--out DIR] PATH...

The first form compares two ``tsscan check --format json`` outputs. The second runs both
commands (each may be ``path/to/venv/bin/tsscan`` or ``"python -m tsscan"``) with ``check
--no-cache --format json`` over the same paths, keeps their outputs in ``--out`` and compares
them. A finding is its path, line, column, end, code and message; file errors count too. Exit 0
when the two runs agree, 1 when they differ (every difference is printed), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

Finding = tuple[str, int, int, int, int, str, str]


def findings(doc: dict) -> set[Finding]:
    out = {
        (d["path"], d["line"], d["column"], d["end_line"], d["end_column"], d["code"], d["message"])
        for d in doc["diagnostics"]
    }
    out |= {(e["path"], 0, 0, 0, 0, "error", e["message"]) for e in doc.get("errors", [])}
    return out


def compare(old: dict, new: dict, out=sys.stdout) -> bool:
    a, b = findings(old), findings(new)
    for f in sorted(a - b):
        print(f"- {f[0]}:{f[1]}:{f[2]}: {f[5]} {f[6]}", file=out)
    for f in sorted(b - a):
        print(f"+ {f[0]}:{f[1]}:{f[2]}: {f[5]} {f[6]}", file=out)
    same = a == b
    print(f"{len(a)} findings before, {len(b)} after: {'the same' if same else 'DIFFERENT'}", file=out)
    return same


def run(command: str, paths: Sequence[str], target: Path) -> dict:
    argv = [*shlex.split(command), "check", "--no-cache", "--format", "json", "--exit-zero", *paths]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode not in (0, 1, 2) or not proc.stdout.strip():
        raise SystemExit(f"compare_runs: {command!r} failed (exit {proc.returncode}): {proc.stderr.strip()[:500]}")
    target.write_text(proc.stdout, encoding="utf-8")
    return json.loads(proc.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", nargs=2, metavar=("OLD", "NEW"), help="two tsscan commands to run over PATH...")
    p.add_argument("--out", default=".", help="where --run keeps the two JSON outputs")
    p.add_argument("inputs", nargs="+", help="OLD.json NEW.json, or with --run the paths to check")
    args = p.parse_args(argv)
    if args.run:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        old = run(args.run[0], args.inputs, out / "old.json")
        new = run(args.run[1], args.inputs, out / "new.json")
    else:
        if len(args.inputs) != 2:
            p.error("give OLD.json and NEW.json, or --run OLD NEW PATH...")
        try:
            old, new = (json.loads(Path(x).read_text(encoding="utf-8")) for x in args.inputs)
        except (OSError, ValueError) as exc:
            print(f"compare_runs: {exc}", file=sys.stderr)
            return 2
    return 0 if compare(old, new) else 1


if __name__ == "__main__":
    sys.exit(main())
