"""The flake8 plugin: ``flake8 --select TS`` reports what ``tsscan check`` reports.

A thin adapter over :class:`tsscan.engine.Engine`; like the rest of tsscan it never imports torch.
flake8 owns selection and suppression here: ``--select``, ``--extend-ignore``,
``--per-file-ignores`` and ``# noqa`` all work on ``TS`` codes (the plugin runs every rule and
lets flake8 filter). Fixes are not applied from flake8; use ``tsscan --fix``.

Options (command line or the ``[flake8]`` section of ``setup.cfg``/``tox.ini``/``.flake8``)::

    [flake8]
    tsscan-target-version = 2.13
    tsscan-rule-dirs = tools/tsscan_rules

Without them, ``target-version`` and ``rule-dirs`` from ``[tool.tsscan]`` in the nearest
``pyproject.toml`` apply, as for ``tsscan check``; then the installed torch's version.

A file tsscan cannot check (a compiled function libcst cannot parse, a failing rule, rules or
``[tool.tsscan]`` that cannot be loaded) is reported as ``TS000`` on line 1 rather than silently
passing; ignore that code to hide it. flake8 itself reports files
Python cannot parse (``E999``) and then runs no plugin on them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import Any

from tsscan import __version__

# one engine per (target version, rule directories) per process: rules are loaded once
_ENGINES: dict[tuple[str, tuple[str, ...]], Any] = {}
# [tool.tsscan] defaults per directory (one pyproject.toml read per directory, not per file):
# (target version, rule directories, configuration problem or "")
_SETTINGS: dict[str, tuple[str, list[str], str]] = {}

ERROR_CODE = "TS000"


def _engine(target: str, rule_dirs: Sequence[str]):
    key = (target, tuple(rule_dirs))
    engine = _ENGINES.get(key)
    if engine is None:
        from pathlib import Path

        from tsscan.engine import Engine
        from tsscan.registry import load_rules

        rules = load_rules([Path(d) for d in rule_dirs])
        engine = _ENGINES[key] = Engine(rules, target)
    return engine


class Plugin:
    name = "tsscan"
    version = __version__

    # set by parse_options (flake8 calls it once per process, before any file is checked)
    target_version: str | None = None
    rule_dirs: list[str] = []

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        # flake8's own parse of the file: the engine's scope analysis starts from it
        self.tree = tree
        self.filename = filename
        self.lines = lines

    # ------------------------------------------------------------------ options
    @classmethod
    def add_options(cls, manager: Any) -> None:
        manager.add_option(
            "--tsscan-target-version",
            parse_from_config=True,
            default=None,
            help="torch version tsscan checks against (default: [tool.tsscan] "
            "target-version, else the installed torch, else the newest known)",
        )
        manager.add_option(
            "--tsscan-rule-dirs",
            parse_from_config=True,
            comma_separated_list=True,
            normalize_paths=True,
            default=[],
            help="extra tsscan rule directories (comma-separated)",
        )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls.target_version = getattr(options, "tsscan_target_version", None) or None
        cls.rule_dirs = list(getattr(options, "tsscan_rule_dirs", None) or [])

    @classmethod
    def _settings(cls, filename: str) -> tuple[str, list[str], str]:
        import os

        from tsscan.config import ConfigError, Settings, load_settings, target_version

        stdin = filename in ("-", "stdin")
        directory = os.getcwd() if stdin else os.path.dirname(os.path.abspath(filename))
        cached = _SETTINGS.get(directory)
        if cached is None:
            problem = ""
            try:
                settings = load_settings([directory])
            except ConfigError as exc:  # reported once per file; the flake8 options still apply
                settings, problem = Settings(), str(exc)
            cached = _SETTINGS[directory] = (
                target_version(settings, cls.target_version),
                list(cls.rule_dirs) or [str(d) for d in settings.rule_dirs],
                problem,
            )
        return cached

    # ------------------------------------------------------------------ checking
    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from tsscan.engine import InputError
        from tsscan.rule import RuleLoadError

        text = "".join(self.lines)
        try:
            target, dirs, problem = self._settings(self.filename)
            if problem:
                yield 1, 0, f"{ERROR_CODE} tsscan configuration error: {problem}", type(self)
            engine = _engine(target, dirs)
        except (RuleLoadError, ValueError) as exc:
            yield 1, 0, f"{ERROR_CODE} tsscan cannot load its rules: {exc}", type(self)
            return
        try:
            scope = None
            if isinstance(self.tree, ast.Module):
                from tsscan.semantic.compiled import analyse

                scope = analyse(self.tree)
            result = engine.check(self.filename, text, scope=scope)
        except InputError as exc:  # flake8 reports syntax errors itself (E999)
            yield 1, 0, f"{ERROR_CODE} tsscan cannot check this file: {exc}", type(self)
            return
        except Exception as exc:  # a tsscan bug must not abort the whole flake8 run
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            yield 1, 0, f"{ERROR_CODE} tsscan internal error: {type(exc).__name__}: {first}", type(self)
            return
        for problem in result.errors:
            yield 1, 0, f"{ERROR_CODE} tsscan cannot check part of this file: {problem}", type(self)
        for d in result.diagnostics:
            mark = " [*]" if d.fix == "safe" else ""
            yield d.line, d.col - 1, f"{d.code}{mark} {d.message}", type(self)
