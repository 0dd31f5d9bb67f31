"""Confirm with the real compiler: one torch worker process per run (``verify_worker``).

tsscan itself never imports torch. For ``--fix`` (see :mod:`tsscan.fixer`) and ``--verify`` /
``tsscan explain-error`` this module starts ``python -m tsscan.verify_worker`` once, which
imports torch once and then checks file after file:

* level 1 (always): every compiled function through torch's own frontend, built from its
  source text (``torch.jit.frontend.get_jit_def`` on a parsed definition), without importing
  the user's module;
* level 2 (when the module class can be built: no-arg constructor, or a factory named in
  ``[tool.tsscan.verify] factories``): the text is imported from a temporary file placed in
  the file's package (relative imports work) and ``torch.jit.script`` compiles each module
  class and each scripted function;
* level 3 (when inputs can be made: forward arguments annotated ``torch.Tensor`` with a shape
  that runs, or ``inputs``/``shapes`` in config, or a factory returning ``(module, inputs)``):
  the eager original and the scripted new text run on the same inputs and must agree.

User code runs only in the worker, under a memory limit (``resource.setrlimit``) and a wall
clock limit per file (the parent kills the worker's process group and starts a new one). The
temporary files live in a directory the parent owns and removes, even when the worker is
killed. A worker that cannot import torch, or a torch whose ``torch.jit.script`` is gone or
raises, makes every answer "unavailable" with the reason; nothing crashes.

``[tool.tsscan.verify]`` keys::

    factories = {"models/yolo.py:Detect" = "models.yolo:make_detect"}  # callable() or callable(cls)
    inputs = {"models/yolo.py:Detect" = "([torch.randn(1, 16, 8, 8)],)"}  # expression: args tuple or list of them
    shapes = {"models/mlp.py:MLP" = [[2, 16]]}  # one shape per Tensor argument
    timeout = 120        # seconds per file
    memory-mb = 6144     # address-space limit of the worker
    python = "/path/to/venv/bin/python"  # the interpreter with torch (default: tsscan's own)
"""

from __future__ import annotations

import ast
import atexit
import fnmatch
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsscan.rule import Diagnostic, Rule
from tsscan.semantic.compiled import FileScope, analyse

DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY_MB = 6144
FACTORY_HINT = (
    'name a factory in pyproject.toml: [tool.tsscan.verify] factories = {{"{key}" = "module:function"}} '
    "(the function returns the module, or (module, [inputs]); it may take the class as its argument)"
)


class CompilerErrorCode(Rule):
    """The compiler rejects code that no rule flags (reported by `--verify`).

    What it does:
        `tsscan check --verify` and `tsscan explain-error` run the installed
        `torch.jit.script` on every module class and scripted function of a file (in a worker
        process) and map each error to a file line. An error on a line that a rule already
        reports is shown under that rule; any other error is reported as TS901.

    Why is this bad:
        The module does not script, and no static rule predicted it: either a construct tsscan
        does not know yet, or an interaction of several constructs.

    Example:
        path/model.py:42:1: TS901 compiler error not covered by a rule: ...

    Use instead:
        Read the compiler's message (shown in full with `tsscan explain-error PATH`) and
        rewrite the line. Please report the construct so a rule can cover it.

    Fix:
        `tsscan explain-error PATH --full` shows the compiler's whole message.

    Notes:
        Not a static rule: it needs torch and runs user code (in a sandboxed worker). It only
        appears with `--verify` or `tsscan explain-error`.
    """

    code = "TS901"
    name = "compiler-error"
    message = "compiler error not covered by a rule"
    fails_in = ">=1.0"
    level = "type"


COMPILER_CODES: list[type] = [CompilerErrorCode]


# --------------------------------------------------------------------------- errors
_FRAME_RE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_TOPLEVEL_RE = re.compile(r"Expected a single top-level function: (?P<path>.+?):(?P<line>\d+)")


@dataclass
class CompilerError:
    kind: str  # exception class name
    message: str  # the full text
    line: int | None  # line in the checked file (None: no location)
    other_file: str | None = None  # the first frame is in another file
    located_by: str = "message"  # "message", "traceback" or "none"

    @property
    def first_line(self) -> str:
        for ln in self.message.splitlines():
            if ln.strip():
                return ln.strip().rstrip(":").rstrip()
        return self.kind

    def short(self) -> str:
        return f"{self.kind}: {self.first_line}"


