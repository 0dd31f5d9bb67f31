#!/usr/bin/env python
"""Score tsscan against the labelled real-world corpus (no torch needed).

    python benchmarks/realworld/score.py [--site-packages DIR] [--tsscan CMD] [--json out.json]
        [--labels benchmarks/realworld/labels] [--package NAME ...] [--jobs 2]

Reads ``labels/<package>.jsonl`` (made by ``build_corpus.py``), runs tsscan once per package over
the package's ``.py`` files that hold a labelled class or a failure frame (JSON output; tsscan
checks each file on its own, so the others change no figure) and compares:

* *site recall*: a failure site (the first frame inside the package that the compiler names;
  several classes may share one) is found when a finding other than a TS6xx warning overlaps the
  lines of the statement at that frame (for a ``def``/``class``/``if``/``for``... only its header);
  When the compiler names no frame inside the package (a decorated ``forward``), the line it
  quotes is looked up in the class's file.
* *false alarms*: a class that scripts with a finding (TS6xx aside) inside its class body.

Sites seen only in classes built with guessed arguments and whose message is about an attribute,
``None`` or the type of a value we could have passed (see ``ARG_MESSAGE``), or that call into (or
mistype a value from) the ``nn.Identity`` passed for a module argument, are *argument-caused*: reported apart, not counted. Sites found only in a Python traceback (an exception raised while the scripter ran Python
code, not a compiler error) are reported apart too. TS7xx findings ("may fail"), if the rules have
any, form their own band. Markdown goes to stdout.
"""

from __future__ import annotations

import argparse
import ast
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build_corpus import PACKAGES as IMPORT_NAMES  # noqa: E402 - pip name -> import name (imports no torch)
from build_corpus import add_extra_packages  # noqa: E402

ARG_MESSAGE = re.compile(
    r"has no attribute|nonexistent attribute|NoneType|failed to convert Python type|"
    r"Unsupported value kind|python value of type|object is not iterable|"
    r"Expected a value of type .* but instead found type '(int|float|bool|str|NoneType|List\[(int|float|str)\]|Tuple\[int, int\])'|"
    r"is not subscriptable|"
    r"cannot be used as a value|Unknown type constructor|is not a tuple|Tensor cannot be used as a tuple",
    re.I,
)

# a type mismatch in a class built with an nn.Identity standing in for a module argument
TYPE_MESSAGE = re.compile(
    r"Expected a value of type|unsupported index type|cannot be used as a tuple|is not iterable|"
    r"Tried to access nonexistent attribute|has no attribute",
    re.I,
)


def default_tsscan() -> list:
    here = Path(sys.executable).parent / "tsscan"
    if here.exists():
        return [str(here)]
    return ["/work/main/.venv/bin/tsscan"]


def default_site_packages() -> str:
    found = sorted(glob.glob("/work/rwenv/lib/python3*/site-packages"))
    return found[-1] if found else ""


def load_labels(labels: Path, only):
    rows = defaultdict(dict)
    for f in sorted(labels.glob("*.jsonl")):
        pkg = f.stem
        if only and pkg not in only:
            continue
        for line in f.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                rows[pkg][(r["module"], r["qualname"])] = r  # the last row of a class wins
    return {p: list(v.values()) for p, v in rows.items()}


def files_to_check(root: Path, rows, all_files: bool):
    """tsscan checks each file on its own, so only the files a figure reads are needed: those that
    hold a labelled class or a frame of a failure (``--all-files``: every ``.py`` file)."""
    if all_files:
        return sorted(str(p) for p in root.rglob("*.py"))
    rel = {r["file"] for r in rows if r.get("file")}
    rel |= {f for r in rows for f, _ in r.get("frames") or []}
    return sorted(str(root / f) for f in rel if not os.path.isabs(f) and (root / f).is_file())


def run_tsscan(cmd, root: Path, files, target: str, jobs: int, cache: bool):
    argv = cmd + ["check", "--format", "json", "--exit-zero", "--jobs", str(jobs), "--extend-select", "TS7"]
    if target:
        argv += ["--target-version", target]
    if not cache:
        argv.append("--no-cache")
    t0 = time.time()
    diags = []
    # in chunks: the argument list of a big package is too long for one command line
    for i in range(0, len(files), 2000):
        proc = subprocess.run(argv + files[i : i + 2000], capture_output=True, text=True)
        try:
            doc = json.loads(proc.stdout)
        except ValueError:
            raise SystemExit(f"tsscan gave no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}") from None
        diags += doc["diagnostics"]
    by_file = defaultdict(list)
    for d in diags:
        rel = os.path.relpath(os.path.realpath(d["path"]), os.path.realpath(root))
        by_file[rel].append(d)
    return by_file, len(files), time.time() - t0


_STMT_CACHE = {}


