"""Run the whole test suite N times in a row and record each run (issue 15: "20 consecutive runs
of the test suite pass, and the property tests take the same time each run").

    python scripts/repeat_suite.py --runs 20 --log repeat.jsonl

Each run is ``<python> -m pytest -q -p no:cacheprovider --junitxml=<tmp>`` in the repository
the script lives in, with the interpreter given by ``--python`` (default: this one). After each
run one JSON line is appended to ``--log`` (so an interrupted series keeps what it measured):
the commit, the outcome counts, the suite's wall time and CPU time (its processes and their
children: what load on a shared machine does not change), and the property tests' count and
summed wall time from the JUnit report. The series stops at the first failing run unless ``--keep-going``.
At the end a Markdown table is printed; ``--table`` prints it from an existing log.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROPERTY_FILE = "test_properties"


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def junit_summary(path: Path) -> dict[str, Any]:
    """Outcome counts and the property tests' time, from a JUnit XML report."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
    cases = [
        case
        for case in root.iter("testcase")
        if PROPERTY_FILE in (case.get("classname") or "") and case.find("skipped") is None
    ]
    recorded = [{p.get("name"): p.get("value") for p in case.iter("property")} for case in cases]
    # the property tests record their own CPU time and a digest of the inputs they drew
    cpu = [float(r["cpu_seconds"]) for r in recorded if "cpu_seconds" in r]
    digests = [f"{r['examples']}:{r['inputs_sha256']}" for r in recorded if "inputs_sha256" in r]
    return {
        **counts,
        "property_tests": len(cases),
        "property_seconds": round(sum(float(case.get("time", 0)) for case in cases), 2),
        **({"property_cpu_seconds": round(sum(cpu), 2)} if cpu else {}),
        **({"property_inputs": " ".join(digests)} if digests else {}),
    }


def run_once(python: str, index: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        proc = subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        summary = junit_summary(report) if report.exists() else {}
    tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    return {
        "run": index,
        "commit": commit(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(time.time() - wall)),
        "exit": proc.returncode,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),  # the suite and every process it started
        "load": [round(x, 2) for x in os.getloadavg()],
        "last_line": tail[0] if tail else "",
        **summary,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| run | commit | exit | passed | skipped | failed | suite wall (s) | suite CPU (s) | property tests "
        "| property wall (s) | property CPU (s) | property inputs (examples:digest) | load (1 min) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        failed = int(r.get("failures", 0)) + int(r.get("errors", 0))
        passed = int(r.get("tests", 0)) - failed - int(r.get("skipped", 0))
        load = r.get("load") or [0.0]
        lines.append(
            f"| {r['run']} | {r['commit']} | {r['exit']} | {passed} | {r.get('skipped', '?')} | {failed} "
            f"| {r['wall_seconds']} | {r.get('cpu_seconds', '?')} | {r.get('property_tests', '?')} "
            f"| {r.get('property_seconds', '?')} | {r.get('property_cpu_seconds', '?')} "
            f"| {r.get('property_inputs', '?')} | {load[0]} |"
        )
    streak = 0
    for r in rows:
        streak = streak + 1 if r["exit"] == 0 else 0
    times = [float(r["property_seconds"]) for r in rows if "property_seconds" in r]
    cpus = [float(r["property_cpu_seconds"]) for r in rows if "property_cpu_seconds" in r]
    inputs = {r["property_inputs"] for r in rows if "property_inputs" in r}
    lines.append("")
    lines.append(f"{len(rows)} runs; the last {streak} passed in a row.")
    if len(times) > 1:
        lines.append(
            f"Property tests, wall: {min(times):.2f}–{max(times):.2f} s (median {statistics.median(times):.2f} s)."
        )
    if len(cpus) > 1:
        lines.append(
            f"Property tests, CPU: {min(cpus):.2f}–{max(cpus):.2f} s (median {statistics.median(cpus):.2f} s)."
        )
    if inputs:
        same = "the same inputs in every run" if len(inputs) == 1 else f"{len(inputs)} different input sets"
        lines.append(f"Property tests drew {same} (of {len(cpus)} runs that recorded them).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--log", type=Path, default=ROOT / "repeat_suite.jsonl")
    parser.add_argument("--keep-going", action="store_true", help="do not stop at the first failing run")
    parser.add_argument("--table", action="store_true", help="only print the table of an existing log")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.log.read_text().splitlines()] if args.log.exists() else []
    if not args.table:
        for index in range(len(rows) + 1, len(rows) + args.runs + 1):
            row = run_once(args.python, index)
            rows.append(row)
            with args.log.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"run {index}: exit {row['exit']}, {row['wall_seconds']} s, {row['last_line']}", flush=True)
            if row["exit"] != 0 and not args.keep_going:
                break
    print(table(rows))
    return 0 if rows and all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
