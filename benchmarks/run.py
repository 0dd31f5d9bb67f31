"""How fast tsscan is on a real model zoo: ``python benchmarks/run.py`` (one command).

Fetches timm's source (``pip download --no-deps timm==1.0.31``, unpacked into
``benchmarks/_work/``, which git ignores) and measures, in one run on this machine:

* the floors: stdlib ``ast.parse`` and ``libcst.parse_module`` over the same files;
* ``tsscan check``: cold (``--no-cache``; one process and all cores), warm (nothing changed,
  answered from ``.tsscan_cache/``), one small file as pre-commit or an editor runs it;
* flake8 (pycodestyle + pyflakes) with and without the tsscan plugin, on one file and on timm's
  ``models/``; with the plugin both with an empty cache and with the cache filled by a first run;
* the language server (``tsscan server``, spoken to over JSON-RPC by ``tests/lsp_client.py``):
  the time from ``didChange`` to ``publishDiagnostics`` on a 300-line and a 3,000-line model file
  once it is warm (median of several changes), and its memory with all of timm open;
* peak RSS of a cold run; time against corpus size (timm x1, x2, x4 by copying);
* where the time of a cold check goes (engine steps and each rule, one process).

Each timing is the best of several runs (other work on the machine only ever adds time).
Commands are run as a user runs them: the ``tsscan``/``flake8`` console scripts next to this
Python, interpreter start included. What is measured is a snapshot of this checkout's
``tsscan/`` and ``rules/`` taken when the run starts (``benchmarks/_work/snapshot``, first on
``PYTHONPATH``), so that edits made meanwhile do not change it halfway. The table is printed and written into
``docs/performance.md`` between the ``figures`` markers (the prose around them is kept).

Not part of the test suite: it takes minutes and its figures depend on the machine.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import datetime
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
TIMM = "1.0.31"
CORPUS = WORK / f"timm-{TIMM}"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- figures:begin (benchmarks/run.py) -->", "<!-- figures:end -->"
# small files as a pre-commit hook or an editor gets them
SMALL_COMPILED = "timm/layers/grn.py"  # an nn.Module: libcst and the rules run
SMALL_PLAIN = "timm/utils/metrics.py"  # nothing TorchScript compiles
EDITED = "timm/models/resnet.py"  # a model file whose compiled code calls into timm/layers/

GOALS = {
    "cold": 5.0,  # x the ast.parse floor
    "warm": 0.3,  # s
    "single": 0.15,  # s, interpreter start included
    "flake8": 0.5,  # added fraction
    "server_rss": 200.0,  # MB, all of timm open
}
# the language server: (file, goal in s from didChange to publishDiagnostics, once warm)
SERVER_FILES = (
    ("timm/layers/attention.py", 0.05),  # 311 lines, 4 compiled functions (128 lines)
    ("timm/models/efficientnet.py", 0.2),  # 3,005 lines, 4 compiled functions (49 lines)
    ("timm/models/maxxvit.py", 0.2),  # 2,887 lines, 27 compiled functions (274 lines)
)
SERVER_CHANGES = 15  # changes timed per file
# flake8 with and without the plugin on: (target, label)
FLAKE8_TARGETS = ((SMALL_COMPILED, "one file"), ("timm/models", "timm/models/"))

BIN = Path(sys.executable).parent


def script(name: str) -> list[str]:
    exe = BIN / name
    return [str(exe)] if exe.exists() else [sys.executable, "-m", name]


SNAPSHOT = WORK / "snapshot"
ENV = dict(os.environ, TSSCAN_NO_PROGRESS="1")


def snapshot() -> None:
    """Copy tsscan/ (the built-in rules included) as it is now; every command below runs that copy."""
    if SNAPSHOT.exists():
        shutil.rmtree(SNAPSHOT)
    for name in ("tsscan",):  # (the built-in rules are tsscan/rules/)
        shutil.copytree(ROOT / name, SNAPSHOT / name, ignore=shutil.ignore_patterns("__pycache__"))
    # bytecode, as pip writes it when it installs tsscan: without it (PYTHONDONTWRITEBYTECODE set,
    # or a read-only snapshot) every command would compile tsscan's modules again, about 0.3 s CPU
    compileall.compile_dir(SNAPSHOT / "tsscan", quiet=1)
    ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SNAPSHOT), os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(SNAPSHOT))


# --------------------------------------------------------------------------- corpus
def fetch() -> Path:
    """timm's source under benchmarks/_work/timm-<version>/timm (downloaded once)."""
    target = CORPUS / "timm"
    if not target.is_dir():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", f"timm=={TIMM}", "-d", str(WORK)],
            check=True,
        )
        (wheel,) = WORK.glob(f"timm-{TIMM}-*.whl")
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                if name.startswith("timm/"):
                    zf.extract(name, CORPUS)
    # the corpus is its own project: no [tool.tsscan] from this repository, cache in _work/
    (WORK / "pyproject.toml").write_text("[tool.tsscan]\n")
    return CORPUS