def statement_lines(root: Path, rel: str, line: int):
    """Lines of the statement at ``line``: the innermost simple statement, or the header of a
    compound one (decorators to the line before its body)."""
    if rel not in _STMT_CACHE:
        spans = []
        try:
            tree = ast.parse((root / rel).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            tree = None
        for n in ast.walk(tree) if tree else ():
            if not isinstance(n, ast.stmt):
                continue
            lo = min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])])
            body = getattr(n, "body", None)
            hi = (
                max(n.lineno, body[0].lineno - 1)
                if isinstance(body, list) and body and isinstance(body[0], ast.AST)
                else n.end_lineno
            )
            if isinstance(n, (ast.If, ast.For, ast.While, ast.With, ast.Try)) and body:
                hi = max(n.lineno, body[0].lineno - 1)
            spans.append((lo, hi))
        _STMT_CACHE[rel] = spans
    best = None
    for lo, hi in _STMT_CACHE[rel]:
        if lo <= line <= hi and (best is None or hi - lo < best[1] - best[0]):
            best = (lo, hi)
    return best or (line, line)


def band(code: str) -> str:
    return "warn" if code.startswith("TS6") else "maybe" if code.startswith("TS7") else "error"


def normalise(msg: str) -> str:
    m = msg.strip()
    m = re.sub(r"__torch__\.[\w.]+", "T", m)
    m = re.sub(r"'[^']*'", "'…'", m)
    m = re.sub(r'"[^"]*"', '"…"', m)
    m = re.sub(r"<[^>]*>", "<…>", m)
    m = re.sub(r"\b0x[0-9a-f]+\b|\b\d+\b", "N", m)
    m = re.sub(r"\(.*\)", "(…)", m)
    return m.rstrip(" :")[:110]


def site_from_source(root: Path, r):
    """A failure whose frames lie outside the package (a decorated ``forward``: the compiler names
    the decorator's file) still quotes the failing line above its ``~~~ <--- HERE`` marker: find
    that line in the class's file, inside the class first, else once in the file."""
    quoted = quoted_line(r)
    if not quoted or not r.get("file") or os.path.isabs(r["file"]):
        return None
    try:
        text = (root / r["file"]).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    hits = [i + 1 for i, ln in enumerate(text) if ln.strip() == quoted]
    lo, hi = r.get("span") or (None, None)
    inside = [n for n in hits if lo and lo <= n <= hi]
    pick = inside if len(inside) == 1 else hits if len(hits) == 1 else []
    return {"file": r["file"], "line": pick[0]} if pick else None


def quoted_line(r) -> str:
    lines = (r.get("text_head") or "").split("\n")
    return next((lines[i - 1] for i in range(1, len(lines)) if "<--- HERE" in lines[i]), "").strip()


def misplaced(root: Path, r) -> bool:
    """The compiler names the file of the outermost wrapper of a decorated function (or of the
    class that defines ``__call__``) with the line number of the wrapped function's source: the
    line it quotes is then nowhere near that line of that file."""
    quoted, site = quoted_line(r), r["site"]
    if not quoted or os.path.isabs(site["file"]):
        return False
    try:
        text = (root / site["file"]).read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    near = text[max(0, site["line"] - 60) : site["line"] + 60]
    return all(ln.strip() != quoted for ln in near)


def in_own_file(root: Path, r):
    """The line the compiler names, in the class's own file: it lies in the class and the line
    quoted is there (a ``forward`` of a class whose base defines ``__call__`` is reported in the
    base's file with the subclass's line numbers)."""
    site, span, quoted = r["site"], r.get("span") or (None, None), quoted_line(r)
    if not quoted or site["file"] == r.get("file") or not span[0] or not span[0] <= site["line"] <= span[1]:
        return None
    try:
        text = (root / r["file"]).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    near = [n for n in range(site["line"] - 15, site["line"] + 16) if span[0] <= n <= span[1] and n <= len(text)]
    hits = [n for n in near if text[n - 1].strip() == quoted]
    return {"file": r["file"], "line": min(hits, key=lambda n: abs(n - site["line"]))} if hits else None


