#!/usr/bin/env python
"""Reliability sweep: tsscan over real model packages it has never seen, looking for crashes.

    python scripts/sweep.py [--packages torchvision timm transformers] [--work DIR] [--json out.json] [--limit N]

For each package it downloads the wheel from PyPI (``pip download --no-deps``, nothing is
installed or imported), unzips only its model source files, and runs:

1. ``tsscan check --no-cache`` over them;
2. ``tsscan --fix --diff --no-verify`` (prints the diff, writes nothing, never runs user code);
3. applies the diff with ``patch`` to a copy, parses every patched file with ``ast``, and runs
   ``--diff`` again on the copy: fixing the fixed code must change nothing (idempotence).

A *crash* is a traceback, an "internal error" line, or an exit code other than 0/1/2.
Input errors (a file that Python itself cannot parse, e.g. newer syntax) are counted apart.
Exit status 0 only if there are no crashes, every diff applies and every patched file parses.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

# the package's model sources inside its wheel (transformers is large: only its models/)
MODEL_PARTS = {
    "torchvision": ("torchvision/models/", "torchvision/ops/"),
    "timm": ("timm/models/", "timm/layers/"),
    "transformers": ("transformers/models/",),
}
FINDING_RE = re.compile(r"^.+?:\d+:\d+: (TS\d{3})", re.M)


def tsscan(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tsscan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="backslashreplace",
    )


def crashed(proc: subprocess.CompletedProcess) -> list:
    problems = []
    if proc.returncode not in (0, 1, 2):
        problems.append(f"exit code {proc.returncode}")
    for stream in (proc.stdout, proc.stderr):
        if "Traceback (most recent call last)" in stream:
            problems.append("traceback: " + stream[stream.index("Traceback") :][:2000])
    problems += [ln for ln in proc.stderr.splitlines() if "internal error" in ln]
    return problems


def download(package: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    have = sorted(dest.glob(f"{package}-*.whl"))
    if not have:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--quiet",
                "-d",
                str(dest),
                package,
            ],
            check=True,
        )
        have = sorted(dest.glob(f"{package}-*.whl"))
    return have[-1]


def is_model_file(package: str, name: str) -> bool:
    if not (name.endswith(".py") and name.startswith(MODEL_PARTS[package])):
        return False
    if package == "transformers":  # the PyTorch modeling files only (not TF/Flax, configs, tokenizers)
        base = name.rsplit("/", 1)[-1]
        return base.startswith("modeling_") and not base.startswith(("modeling_tf_", "modeling_flax_"))
    return True


def extract(wheel: Path, package: str, root: Path, limit: int = 0) -> int:
    with zipfile.ZipFile(wheel) as z:
        names = sorted(n for n in z.namelist() if is_model_file(package, n))
        if limit and len(names) > limit:  # an even sample: every k-th file
            step = -(-len(names) // limit)
            names = names[::step]
        for name in names:
            z.extract(name, root)
    return len(names)


def split_diff(diff: str) -> dict:
    """path -> that file's part of a multi-file unified diff."""
    parts: dict = {}
    current = None
    for line in diff.splitlines(keepends=True):
        if line.startswith("--- a/"):
            current = line[6:].rstrip("\n")
            parts[current] = ""
        if current is not None:
            parts[current] += line
    return parts


def sweep_package(package: str, work: Path, limit: int = 0) -> dict:
    t0 = time.time()
    wheel = download(package, work / "wheels")
    root = work / "src" / package
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    files = extract(wheel, package, root, limit)
    top = package
    rec: dict = {"package": wheel.name, "files": files, "download_and_unzip_s": round(time.time() - t0, 1)}

    t = time.time()
    check = tsscan("check", "--no-cache", "--statistics", top, cwd=root)
    rec["check_s"] = round(time.time() - t, 1)
    codes = Counter(FINDING_RE.findall(check.stdout))
    rec["findings"] = sum(codes.values())
    rec["by_code"] = dict(codes.most_common())
    rec["files_with_findings"] = len({ln.split(":")[0] for ln in check.stdout.splitlines() if FINDING_RE.match(ln)})
    rec["input_errors"] = [ln for ln in check.stderr.splitlines() if ln.startswith("tsscan: error:")]
    rec["crashes"] = crashed(check)
    print(f"  {package} check: {files} files, {rec['findings']} findings, {rec['check_s']} s", flush=True)

    t = time.time()
    fix = tsscan("--fix", "--diff", "--no-verify", top, cwd=root)
    rec["diff_s"] = round(time.time() - t, 1)
    rec["crashes"] += crashed(fix)
    parts = split_diff(fix.stdout)
    rec["files_fixed"] = len(parts)
    rec["diff_lines"] = sum(
        1 for ln in fix.stdout.splitlines() if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))
    )

    # apply to a copy, parse, and fix again: nothing more may change
    copy = work / "patched" / package
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    rec["diffs_not_applying"] = []
    rec["unparsable_after_fix"] = []
    for path, part in parts.items():
        p = subprocess.run(
            ["patch", "-p1", "--forward", "--silent", "--no-backup-if-mismatch", "-r", "-"],
            input=part,
            cwd=copy,
            capture_output=True,
            text=True,
        )
        if p.returncode != 0:
            rec["diffs_not_applying"].append(f"{path}: {p.stdout.strip()} {p.stderr.strip()}"[:300])
            continue
        try:
            ast.parse((copy / path).read_bytes())
        except SyntaxError as exc:
            rec["unparsable_after_fix"].append(f"{path}: {exc}")
    again = tsscan("--fix", "--diff", "--no-verify", top, cwd=copy)
    rec["crashes"] += crashed(again)
    rec["not_idempotent"] = sorted(split_diff(again.stdout))
    rec["total_s"] = round(time.time() - t0, 1)
    return rec


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", nargs="*", default=list(MODEL_PARTS))
    ap.add_argument("--work", help="keep downloads and sources here (default: a temp dir)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--limit", type=int, default=0, help="at most N files per package (an even sample)")
    args = ap.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="tsscan-sweep-"))
    records = []
    for package in args.packages:
        rec = sweep_package(package, work, args.limit)
        records.append(rec)
        print(
            f"{rec['package']}: {rec['files']} files, {rec['findings']} findings in "
            f"{rec['files_with_findings']} files, {len(rec['input_errors'])} input errors, "
            f"{rec['files_fixed']} files with fixes ({rec['diff_lines']} diff lines), "
            f"crashes={len(rec['crashes'])}, diffs not applying={len(rec['diffs_not_applying'])}, "
            f"unparsable after fix={len(rec['unparsable_after_fix'])}, "
            f"not idempotent={len(rec['not_idempotent'])}; "
            f"check {rec['check_s']} s, diff {rec['diff_s']} s, total {rec['total_s']} s",
            flush=True,
        )
        for key in ("crashes", "input_errors", "diffs_not_applying", "unparsable_after_fix", "not_idempotent"):
            for item in rec[key][:10]:
                print(f"  {key}: {item}")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2))
    bad = sum(
        len(r["crashes"]) + len(r["diffs_not_applying"]) + len(r["unparsable_after_fix"]) + len(r["not_idempotent"])
        for r in records
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