def parse_error(err: dict[str, Any] | None, path: str) -> CompilerError | None:
    """Where a compiler error is: the first ``File "...", line N`` frame of the message (the
    error site; later frames are the call stack), else a location embedded in the text, else
    the deepest traceback frame in the file."""
    if err is None:
        return None
    msg = err.get("message", "")
    real = os.path.abspath(path)
    frames = [(m.group("path"), int(m.group("line"))) for m in _FRAME_RE.finditer(msg)]
    if frames:
        for fpath, line in frames:
            if os.path.abspath(fpath) == real:
                other = None if frames[0][0] == fpath else frames[0][0]
                return CompilerError(err.get("type", "Error"), msg, line, other)
        return CompilerError(err.get("type", "Error"), msg, None, frames[0][0], "none")
    m = _TOPLEVEL_RE.search(msg)
    if m and os.path.abspath(m.group("path")) == real:
        return CompilerError(err.get("type", "Error"), msg, int(m.group("line")))
    if err.get("tb_line"):
        return CompilerError(err.get("type", "Error"), msg, int(err["tb_line"]), None, "traceback")
    return CompilerError(err.get("type", "Error"), msg, None, None, "none")


def covering(
    diagnostics: Sequence[Diagnostic],
    line: int | None,
    scope: FileScope | None = None,
    loose: bool = False,
) -> list[Diagnostic]:
    """The rule findings that explain a compiler error at ``line``: findings on that line (or
    spanning it); else type-level findings earlier in the same compiled function (the compiler
    reports the line where the effect shows, e.g. the first use of a parameter whose default
    did not type it). ``loose`` (for reporting, not for judging fixes): also type- and
    module-level findings anywhere in that function ("y is not defined in the false branch"
    is reported at the ``if``), and any finding of the function when the error names its
    ``def`` line."""
    if line is None:
        return []
    exact = [d for d in diagnostics if d.line <= line <= max(d.line, d.end_line or d.line)]
    if exact or scope is None:
        return exact
    for cf in scope.compiled:
        if cf.start_line <= line <= cf.end_line:
            inside = [d for d in diagnostics if cf.start_line <= d.line <= cf.end_line]
            if not loose:
                return [d for d in inside if d.line < line and d.code[2:3] == "2"]
            if line <= cf.node.lineno:
                return inside
            return [d for d in inside if d.code[2:3] in ("2", "3")]
    return []


def _unit_range(scope: FileScope, unit: str) -> tuple[int, int] | None:
    """Lines of a class, function or ``Class.method`` named by an error report."""
    head, _, rest = unit.partition(".")
    info = scope.module.classes.get(head)
    node: Any = None
    if info is not None:
        node = info.methods.get(rest) if rest else info.node
    else:
        node = scope.module.functions.get(unit)
    if node is None:
        return None
    start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
    return start, node.end_lineno or node.lineno


# --------------------------------------------------------------------------- the worker
class WorkerUnavailable(Exception):
    """The worker cannot answer (torch missing, timed out, killed): the message says why."""


_PREFIX = "tsscan-verify-"


def _remove_stale_dirs() -> None:
    """Temp directories of earlier runs whose tsscan was killed before it could clean up."""
    base = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith(_PREFIX)]
    except OSError:
        return
    for name in names:
        d = os.path.join(base, name)
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            continue
        if pid <= 0 or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # its tsscan still runs
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