def score_package(pkg: str, rows, root: Path, by_file):
    for r in rows:
        if r["status"] != "fails":
            continue
        if not r.get("site"):
            r["site"] = site_from_source(root, r)
            if r["site"]:
                r["frames_from"] = "quoted source"
        elif misplaced(root, r) or in_own_file(root, r):
            moved = in_own_file(root, r) or site_from_source(root, r)
            if moved:
                r["compiler_site"], r["site"] = r["site"], moved
                r["frames_from"] = "quoted source"
    status = Counter(r["status"] for r in rows)
    builds = Counter(r.get("build") or "-" for r in rows if r["status"] != "unbuildable")
    sites = {}
    for r in rows:
        if r["status"] != "fails" or not r.get("site"):
            continue
        key = (r["site"]["file"], r["site"]["line"])
        s = sites.setdefault(
            key,
            {
                "file": key[0],
                "line": key[1],
                "message": r["message"],
                "classes": [],
                "builds": set(),
                "traceback": r.get("frames_from") == "traceback",
                "identity": False,
            },
        )
        # a call into the nn.Identity we passed for a module argument
        s["identity"] |= "torch.nn.modules.linear.Identity" in r.get("text_head", "") or (
            "Identity" in (r.get("build_args") or "") and bool(TYPE_MESSAGE.search(r["message"]))
        )
        s["classes"].append(r["qualname"])
        s["builds"].add(r.get("build"))
    for s in sites.values():
        lo, hi = statement_lines(root, s["file"], s["line"])
        s["statement"] = [lo, hi]
        hits = [d for d in by_file.get(s["file"], []) if d["line"] <= hi and (d.get("end_line") or d["line"]) >= lo]
        s["found_by"] = sorted({d["code"] for d in hits if band(d["code"]) == "error"})
        s["maybe_by"] = sorted({d["code"] for d in hits if band(d["code"]) == "maybe"})
        s["kind"] = (
            "traceback"
            if s["traceback"]
            else "argument"
            if s["builds"] == {"derived"} and (ARG_MESSAGE.search(s["message"]) or s["identity"])
            else "counted"
        )
        s["builds"] = sorted(b or "-" for b in s["builds"])
    fa_classes, fa_findings, fa_maybe = [], 0, 0
    for r in rows:
        if r["status"] != "scripts" or not r.get("file") or not r.get("span") or r["span"][0] is None:
            continue
        lo, hi = r["span"]
        inside = [d for d in by_file.get(r["file"], []) if lo <= d["line"] <= hi]
        errs = [d for d in inside if band(d["code"]) == "error"]
        fa_maybe += sum(1 for d in inside if band(d["code"]) == "maybe")
        if errs:
            fa_classes.append(
                {
                    "class": f"{r['module']}.{r['qualname']}",
                    "has_forward": r.get("has_forward"),
                    "findings": [f"{r['file']}:{d['line']} {d['code']}" for d in errs],
                }
            )
            fa_findings += len(errs)
    counted = [s for s in sites.values() if s["kind"] == "counted"]
    found = [s for s in counted if s["found_by"]]
    arg = [s for s in sites.values() if s["kind"] == "argument"]
    tb = [s for s in sites.values() if s["kind"] == "traceback"]
    return {
        "package": pkg,
        "version": rows[0].get("version") if rows else None,
        "classes": len(rows),
        "status": dict(status),
        "built": dict(builds),
        "fails_without_site": sum(1 for r in rows if r["status"] == "fails" and not r.get("site")),
        "sites": len(counted),
        "sites_found": len(found),
        "sites_maybe_only": sum(1 for s in counted if not s["found_by"] and s["maybe_by"]),
        "argument_sites": len(arg),
        "argument_sites_found": sum(1 for s in arg if s["found_by"]),
        "traceback_sites": len(tb),
        "traceback_sites_found": sum(1 for s in tb if s["found_by"]),
        "scripting_classes": status.get("scripts", 0),
        "false_alarm_classes": len(fa_classes),
        "false_alarm_findings": fa_findings,
        "maybe_findings_in_scripting_classes": fa_maybe,
        "false_alarms": fa_classes,
        "site_list": sorted(sites.values(), key=lambda s: (s["file"], s["line"])),
    }


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "—"