def copies(n: int) -> Path:
    """timm n times over (real copies: tsscan checks a file reached twice only once)."""
    root = WORK / f"x{n}"
    for i in range(n):
        dst = root / str(i) / "timm"
        if not dst.is_dir():
            shutil.copytree(CORPUS / "timm", dst)
    return root


def py_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


# --------------------------------------------------------------------------- timing
def best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


# CPU seconds (user + system, the command and its worker processes) of each timed command run,
# by its wall time: the CPU of the best run is shown next to it (load changes it much less)
CPU: dict[float, float] = {}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def wall(cmd: Sequence[str], cwd: Path, ok=(0, 1)) -> float:
    cpu = _children_cpu()
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t
    CPU[elapsed] = _children_cpu() - cpu
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return elapsed


def peak_rss_mb(cmd: Sequence[str], cwd: Path) -> float:
    """The largest resident set of any one process of ``cmd`` (the main one or a worker)."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], cwd=cwd, env=ENV, capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[-1]) / 1024


def parse_floor(texts: Sequence[str], parse: Callable[[str], object], repeat: int) -> float:
    def once() -> float:
        t = time.perf_counter()
        for text in texts:
            parse(text)
        return time.perf_counter() - t

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return best(once, repeat)


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


# --------------------------------------------------------------------------- where the time goes
def profile(files: Sequence[Path]) -> tuple[dict[str, float], dict[str, float]]:
    """One serial pass, timing the engine's steps and each rule's hooks (one process)."""
    import tsscan.engine as engine_mod
    import tsscan.runner.one_file as runner_mod
    from tsscan.runner import EngineSpec, check_file

    spec = EngineSpec((), _target())
    engine = spec.engine()
    steps: dict[str, float] = {}
    rules: dict[str, float] = {}

    def timed(name: str, fn, bucket: dict[str, float]):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                bucket[name] = bucket.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    for cls in engine.all_rules:
        for name in (*engine_mod._hook_names(cls), "on_function"):
            fn = getattr(cls, name, None)
            if fn is not None and callable(fn):
                setattr(cls, name, timed(cls.code, fn, rules))
    runner_mod.analyse = timed("ast scope analysis (tsscan.semantic.compiled)", runner_mod.analyse, steps)
    engine_mod.Engine._snippet_module = timed("libcst parse of compiled code", engine_mod.Engine._snippet_module, steps)
    engine_mod.visit_batched = timed("batched rule walk (rules included)", engine_mod.visit_batched, steps)
    engine_mod.Engine._diagnose = timed("positions and noqa, for reports", engine_mod.Engine._diagnose, steps)
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in files]
    t = time.perf_counter()
    for path, text in texts:
        check_file(spec, path, text)
    steps["total"] = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, text in texts:
            ast.parse(text)
    steps["ast.parse"] = time.perf_counter() - t
    return steps, rules


def prefilter_coverage(files: Sequence[Path]) -> dict[str, object] | None:
    """What the rules' pre-filters (tsscan/prefilter.py) keep from libcst on the corpus: compiled
    functions, those no selected rule may report in (never parsed by libcst), files that need no
    libcst, candidate rules per function, and the rules that are candidates most often. None for
    a tsscan without pre-filters (``--tree`` of an older commit)."""
    try:
        from tsscan.candidates import candidates, selected, wanted_init_functions
        from tsscan.registry import rule_infos
    except ImportError:
        return None
    from tsscan.files import split_lines
    from tsscan.semantic.compiled import analyse

    infos = selected(rule_infos(), _target(), ("TS",), ())
    functions = skipped = files_compiled = files_free = total = 0
    per_rule: dict[str, int] = {}
    for p in files:
        text = p.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scope = analyse(ast.parse(text))
        fns = [*scope.compiled, *wanted_init_functions(scope, infos)]
        if not fns:
            continue
        files_compiled += 1
        lines = split_lines(text)
        free = True
        for cf in fns:
            found = candidates(cf, scope.module, infos, lines)
            free = free and not found
            if cf in scope.compiled:
                functions += 1
                skipped += not found
                total += len(found)
                for i in found:
                    per_rule[i.code] = per_rule.get(i.code, 0) + 1
        files_free += free
    always = sum(1 for i in infos if i.needs is None)
    return {
        "functions": functions,
        "skipped": skipped,
        "files": files_compiled,
        "files_free": files_free,
        "rules": len(infos),
        "always": always,
        "per_function": total / functions if functions else 0.0,
        "top": sorted(per_rule.items(), key=lambda kv: -kv[1])[:10],
    }


def _target() -> str:
    from tsscan.config import DEFAULT_TARGET, installed_torch_version

    return installed_torch_version() or DEFAULT_TARGET


# --------------------------------------------------------------------------- flake8
def flake8_plugin_present() -> bool:
    from importlib.metadata import entry_points

    eps = entry_points(group="flake8.extension")
    return any(ep.value.startswith("tsscan.") for ep in eps) and (ROOT / "tsscan" / "flake8.py").exists()


# flake8 with the tsscan plugin left out (flake8 skips what it lists as banned)
FLAKE8_WITHOUT = (
    "import sys, flake8.plugins.finder as f; f.BANNED_PLUGINS['tsscan'] = '0'; "
    "from flake8.main.cli import main; sys.exit(main())"
)


def clear_cache() -> None:
    """Empty the corpus project's ``.tsscan_cache/`` (the CLI's and the flake8 plugin's)."""
    shutil.rmtree(WORK / ".tsscan_cache", ignore_errors=True)


