"""The flake8 plugin: ``flake8 --select TS`` reports what ``tsscan check`` reports.

A thin adapter over :class:`tsscan.engine.Engine`; like the rest of tsscan it never imports torch.
flake8 owns selection and suppression here: ``--select``, ``--extend-ignore``,
``--per-file-ignores`` and ``# noqa`` all work on ``TS`` codes (the plugin runs every rule and
lets flake8 filter; the engine keeps noqa'd findings here, so ``--disable-noqa`` shows them).
``# flake8: noqa`` exempts a file in flake8 and ``tsscan check`` alike. Fixes are not applied
from flake8; use ``tsscan --fix``.

Options (command line or the ``[flake8]`` section of ``setup.cfg``/``tox.ini``/``.flake8``)::

    [flake8]
    tsscan-target-version = 2.13
    tsscan-rule-dirs = tools/tsscan_rules

Without them, ``target-version`` and ``rule-dirs`` from ``[tool.tsscan]`` in the nearest
``pyproject.toml`` apply, as for ``tsscan check``; then the installed torch's version.

What it costs: a file in which TorchScript compiles nothing is answered from flake8's own
``ast`` tree (no rules loaded, no libcst imported); a file already checked with the same content
and settings is answered from ``.tsscan_cache/`` (the cache of ``tsscan check``, :mod:`tsscan.cache`,
in a cache file of its own); the rules and libcst are loaded only for the first file that needs
them. When flake8's selection leaves out every ``TS`` code, the plugin does nothing at all.

A file tsscan cannot check (a compiled function libcst cannot parse, a failing rule, rules or
``[tool.tsscan]`` that cannot be loaded) is reported as ``TS000`` on line 1 rather than silently
passing; ignore that code to hide it. flake8 itself reports files
Python cannot parse (``E999``) and then runs no plugin on them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tsscan import __version__

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.cache import Cache

# one engine per (target version, rule directories) per process: rules are loaded once
_ENGINES: dict[tuple[str, tuple[str, ...]], Any] = {}
# [tool.tsscan] defaults per directory (one pyproject.toml read per directory, not per file):
# (target version, rule directories, configuration problem or "", project root)
_SETTINGS: dict[str, tuple[str, list[str], str, str]] = {}
# the content-keyed cache per (project root, target version, rule directories); None: not usable
_CACHES: dict[tuple[str, str, tuple[str, ...]], Cache | None] = {}
_HAS_CACHE: dict[str, bool] = {}  # project root -> it has a .tsscan_cache directory
# this front end's entries go to a cache file of their own (flake8 applies its own selection)
CACHE_OPTIONS = {"front end": "flake8"}

ERROR_CODE = "TS000"


def _engine(target: str, rule_dirs: Sequence[str]):
    key = (target, tuple(rule_dirs))
    engine = _ENGINES.get(key)
    if engine is None:
        from pathlib import Path

        from tsscan.engine import Engine
        from tsscan.registry import rule_infos

        engine = _ENGINES[key] = Engine(rule_infos([Path(d) for d in rule_dirs]), target)
        engine.honour_noqa = False  # flake8 applies noqa comments itself (and --disable-noqa turns that off)
    return engine


_SELECTED: dict[tuple[str, tuple[str, ...]], Any] = {}


def _needs_libcst(scope: Any, lines: Sequence[str], target: str, rule_dirs: Sequence[str]) -> bool:
    """Whether a function of the file is a candidate for a rule (all of them run here: flake8
    filters the codes), decided without libcst for the built-in rules."""
    from pathlib import Path

    from tsscan.candidates import needs_libcst, selected
    from tsscan.registry import rule_infos

    key = (target, tuple(rule_dirs))
    infos = _SELECTED.get(key)
    if infos is None:
        infos = _SELECTED[key] = selected(rule_infos([Path(d) for d in rule_dirs]), target, ("TS",), ())
    return needs_libcst(scope, infos, lines)


class Plugin:
    name = "tsscan"
    version = __version__

    # set by parse_options (flake8 calls it once per process, before any file is checked)
    target_version: str | None = None
    rule_dirs: list[str] = []
    ts_selected: bool = True  # False: flake8's selection leaves out every TS code

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
        cls.ts_selected = _any_ts_code_selected(options)

    @classmethod
    def _settings(cls, filename: str) -> tuple[str, list[str], str, str]:
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
                str(settings.root),
            )
        return cached

    # ------------------------------------------------------------------ checking
    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not self.ts_selected:
            return
        try:
            target, dirs, problem, root = self._settings(self.filename)
        except ValueError as exc:
            yield 1, 0, f"{ERROR_CODE} tsscan cannot load its rules: {exc}", type(self)
            return
        if problem:
            yield 1, 0, f"{ERROR_CODE} tsscan configuration error: {problem}", type(self)
        text = "".join(self.lines)
        # the cache first when there is one (a hit needs neither the scope analysis nor its
        # imports); without one, a file with no compiled code never opens it
        cache = _cache(root, target, dirs) if _has_cache(root) else None
        key = None
        if cache is not None:
            key = cache.key(text.encode("utf-8", "surrogatepass"), ())
            hit = cache.get(self.filename, key)
            if hit is not None:
                yield from self._report(*hit)
                return
        scope = None
        if isinstance(self.tree, ast.Module):
            from tsscan.semantic.compiled import analyse

            scope = analyse(self.tree)
            if scope.empty and not scope.init_functions:
                return  # nothing compiled: no rule has anything to see (no rules, no libcst)
            try:
                if not _needs_libcst(scope, self.lines, target, dirs):
                    return  # no function a rule may report in (tsscan.prefilter): no libcst either
            except Exception:  # rules that cannot be loaded: said below
                pass
        if cache is None:
            cache = _cache(root, target, dirs)
            key = cache.key(text.encode("utf-8", "surrogatepass"), ()) if cache is not None else None
        from tsscan.rule import RuleLoadError  # (imports libcst: only for a file that needs the rules)

        try:
            engine = _engine(target, dirs)
        except (RuleLoadError, ValueError) as exc:
            yield 1, 0, f"{ERROR_CODE} tsscan cannot load its rules: {exc}", type(self)
            return
        from tsscan.engine import InputError

        try:
            result = engine.check(self.filename, text, scope=scope)
        except InputError as exc:  # flake8 reports syntax errors itself (E999)
            yield 1, 0, f"{ERROR_CODE} tsscan cannot check this file: {exc}", type(self)
            return
        except Exception as exc:  # a tsscan bug must not abort the whole flake8 run
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            yield 1, 0, f"{ERROR_CODE} tsscan internal error: {type(exc).__name__}: {first}", type(self)
            return
        if cache is not None and key is not None:
            cache.put(self.filename, key, result.diagnostics, result.errors)
        yield from self._report(result.diagnostics, result.errors)

    def _report(self, diagnostics: Sequence[Any], errors: Sequence[str]) -> Iterator[tuple[int, int, str, type]]:
        for problem in errors:
            yield 1, 0, f"{ERROR_CODE} tsscan cannot check part of this file: {problem}", type(self)
        for d in diagnostics:
            mark = " [*]" if d.fix == "safe" else ""
            yield d.line, d.col - 1, f"{d.code}{mark} {d.message}", type(self)


def _has_cache(root: str) -> bool:
    """Whether the project has a cache directory (asked once per project and process)."""
    found = _HAS_CACHE.get(root)
    if found is None:
        import os

        from tsscan.cache import CACHE_DIR

        found = _HAS_CACHE[root] = os.path.isdir(os.path.join(root, CACHE_DIR))
    return found


def _cache(root: str, target: str, rule_dirs: Sequence[str]) -> Cache | None:
    """The cache of this project and settings, opened once per process and saved when the
    process ends (flake8's worker processes included)."""
    key = (root, target, tuple(rule_dirs))
    if key in _CACHES:
        return _CACHES[key]
    import multiprocessing.util
    from pathlib import Path

    from tsscan.cache import Cache, fingerprint

    cache: Cache | None
    try:
        fp = fingerprint([Path(d) for d in rule_dirs], ("TS",), (), target, CACHE_OPTIONS)
        cache = Cache(Path(root), fp)
    except OSError:
        cache = None  # a rule file that cannot be read: the rule loader will say so
    else:
        # run at exit by multiprocessing, in the main process and in a worker of flake8's pool
        # (a pool worker ends without running atexit handlers)
        multiprocessing.util.Finalize(cache, cache.save, exitpriority=10)
    _CACHES[key] = cache
    return cache


def _any_ts_code_selected(options: Any) -> bool:
    """Whether flake8's selection (``--select``, ``--ignore`` and their ``extend`` forms) keeps
    any ``TS`` code; True when that cannot be told."""
    try:
        from flake8.style_guide import Decision, DecisionEngine  # type: ignore[import-untyped]

        decide = DecisionEngine(options).decision_for
        return any(decide(f"TS{i:03d}") is Decision.Selected for i in range(1000))
    except (ImportError, AttributeError, TypeError):  # another flake8, or options without them
        return True