def markdown(results, meta) -> str:
    out = [
        f"tsscan `{' '.join(meta['tsscan'])}` ({meta['tsscan_version']}), target {meta['target'] or 'default'}; "
        f"labels from `{meta['labels']}`; tsscan time {meta['seconds']:.0f} s.",
        "",
    ]
    out += [
        "| package | version | classes | built: defaults / derived | unbuildable | timeout+crashed | scripts | fails (no site in package) "
        "| sites | found | recall | arg-caused sites (found) | traceback sites (found) | false-alarm classes (findings) | FA % of scripting |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    tot = Counter()
    keys = [
        "classes",
        "sites",
        "sites_found",
        "argument_sites",
        "argument_sites_found",
        "traceback_sites",
        "traceback_sites_found",
        "scripting_classes",
        "false_alarm_classes",
        "false_alarm_findings",
        "fails_without_site",
        "sites_maybe_only",
        "maybe_findings_in_scripting_classes",
    ]
    for r in results:
        st = Counter(r["status"])
        tot.update({k: r[k] for k in keys})
        tot.update({f"s_{k}": v for k, v in st.items()})
        tot.update({f"b_{k}": v for k, v in r["built"].items()})
        out.append(
            f"| {r['package']} | {r['version']} | {r['classes']} | {r['built'].get('defaults', 0)} / {r['built'].get('derived', 0)} "
            f"| {st.get('unbuildable', 0)} | {st.get('timeout', 0) + st.get('crashed', 0)} | {st.get('scripts', 0)} "
            f"| {st.get('fails', 0)} ({r['fails_without_site']}) | {r['sites']} | {r['sites_found']} | {pct(r['sites_found'], r['sites'])} "
            f"| {r['argument_sites']} ({r['argument_sites_found']}) | {r['traceback_sites']} ({r['traceback_sites_found']}) "
            f"| {r['false_alarm_classes']} ({r['false_alarm_findings']}) | {pct(r['false_alarm_classes'], r['scripting_classes'])} |"
        )
    out.append(
        f"| **total** | | {tot['classes']} | {tot['b_defaults']} / {tot['b_derived']} | {tot['s_unbuildable']} "
        f"| {tot['s_timeout'] + tot['s_crashed']} | {tot['s_scripts']} | {tot['s_fails']} ({tot['fails_without_site']}) "
        f"| {tot['sites']} | {tot['sites_found']} | **{pct(tot['sites_found'], tot['sites'])}** "
        f"| {tot['argument_sites']} ({tot['argument_sites_found']}) | {tot['traceback_sites']} ({tot['traceback_sites_found']}) "
        f"| {tot['false_alarm_classes']} ({tot['false_alarm_findings']}) | **{pct(tot['false_alarm_classes'], tot['scripting_classes'])}** |"
    )
    if tot["sites_maybe_only"] or tot["maybe_findings_in_scripting_classes"]:
        out += [
            "",
            f"TS7xx band: {tot['sites_maybe_only']} more sites have only a TS7xx finding; "
            f"{tot['maybe_findings_in_scripting_classes']} TS7xx findings lie in classes that script.",
        ]
    groups = defaultdict(list)
    for r in results:
        for s in r["site_list"]:
            if s["kind"] == "counted" and not s["found_by"]:
                groups[normalise(s["message"])].append(f"{r['package']}:{s['file']}:{s['line']}")
    out += [
        "",
        f"Missed sites grouped by compiler message (top 30 of {len(groups)} groups, {sum(map(len, groups.values()))} sites):",
        "",
        "| sites | message (normalised) | example |",
        "|---:|---|---|",
    ]
    for msg, where in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:30]:
        out.append(f"| {len(where)} | `{msg.replace('|', '/')}` | {where[0]} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default=str(HERE / "labels"))
    ap.add_argument(
        "--site-packages",
        default=default_site_packages(),
        help="where the labelled packages are installed (default: /work/rwenv's)",
    )
    ap.add_argument(
        "--tsscan",
        default=None,
        help="tsscan command (default: tsscan next to this Python, else /work/main/.venv/bin/tsscan)",
    )
    ap.add_argument("--target-version", default="2.14", help="torch version the labels were made with")
    ap.add_argument("--package", action="append", help="only these packages (pip names)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--all-files", action="store_true", help="check every .py file of each package (same figures, slower)"
    )
    ap.add_argument("--cache", action="store_true", help="let tsscan use its cache")
    ap.add_argument("--json", help="write every figure, site and false alarm here")
    ap.add_argument(
        "--extra", action="append", default=[], metavar="PIP=IMPORT", help="a package outside the ten (held-out checks)"
    )
    args = ap.parse_args()
    add_extra_packages(args.extra)
    cmd = shlex.split(args.tsscan) if args.tsscan else default_tsscan()
    ver = subprocess.run(cmd + ["--version"], capture_output=True, text=True).stdout.strip()
    labels = load_labels(Path(args.labels), args.package)
    results, seconds = [], 0.0
    for pkg in IMPORT_NAMES:
        if pkg not in labels:
            continue
        root = Path(args.site_packages) / IMPORT_NAMES[pkg]
        if not root.is_dir():
            raise SystemExit(f"{root} not found: pass --site-packages")
        files = files_to_check(root, labels[pkg], args.all_files)
        by_file, nfiles, sec = run_tsscan(cmd, root, files, args.target_version, args.jobs, args.cache)
        seconds += sec
        print(f"{pkg}: tsscan checked {nfiles} files in {sec:.0f} s", file=sys.stderr, flush=True)
        res = score_package(pkg, labels[pkg], root, by_file)
        res.update(files_checked=nfiles, tsscan_seconds=round(sec, 1), findings=sum(len(v) for v in by_file.values()))
        results.append(res)
    meta = {
        "tsscan": cmd,
        "tsscan_version": ver,
        "target": args.target_version,
        "labels": args.labels,
        "seconds": seconds,
    }
    print(markdown(results, meta))
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "packages": results}, indent=1, default=sorted))


if __name__ == "__main__":
    main()
