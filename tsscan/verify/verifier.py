"""Confirm with the real compiler: one torch worker process per run (:mod:`tsscan.verify.torch_worker`).

tsscan itself never imports torch. For ``--fix`` (see :mod:`tsscan.fix`) and ``--verify`` /
``tsscan explain-error`` this module starts the worker (:mod:`tsscan.verify.process`) once, which
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
import fnmatch
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsscan.semantic.compiled import FROM_ANOTHER_FILE, FileScope, analyse
from tsscan.verify.errors import CompilerError, parse_error
from tsscan.verify.process import DEFAULT_MEMORY_MB, Worker, WorkerUnavailable

DEFAULT_TIMEOUT = 120.0
FACTORY_HINT = (
    'name a factory in pyproject.toml: [tool.tsscan.verify] factories = {{"{key}" = "module:function"}} '
    "(the function returns the module, or (module, [inputs]); it may take the class as its argument)"
)


@dataclass
class ClassOutcome:
    name: str
    built: bool
    build_error: str = ""
    script_error: CompilerError | None = None
    compare_status: str = "none"  # agree / differ / none
    compare_detail: str = ""  # the inputs used, or why there were none
    built_by: str = ""  # "defaults", "factory module:function" or "derived set A: dim=32, ..."

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


_OWN_FUNCTION = ("script", FROM_ANOTHER_FILE)


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
        # a free function compiled only from another file is compiled as a function of its own
        # (its parameters are typed by its annotations whoever calls it): script it so
        scripted = [cf.node.name for cf in scope.compiled if cf.cls is None and cf.why in _OWN_FUNCTION] + [
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
                c.get("built_by", ""),
            )
        out.seconds = time.monotonic() - t0
        self.checks += 1
        self.check_seconds += out.seconds
        return out