class Worker:
    """One ``verify_worker`` process; restarted after a timeout or a crash."""

    def __init__(
        self, memory_mb: int = DEFAULT_MEMORY_MB, cwd: str | None = None, python: Sequence[str] | None = None
    ) -> None:
        self.memory_mb = memory_mb
        self.cwd = cwd
        self.python = list(python) if python else [sys.executable]
        self.proc: subprocess.Popen | None = None
        _remove_stale_dirs()
        self.tmpdir = tempfile.mkdtemp(prefix=_PREFIX)
        with open(os.path.join(self.tmpdir, "owner.pid"), "w") as f:
            f.write(str(os.getpid()))
        self.status: dict[str, Any] | None = None
        self.starts = 0
        self.import_seconds = 0.0
        self._buf = b""
        atexit.register(self.close)

    # -- process
    def _start(self) -> None:
        env = dict(os.environ)
        env.pop("PYTHONSTARTUP", None)
        worker = str(Path(__file__).resolve().parent / "verify_worker.py")
        log = open(os.path.join(self.tmpdir, f"worker{self.starts}.log"), "wb")
        try:
            if not shutil.which(self.python[0]) and not os.path.isfile(self.python[0]):
                raise WorkerUnavailable(f"python interpreter not found: {self.python[0]}")
            self.proc = subprocess.Popen(
                # run by path: the worker needs only the stdlib (and torch), not tsscan
                self.python + [worker, str(self.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=self.cwd or None,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise WorkerUnavailable(f"cannot start {self.python[0]}: {exc.strerror or exc}") from None
        finally:
            log.close()
        self.starts += 1
        self._buf = b""

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the worker's own session: it and its children
        except (ProcessLookupError, PermissionError, OSError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for f in (proc.stdin, proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass

    def _log_tail(self) -> str:
        path = os.path.join(self.tmpdir, f"worker{self.starts - 1}.log")
        try:
            with open(path, "rb") as f:
                data = f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [ln for ln in data.splitlines() if ln.strip()]
        return lines[-1].strip() if lines else ""

    def _exchange(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            tail = self._log_tail()
            self._kill()
            raise WorkerUnavailable("the verification worker exited" + (f": {tail}" if tail else "")) from None
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._kill()
                    raise WorkerUnavailable(f"timed out after {timeout:g} s (set [tool.tsscan.verify] timeout)")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    code = proc.wait()
                    tail = self._log_tail()
                    self._kill()
                    why = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
                    if code in (-signal.SIGKILL, -signal.SIGSEGV) or "MemoryError" in tail:
                        why += f" (memory limit {self.memory_mb} MiB?)"
                    raise WorkerUnavailable(f"the verification worker died ({why})" + (f": {tail}" if tail else ""))
                self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line.decode("utf-8"))

    def hello(self, timeout: float = 300.0) -> dict[str, Any]:
        """Start the worker and import torch (once); cached."""
        if self.status is None or (self.status.get("ok") and self.proc is None):
            t0 = time.monotonic()
            try:
                self.status = self._exchange({"op": "hello"}, timeout)
            except WorkerUnavailable as exc:
                self.status = {"ok": False, "reason": f"torch could not be loaded: {exc}"}
            self.import_seconds += time.monotonic() - t0
        return self.status

    def request(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        status = self.hello()
        if not status.get("ok"):
            raise WorkerUnavailable(status.get("reason", "torch is not usable"))
        answer = self._exchange(request, timeout)
        if not answer.get("ok"):
            raise WorkerUnavailable(answer.get("reason", "the worker failed"))
        return answer["result"]

    def close(self) -> None:
        if self.proc is not None:
            proc = self.proc
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._kill()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


# --------------------------------------------------------------------------- outcomes
@dataclass
class ClassOutcome:
    name: str
    built: bool
    build_error: str = ""
    script_error: CompilerError | None = None
    compare_status: str = "none"  # agree / differ / none
    compare_detail: str = ""

    @property
    def scripts(self) -> bool:
        return self.built and self.script_error is None


@dataclass
class Outcome:
    """What the compiler said about one version of one file."""

    path: str
    unavailable: str | None = None  # why nothing could be checked
    frontend: dict[str, CompilerError | None] = field(default_factory=dict)
    import_error: CompilerError | None = None
    original_import_error: CompilerError | None = None
    classes: dict[str, ClassOutcome] = field(default_factory=dict)
    scripted: dict[str, CompilerError | None] = field(default_factory=dict)
    scripted_compare: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (status, detail)
    seconds: float = 0.0
    keys: dict[str, str] = field(default_factory=dict)  # class -> config key suggestion


def _package_of(path: Path) -> tuple[str, str]:
    """(dotted package of the file or "", the directory to put on sys.path)."""
    parts: list[str] = []
    d = path.parent
    while (d / "__init__.py").is_file() and d.parent != d:
        parts.insert(0, d.name)
        d = d.parent
    return ".".join(parts), str(d)


class Verifier:
    """Confirms versions of files with the real compiler; one worker for the whole run."""

    def __init__(self, settings: Any = None, level: int = 3) -> None:
        cfg: dict[str, Any] = dict(getattr(settings, "verify", {}) or {})
        self.root = Path(getattr(settings, "root", Path.cwd()))
        self.factories: dict[str, str] = dict(cfg.get("factories", {}) or {})
        self.inputs: dict[str, Any] = dict(cfg.get("inputs", {}) or {})
        self.inputs.update({k: v for k, v in (cfg.get("shapes", {}) or {}).items() if k not in self.inputs})
        self.timeout = float(cfg.get("timeout", DEFAULT_TIMEOUT))
        self.level = level
        python = cfg.get("python")
        if isinstance(python, str):
            python = [python]
        self.worker = Worker(int(cfg.get("memory-mb", DEFAULT_MEMORY_MB)), cwd=str(self.root), python=python)
        self.checks = 0
        self.check_seconds = 0.0

    def close(self) -> None:
        self.worker.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def available(self) -> str | None:
        """None when torch works in the worker, else the reason."""
        status = self.worker.hello()
        return None if status.get("ok") else status.get("reason", "torch is not usable")

    @property
    def torch_version(self) -> str:
        return str((self.worker.status or {}).get("torch", "?"))

    def _rel(self, path: str) -> str:
        try:
            return Path(os.path.abspath(path)).relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def _per_class(self, table: dict[str, Any], path: str, classes: Sequence[str]) -> dict[str, Any]:
        rel = self._rel(path)
        out: dict[str, Any] = {}
        for key, value in table.items():
            where, _, cls = key.rpartition(":")
            if not where:
                cls, where = key, ""
            if cls in classes and (not where or where == rel or fnmatch.fnmatch(rel, where)):
                out[cls] = value
        return out

    def config_key(self, path: str, cls: str) -> str:
        return f"{self._rel(path)}:{cls}"

    def check(self, path: str, text: str, original: str | None = None, scope: FileScope | None = None) -> Outcome:
        """Run the compiler on ``text`` (the content of ``path``, maybe rewritten); with
        ``original``, also compare behaviour against it (level 3)."""
        self.worker.hello()  # torch's import is timed apart from the checks
        t0 = time.monotonic()
        out = Outcome(path)
        if scope is None:
            scope = analyse(ast.parse(text))
        lines = text.splitlines(keepends=True)
        functions = []
        for cf in scope.compiled:
            if not cf.body_compiled:
                continue
            functions.append(
                {
                    "qualname": cf.qualname,
                    "name": cf.node.name,
                    "self_name": cf.cls.name if cf.cls else None,
                    "start": cf.start_line,
                    "source": "".join(lines[cf.start_line - 1 : cf.end_line]),
                }
            )
        classes = [
            name
            for name, info in scope.module.classes.items()
            if info.is_module
            and (
                info.find_method("forward")
                or any(cf.cls is not None and cf.why == "export" and cf.cls.name == name for cf in scope.compiled)
            )
        ]
        scripted = [cf.node.name for cf in scope.compiled if cf.cls is None and cf.why == "script"] + [
            name for name, info in scope.module.classes.items() if info.is_script_class
        ]
        real = Path(os.path.abspath(path))
        package, sys_root = _package_of(real)
        stem = real.stem
        real_module = f"{package}.{stem}" if package else stem
        rel_module = self._rel(path)[:-3].replace("/", ".") if self._rel(path).endswith(".py") else real_module
        factories = self._per_class(self.factories, path, classes)
        targets = classes + scripted
        for cls, spec in list(factories.items()):
            mod, _, fn = str(spec).partition(":")
            if mod == rel_module:  # the factory lives in this very file
                factories[cls] = f"{real_module}:{fn}"
        request = {
            "op": "check",
            "path": str(real),
            "text": text,
            "original": original,
            "functions": functions,
            "classes": classes,
            "scripted": scripted,
            "tmpdir": self.worker.tmpdir,
            "package": package,
            "stem": re.sub(r"\W", "_", stem),
            "real_module": real_module,
            "sys_path": [sys_root, str(self.root)],
            "factories": factories,
            "inputs": self._per_class(self.inputs, path, targets),
            "level": self.level,
        }
        out.keys = {c: self.config_key(path, c) for c in classes}
        try:
            res = self.worker.request(request, self.timeout)
        except WorkerUnavailable as exc:
            out.unavailable = str(exc)
            self.check_seconds += time.monotonic() - t0
            return out
        out.frontend = {q: parse_error(e, path) for q, e in res["frontend"].items()}
        out.import_error = parse_error(res.get("import"), path)
        out.original_import_error = parse_error(res.get("original_import"), path)
        out.scripted = {n: parse_error(e, path) for n, e in res.get("scripted", {}).items()}
        out.scripted_compare = {
            n: (c.get("status", "none"), c.get("detail", "")) for n, c in res.get("scripted_compare", {}).items()
        }
        for name, c in res.get("classes", {}).items():
            cmp_ = c.get("compare") or {}
            out.classes[name] = ClassOutcome(
                name,
                bool(c.get("built")),
                c.get("build_error", ""),
                parse_error(c.get("script_error"), path),
                cmp_.get("status", "none"),
                cmp_.get("detail", ""),
            )
        out.seconds = time.monotonic() - t0
        self.checks += 1
        self.check_seconds += out.seconds
        return out


# --------------------------------------------------------------------------- --verify
@dataclass
class ErrorReport:
    """One compiler error of `--verify`, mapped to a line and a rule."""

    unit: str  # class or function name
    error: CompilerError
    covered_by: list[Diagnostic]
    diagnostic: Diagnostic | None  # the TS901 finding, when no rule covers it


def explain_file(verifier: Verifier, path: str, text: str, diagnostics: Sequence[Diagnostic], scope: FileScope):
    """Run the compiler on a file and map each error: (reports, notes). Notes are one-line
    statements about units that script or could not be checked."""
    outcome = verifier.check(path, text, None, scope)
    reports: list[ErrorReport] = []
    notes: list[str] = []
    if outcome.unavailable:
        return reports, [f"{path}: not verified: {outcome.unavailable}"], outcome

    def add(unit: str, err: CompilerError) -> None:
        line = err.line
        if line is None:
            node = scope.module.classes.get(unit) or scope.module.functions.get(unit)
            line = getattr(getattr(node, "node", node), "lineno", 1) if node is not None else 1
        cov = covering(diagnostics, err.line, scope, loose=True)
        if not cov and err.line is None:
            # no location in the message: a finding of the same class/function explains it
            span = _unit_range(scope, unit)
            if span:
                cov = [d for d in diagnostics if span[0] <= d.line <= span[1]]
        diag = None
        if not cov:
            diag = Diagnostic(
                path=path,
                line=line,
                col=1,
                code=CompilerErrorCode.code,
                message=f"{CompilerErrorCode.message}: {err.first_line}"
                + ("" if err.line is not None else " (no location in the message)")
                + (f" (in {err.other_file})" if err.other_file else ""),
                name=CompilerErrorCode.name,
                end_line=line,
                end_col=1,
            )
        reports.append(ErrorReport(unit, err, cov, diag))

    seen_frontend = set()
    for qual, err in outcome.frontend.items():
        if err is not None:
            seen_frontend.add((err.line, err.first_line))
            add(qual, err)
    if outcome.import_error is not None:
        if (outcome.import_error.line, outcome.import_error.first_line) not in seen_frontend:
            add("<import>", outcome.import_error)
    for name, err in outcome.scripted.items():
        if err is not None and (err.line, err.first_line) not in seen_frontend:
            add(name, err)
        elif err is None:
            notes.append(f"{path}: {name} scripts")
    for name, c in outcome.classes.items():
        if not c.built:
            notes.append(
                f"{path}: {name} not verified: {c.build_error}; "
                + FACTORY_HINT.format(key=outcome.keys.get(name, name))
            )
        elif c.script_error is not None:
            if (c.script_error.line, c.script_error.first_line) not in seen_frontend:
                add(name, c.script_error)
        else:
            notes.append(f"{path}: {name} scripts")
    return reports, notes, outcome


def add_compiler_findings(summary: Any, paths: Sequence[str], settings: Any, engine: Any) -> None:
    """``tsscan check --verify``: TS901 findings for compiler errors no rule covers."""
    from tsscan.engine import InputError, noqa_suppresses
    from tsscan.files import FileError, iter_files, read_source
    from tsscan.rule import code_selected

    if not code_selected(CompilerErrorCode.code, engine.select, engine.ignore):
        return
    every_rule = type(engine)(engine.all_rules, engine.target_version)
    with Verifier(settings, level=2) as verifier:
        reason = verifier.available()
        if reason:
            summary.fix_notes.append(f"--verify: nothing was compiled: {reason}")
            return
        for path, problem in iter_files(paths, settings.exclude, settings.root):
            if problem:
                continue
            try:
                source = read_source(path)
                extra = settings.ignores_for(path)
                result = engine.check(path, source.text, extra)
            except (FileError, InputError):
                continue
            if result.scope is None or result.scope.empty:
                continue
            if not code_selected(CompilerErrorCode.code, engine.select, engine.ignore + list(extra)):
                continue
            # "covered" means some rule reports the line, whether selected or not
            known = every_rule.check(path, source.text).diagnostics
            reports, notes, _ = explain_file(verifier, path, source.text, known, result.scope)
            lines = source.text.splitlines()
            for rep in reports:
                d = rep.diagnostic
                if d is None:
                    continue
                if noqa_suppresses(lines[d.line - 1] if 0 < d.line <= len(lines) else "", d.code):
                    continue
                summary.diagnostics.append(d)
            summary.fix_notes.extend(n for n in notes if "not verified" in n)
    summary.diagnostics.sort(key=Diagnostic.sort_key)


def cmd_explain_error(argv: list[str], out: Any, err: Any) -> int:
    """``tsscan explain-error PATH...``: the compiler's own errors, each mapped to a line and
    to the rule that covers it (or TS901). Exit 0 when everything scripts, 1 when the compiler
    rejects something, 2 when nothing could be compiled."""
    import argparse
    import textwrap

    from tsscan.config import ConfigError, load_settings, target_version
    from tsscan.engine import Engine, InputError
    from tsscan.files import FileError, iter_files, read_source
    from tsscan.registry import load_rules
    from tsscan.rule import RuleLoadError

    p = argparse.ArgumentParser(
        prog="tsscan explain-error",
        description="Run torch.jit.script on each module of the files (in a worker process) and map each error to its line and rule.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--config")
    p.add_argument("--full", action="store_true", help="print the compiler's whole message")
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    try:
        settings = load_settings(args.paths, args.config)
        engine = Engine(load_rules(settings.rule_dirs), target_version(settings))
    except (ConfigError, RuleLoadError) as exc:
        err.write(f"tsscan: error: {exc}\n")
        return 2
    failed = False
    with Verifier(settings, level=2) as verifier:
        reason = verifier.available()
        if reason:
            err.write(f"tsscan: error: cannot run the compiler: {reason}\n")
            return 2
        for path, problem in iter_files(args.paths, settings.exclude, settings.root):
            if problem:
                err.write(f"tsscan: error: {path}: {problem}\n")
                continue
            try:
                source = read_source(path)
                result = engine.check(path, source.text, settings.ignores_for(path))
            except (FileError, InputError) as exc:
                err.write(f"tsscan: error: {path}: {exc}\n")
                continue
            if result.scope is None or result.scope.empty:
                out.write(f"{path}: nothing TorchScript compiles\n")
                continue
            reports, notes, outcome = explain_file(verifier, path, source.text, result.diagnostics, result.scope)
            for rep in reports:
                failed = True
                line = rep.error.line if rep.error.line is not None else "?"
                out.write(f"{path}:{line}: {rep.unit}: {rep.error.short()}\n")
                if rep.covered_by:
                    for d in rep.covered_by:
                        out.write(f"    covered by {d.code} ({d.name}) at {d.line}:{d.col}: {d.message}\n")
                else:
                    out.write(f"    {CompilerErrorCode.code} {CompilerErrorCode.message}\n")
                if rep.error.line is None:
                    out.write("    (the message names no line of this file)\n")
                if args.full:
                    out.write(textwrap.indent(rep.error.message.strip("\n"), "    | ") + "\n")
            for n in notes:
                out.write(n + "\n")
    return 1 if failed else 0