def flake8_figures(corpus: Path, rep: int, rep_small: int, row) -> dict[str, tuple[float, float, float]]:
    """Per target: flake8 without the plugin, with it and an empty cache, with it and the cache
    filled by the run before."""
    flake8 = script("flake8")
    out: dict[str, tuple[float, float, float]] = {}
    for target, label in FLAKE8_TARGETS:
        one = target.endswith(".py")
        r = rep_small if one else rep
        args = ["--exit-zero", target]
        with_plugin = [*flake8, "--extend-select", "TS", *args]
        without = best(lambda args=args: wall([sys.executable, "-c", FLAKE8_WITHOUT, *args], corpus), r)
        row(f"flake8 {target} (pycodestyle + pyflakes{'' if one else ', all cores'})", without)

        def cold(cmd=with_plugin) -> float:
            clear_cache()
            return wall(cmd, corpus)

        empty = best(cold, r)
        row(f"flake8 --extend-select TS {target}: plugin, cache empty", empty, f"{(empty / without - 1) * 100:+.0f}%")
        wall(with_plugin, corpus)
        cached = best(lambda cmd=with_plugin: wall(cmd, corpus), r)
        row(f"flake8 --extend-select TS {target}: plugin, cached", cached, f"{(cached / without - 1) * 100:+.0f}%")
        out[label] = (without, empty, cached)
    return out


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a running process now and at its peak (Linux /proc), MB."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            name, _, value = line.partition(":")
            fields[name] = value.split()
    return int(fields["VmRSS"][0]) / 1024, int(fields["VmHWM"][0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def edit_in_compiled_code(text: str) -> Callable[[int], str]:
    """Edits as a user types them in compiled code: a statement ``zz_edit = i`` added before the
    first statement of the file's biggest compiled function (so that function is checked again)."""
    from tsscan.semantic.compiled import analyse

    scope = analyse(ast.parse(text))
    cf = max(scope.compiled, key=lambda c: (c.end_line - c.start_line, -c.start_line))
    first = cf.node.body[0]
    lines = text.splitlines(keepends=True)
    at = first.lineno - 1
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    return lambda i: "".join([*lines[:at], f"{indent}zz_edit = {i}\n", *lines[at:]])


# edits timed on each file of SERVER_FILES: (label, how the text changes); the first is the one
# the goal is judged on (typing in compiled code re-checks the function typed in)
SERVER_EDITS = (
    ("a statement added in its biggest compiled function", edit_in_compiled_code),
    ("a comment line added at the end", lambda text: lambda i: text.rstrip("\n") + f"\n# edit {i}\n"),
)


def server_figures(corpus: Path, files: Sequence[Path], changes: int, row):
    """The language server, warm: per file in :data:`SERVER_FILES` and edit of
    :data:`SERVER_EDITS`, the seconds from sending ``didChange`` to receiving its
    ``publishDiagnostics`` (median, max), and from ``didSave`` (a full check) to its diagnostics;
    then every file of ``files`` opened, and the server's resident memory (now, peak) in MB.
    Returns (per file: lines, median, max, diagnostics, CPU per change, for the first edit), RSS, peak."""
    sys.path.insert(0, str(ROOT / "tests"))
    from lsp_client import Client

    client = Client(corpus, [sys.executable, "-m", "tsscan", "server"], env=ENV)
    latency: dict[str, tuple[int, float, float, int, float]] = {}
    version = 1
    try:
        client.initialize(corpus)
        for rel, _ in SERVER_FILES:
            path = corpus / rel
            text = path.read_text(encoding="utf-8")
            n = text.count("\n")
            uri = client.open(path, text)
            client.diagnostics(uri, 1, timeout=600)  # the first check loads the rules: not timed
            for label, make in SERVER_EDITS:
                edit = make(text)
                times = []
                diagnostics = 0
                cpu = cpu_seconds(client.proc.pid)
                for i in range(changes):
                    version += 1
                    sent = client.change(uri, edit(i), version)
                    at, params = client.wait_timed(
                        "textDocument/publishDiagnostics",
                        lambda p, uri=uri, version=version: p["uri"] == uri and p.get("version") == version,
                        600,
                    )
                    times.append(at - sent)
                    diagnostics = len(params["diagnostics"])
                cpu = (cpu_seconds(client.proc.pid) - cpu) / changes
                figures = (n, statistics.median(times), max(times), diagnostics, cpu)
                latency.setdefault(rel, figures)
                row(
                    f"tsscan server: didChange to publishDiagnostics, {rel} ({n} lines), {label}",
                    figures[1],
                    f"median of {changes} changes, max {figures[2]:.3f} s; server CPU {cpu:.3f} s per change; "
                    f"{diagnostics} diagnostics",
                )
            # a full check of the file (what follows a quick one when the editor is left alone)
            times = []
            cpu = cpu_seconds(client.proc.pid)
            for _ in range(changes):
                sent = client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
                at, _ = client.wait_timed(
                    "textDocument/publishDiagnostics",
                    lambda p, uri=uri, version=version: p["uri"] == uri and p.get("version") == version,
                    600,
                )
                times.append(at - sent)
            cpu = (cpu_seconds(client.proc.pid) - cpu) / changes
            row(
                f"tsscan server: didSave (full check) to publishDiagnostics, {rel} ({n} lines)",
                statistics.median(times),
                f"median of {changes}, max {max(times):.3f} s; server CPU {cpu:.3f} s per check",
            )
        for path in files:  # all of timm open at once
            uri = client.open(path, path.read_text(encoding="utf-8"))
            client.diagnostics(uri, 1, timeout=600)
        rss, peak = rss_mb(client.proc.pid)
        client.stop()
    finally:
        client.kill()
    return latency, rss, peak


# --------------------------------------------------------------------------- the run
def versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for dist in ("tsscan", "libcst", "flake8", "pycodestyle", "pyflakes", "torch"):
        try:
            out[dist] = version(dist)
        except Exception:
            out[dist] = "-"
    try:
        out["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "tsscan", "rules"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        if dirty:
            out["commit"] += " + uncommitted changes"
    except OSError:
        out["commit"] = "?"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing of a whole corpus (best is kept)")
    ap.add_argument("--quick", action="store_true", help="one run each, no x4 corpus, no profile")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md")
    ap.add_argument(
        "--skip-scale", action="store_true", help="leave out timm x2/x4 and the profile (minutes on a loaded machine)"
    )
    ap.add_argument(
        "--server-only",
        action="store_true",
        help="only the language server's figures (latency per file and edit, its RSS with all of timm open); "
        "prints them and writes nothing",
    )
    ap.add_argument(
        "--tree",
        type=Path,
        help="measure the tsscan/ of this directory (e.g. a `git archive` of another commit) instead of this checkout's",
    )
    args = ap.parse_args(argv)
    global ROOT
    if args.tree is not None:
        ROOT = args.tree.resolve()
    if args.server_only:
        return server_only(SERVER_CHANGES if not args.quick else 3)
    rep = 1 if args.quick else args.repeat
    rep_small = 1 if args.quick else max(5, args.repeat)

    tsscan = script("tsscan")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = load()
    snapshot()
    corpus = fetch()
    files = py_files(corpus / "timm")
    texts = [p.read_text(encoding="utf-8") for p in files]
    lines = sum(t.count("\n") for t in texts)
    print(f"timm {TIMM}: {len(files)} files, {lines} lines; {os.cpu_count()} cores; load {load_before}", flush=True)

    rows: list[tuple[str, float, str]] = []  # what, seconds, note

    def row(what: str, secs: float, note: str = "") -> None:
        if secs in CPU:
            note = f"{CPU[secs]:.2f} s CPU" + (f"; {note}" if note else "")
        rows.append((what, secs, note))
        print(f"  {what:58s} {secs:8.3f}{'' if 'MB' in what else ' s'}  {note}", flush=True)

    ast_s = parse_floor(texts, ast.parse, max(rep, 3))
    row("ast.parse, every file (floor, 1 core)", ast_s)
    import libcst

    cst_s = parse_floor(texts, libcst.parse_module, rep)
    row("libcst.parse_module, every file (1 core)", cst_s, f"{cst_s / ast_s:.1f}x ast")

    row("python -c pass (interpreter start)", best(lambda: wall([sys.executable, "-c", "pass"], corpus), rep_small))
    row("python -c 'import libcst'", best(lambda: wall([sys.executable, "-c", "import libcst"], corpus), rep_small))

    cold = best(lambda: wall([*tsscan, "--no-cache", "timm"], corpus), rep)
    row("tsscan check --no-cache timm (cold, all cores)", cold, f"{cold / ast_s:.1f}x ast")
    cold1 = best(lambda: wall([*tsscan, "--no-cache", "-j", "1", "timm"], corpus), 1)
    row("tsscan check --no-cache -j 1 timm (cold, 1 process)", cold1, f"{cold1 / ast_s:.1f}x ast")
    wall([*tsscan, "timm"], corpus)  # fill the cache
    warm = best(lambda: wall([*tsscan, "timm"], corpus), rep_small)
    row("tsscan check timm (warm: nothing changed)", warm)

    singles = {}
    for label, rel in (("compiled code", SMALL_COMPILED), ("no compiled code", SMALL_PLAIN)):
        n = (corpus / rel).read_text(encoding="utf-8").count("\n")
        s = best(lambda rel=rel: wall([*tsscan, "--no-cache", rel], corpus), rep_small)
        singles[label] = s
        row(f"tsscan check --no-cache {rel} ({n} lines, {label})", s)
    wall([*tsscan, SMALL_COMPILED], corpus)
    cached_single = best(lambda: wall([*tsscan, SMALL_COMPILED], corpus), rep_small)
    row(f"tsscan check {SMALL_COMPILED} (unchanged: from the cache)", cached_single)

    # the package index: one file of timm edited and checked alone, the summaries of the files it
    # reaches (its imports, followed where compiled code calls) cached by an earlier run
    edited = corpus / EDITED
    original = edited.read_text(encoding="utf-8")
    edits = iter(range(1_000_000))

    def check_edited() -> float:
        edited.write_text(f"{original}\n# edit {next(edits)}\n", encoding="utf-8")
        return wall([*tsscan, EDITED], corpus)

    try:
        check_edited()  # the files it reaches, summarised once
        one_edited = best(check_edited, rep_small)
    finally:
        edited.write_text(original, encoding="utf-8")
    row(f"tsscan check {EDITED} after an edit (the package's other summaries cached)", one_edited)

    rss = peak_rss_mb([*tsscan, "--no-cache", "timm"], corpus)
    row("peak RSS of one process, cold run (MB)", rss)

    plugin = flake8_plugin_present()
    f8: dict[str, tuple[float, float, float]] = {}
    if plugin:
        f8 = flake8_figures(corpus, rep, rep_small, row)
    else:
        print("  flake8 with the tsscan plugin: skipped (tsscan/flake8.py or its entry point missing)")

    server = None
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        print("  tsscan server: skipped (pygls/lsprotocol not installed: pip install -e '.[lsp]')")
    else:
        changes = 3 if args.quick else SERVER_CHANGES
        server = server_figures(corpus, files, changes, row)
        _, server_rss, server_peak = server
        row(f"tsscan server RSS, all {len(files)} timm files open (MB)", server_rss, f"peak {server_peak:.0f} MB")

    scale = {1: cold}
    if not (args.quick or args.skip_scale):
        for n in (2, 4):
            root = copies(n)
            scale[n] = best(lambda root=root: wall([*tsscan, "--no-cache", "."], root), 1)
            row(
                f"tsscan check --no-cache, timm x{n} ({n * len(files)} files)",
                scale[n],
                f"{scale[n] / (n * cold):.2f} of linear",
            )

    steps: dict[str, float] = {}
    rule_times: dict[str, float] = {}
    if not (args.quick or args.skip_scale):
        steps, rule_times = profile(files)
    coverage = prefilter_coverage(files)

    load_after = load()
    info = versions()
    report = render(
        Measured(
            started=started,
            info=info,
            nfiles=len(files),
            nlines=lines,
            ast_s=ast_s,
            cst_s=cst_s,
            cold=cold,
            cold1=cold1,
            warm=warm,
            singles=singles,
            cached_single=cached_single,
            rss=rss,
            rows=rows,
            load_before=load_before,
            load_after=load_after,
            f8=f8,
            server=server,
            scale=scale,
            steps=steps,
            rule_times=rule_times,
            coverage=coverage,
        )
    )
    print()
    print(report)
    if not args.no_write:
        write_doc(report)
        print(f"written into {DOC.relative_to(ROOT)}")
    return 0


def server_only(changes: int) -> int:
    """``--server-only``: :func:`server_figures` alone, with the load average before and after."""
    snapshot()
    corpus = fetch()
    files = py_files(corpus / "timm")
    print(f"tsscan of {ROOT}; {os.cpu_count()} cores; load {load()}", flush=True)

    def row(what: str, secs: float, note: str = "") -> None:
        print(f"  {what:58s} {secs * 1000:8.1f} ms  {note}", flush=True)

    _, rss, peak = server_figures(corpus, files, changes, row)
    print(f"  tsscan server RSS, all {len(files)} timm files open: {rss:.0f} MB (peak {peak:.0f} MB)")
    print(f"load {load()}")
    return 0


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# what the language server measured: per file (lines, median s, max s, diagnostics, CPU s per
# change), its RSS and peak RSS in MB (see server_figures)
ServerFigures = tuple[dict[str, tuple[int, float, float, int, float]], float, float]


@dataclass
class Measured:
    """What one run measured, as :func:`render` writes it: seconds unless named otherwise."""

    started: datetime.datetime
    info: dict[str, str]  # versions: python, tsscan, commit, libcst, flake8, pycodestyle, pyflakes, torch
    nfiles: int  # the corpus: timm's .py files and their lines
    nlines: int
    ast_s: float  # ast.parse of every file (the floor)
    cst_s: float  # libcst.parse_module of every file
    cold: float  # tsscan check --no-cache timm, all cores
    cold1: float  # the same in one process
    warm: float  # nothing changed: all from the cache
    singles: dict[str, float]  # one small file, not cached, by label
    cached_single: float  # one small file, unchanged
    rss: float  # peak RSS of one process, cold run (MB)
    rows: list[tuple[str, float, str]]  # the table: what, seconds (or MB), note
    load_before: str  # load averages (1, 5, 15 min)
    load_after: str
    f8: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # label -> without, empty, cached
    server: ServerFigures | None = None  # None: not measured
    scale: dict[int, float] = field(default_factory=dict)  # copies of timm -> cold seconds
    steps: dict[str, float] = field(default_factory=dict)  # the profile: step -> seconds
    rule_times: dict[str, float] = field(default_factory=dict)  # rule code -> seconds in its hooks
    coverage: dict[str, object] | None = None  # what the pre-filters keep from libcst (prefilter_coverage)


def render(m: Measured) -> str:
    """The report docs/performance.md holds, from what one run measured."""
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        usable = cores
    out = [
        f"Measured {m.started:%Y-%m-%d %H:%M} UTC by `python benchmarks/run.py` on {platform.machine()}, "
        f"{cores} cores ({usable} usable), {platform.system()} {platform.release()}; load average "
        f"(1, 5, 15 min) {m.load_before} before and {m.load_after} after. Python {m.info['python']}, "
        f"tsscan {m.info['tsscan']} (commit {m.info['commit']}), libcst {m.info['libcst']}, flake8 "
        f"{m.info['flake8']} (pycodestyle {m.info['pycodestyle']}, pyflakes {m.info['pyflakes']}), "
        f"torch {m.info['torch']} installed (never imported). Corpus: timm {TIMM}, {m.nfiles} files, "
        f"{m.nlines:,} lines. Times are wall clock, best of several runs, interpreter start included "
        "for commands.",
        "",
        "| what | time | |",
        "|---|---:|---|",
    ]
    for what, secs, note in m.rows:
        unit = "" if "MB" in what else " s"
        out.append(f"| {what} | {secs:.3f}{unit} | {note} |")
    out += ["", "Goals:", ""]
    out.append(
        f"- cold check <= {GOALS['cold']:.0f}x the ast.parse floor: {m.cold / m.ast_s:.2f}x "
        f"({m.cold:.2f} s / {m.ast_s:.2f} s): **{verdict(m.cold / m.ast_s <= GOALS['cold'])}**"
    )
    out.append(f"- warm run <= {GOALS['warm']} s: {m.warm:.3f} s: **{verdict(m.warm <= GOALS['warm'])}**")
    for label, secs in m.singles.items():
        out.append(
            f"- one small file ({label}, not cached) <= {GOALS['single']} s: {secs:.3f} s: "
            f"**{verdict(secs <= GOALS['single'])}**"
        )
    out.append(
        f"- one small file, unchanged (cached) <= {GOALS['single']} s: {m.cached_single:.3f} s: "
        f"**{verdict(m.cached_single <= GOALS['single'])}**"
    )
    if m.f8:
        for label, (without, empty, cached) in m.f8.items():
            for how, secs in (("cache empty", empty), ("cached", cached)):
                added = secs / without - 1
                out.append(
                    f"- flake8 plugin adds <= {GOALS['flake8'] * 100:.0f}% to flake8, {label}, {how}: "
                    f"{added * 100:+.0f}% ({secs:.2f} s vs {without:.2f} s): **{verdict(added <= GOALS['flake8'])}**"
                )
    else:
        out.append("- flake8 plugin: not measured (the plugin is not installed)")
    if m.server is not None:
        latency, server_rss, server_peak = m.server
        goals = dict(SERVER_FILES)
        for rel, (n, med, worst, _, _) in latency.items():
            out.append(
                f"- language server, {rel} ({n} lines), didChange to diagnostics <= {goals[rel] * 1000:.0f} ms: "
                f"median {med * 1000:.0f} ms (max {worst * 1000:.0f} ms): **{verdict(med <= goals[rel])}**"
            )
        out.append(
            f"- language server memory <= {GOALS['server_rss']:.0f} MB with all of timm open: "
            f"{server_rss:.0f} MB (peak {server_peak:.0f} MB): **{verdict(server_peak <= GOALS['server_rss'])}**"
        )
    else:
        out.append("- language server: not measured (pygls/lsprotocol not installed)")
    if len(m.scale) > 1:
        worst = max(m.scale[n] / (n * m.scale[1]) for n in m.scale)
        line = (
            f"- linear in corpus size: x{max(m.scale)} takes {m.scale[max(m.scale)] / m.scale[1]:.2f}x the time "
            f"of x1 (worst {worst:.2f} of linear): **{verdict(worst <= 1.15)}**"
        )
        if all(m.scale[n] in CPU for n in m.scale):  # CPU time depends much less on the load
            cpu_worst = max(CPU[m.scale[n]] / (n * CPU[m.scale[1]]) for n in m.scale)
            line += (
                f"; in CPU time x{max(m.scale)} takes {CPU[m.scale[max(m.scale)]] / CPU[m.scale[1]]:.2f}x "
                f"(worst {cpu_worst:.2f} of linear)"
            )
        out.append(line)
    out.append(f"- one process vs all cores: {m.cold1:.2f} s vs {m.cold:.2f} s ({m.cold1 / m.cold:.2f}x)")
    c = m.coverage
    if c is not None:
        top = ", ".join(f"{code} {n}" for code, n in c["top"])  # type: ignore[attr-defined]
        out.append(
            f"- pre-filters (tsscan/prefilter.py): {c['skipped']} of timm's {c['functions']} compiled functions "
            f"are candidates for no rule and skip libcst; {c['files_free']} of the {c['files']} files with compiled "
            f"code need no libcst; {c['per_function']:.1f} of {c['rules']} selected rules are candidates per "
            f"function on average ({c['always']} rules have no pre-filter); the rules candidates most often: {top}"
        )
    if m.steps:
        total = m.steps["total"]
        out += [
            "",
            f"Where a cold check's time goes (one process, {total:.2f} s over timm; "
            f"ast.parse alone {m.steps['ast.parse']:.2f} s):",
            "",
            "| step | s | share |",
            "|---|---:|---:|",
        ]
        for name, secs in sorted(m.steps.items(), key=lambda kv: -kv[1]):
            if name in ("total", "ast.parse"):
                continue
            out.append(f"| {name} | {secs:.2f} | {secs / total * 100:.0f}% |")
        ranked = sorted(m.rule_times.items(), key=lambda kv: -kv[1])
        in_rules = sum(m.rule_times.values())
        out += [
            "",
            f"Rules: {len(m.rule_times)} ran, {in_rules:.2f} s in their hooks "
            f"({in_rules / total * 100:.0f}% of the check); the costliest:",
            "",
            "| rule | s | share |",
            "|---|---:|---:|",
        ]
        for code, secs in ranked[:12]:
            out.append(f"| {code} | {secs:.2f} | {secs / total * 100:.0f}% |")
    return "\n".join(out) + "\n"


def write_doc(report: str) -> None:
    block = f"{BEGIN}\n{report}{END}\n"
    if DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1].lstrip("\n")
            DOC.write_text(head + block + ("\n" + tail if tail else ""), encoding="utf-8")
            return
        DOC.write_text(text.rstrip("\n") + "\n\n" + block, encoding="utf-8")
        return
    DOC.write_text("# Performance\n\n" + block, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
