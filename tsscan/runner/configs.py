"""Each file's configuration in a run: the nearest ``[tool.tsscan]`` (see :mod:`tsscan.config`)
with the command line's :class:`Options` over it, the :class:`EngineSpec` its rules are built
from, and the walk over the paths to check that pairs each file with them.

Files with the same configuration share an engine (built once per process, the first time a
file needs it: it imports libcst and loads the rules), a cache file and, when fixing, a verifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tsscan.config import ConfigError, Settings, check_codes, load_config_file, settings_for, target_source
from tsscan.files import SUFFIXES, FileError, Source, decode, is_excluded, iter_files, read_source

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.engine import Engine
    from tsscan.notebook import NotebookText
    from tsscan.registry import RuleInfo
    from tsscan.report import RunSummary
    from tsscan.semantic.compiled import FileScope


@dataclass(frozen=True)
class EngineSpec:
    """What an :class:`~tsscan.engine.Engine` is built from (picklable: workers build their own)."""

    rule_dirs: tuple[str, ...]
    target_version: str
    select: tuple[str, ...] = ("TS",)
    ignore: tuple[str, ...] = ()

    def engine(self, external: Mapping[str, Mapping[str, str]] | None = None) -> Engine:
        """The engine, built once per process (this loads the rules, and libcst). ``external``:
        the package index's roots per path (:attr:`tsscan.engine.Engine.external`), for an
        engine of its own that shares the loaded rules."""
        if external is not None:
            from tsscan.engine import Engine

            shared = self.engine()
            return Engine(shared.infos, self.target_version, self.select, self.ignore, external=external)
        engine = _ENGINES.get(self)
        if engine is None:
            from tsscan.engine import Engine

            engine = _ENGINES[self] = Engine(self.rules(), self.target_version, self.select, self.ignore)
        return engine

    def rules(self) -> list[RuleInfo]:
        """The rules, described (tsscan.registry.rule_infos): the built-in ones are not imported;
        the rule directories' files are loaded (that imports libcst)."""
        from tsscan.registry import rule_infos

        try:
            return rule_infos([Path(d) for d in self.rule_dirs])
        except Exception as exc:
            from tsscan.rule import RuleLoadError

            if isinstance(exc, RuleLoadError):
                raise RulesError(str(exc)) from None
            raise

    def needs_libcst(self, scope: FileScope, text: str, extra_ignore: Sequence[str] = ()) -> bool:
        """Whether a compiled function (or an ``__init__`` a rule wants) of the file is a
        candidate for a selected rule (:mod:`tsscan.prefilter`); if not, the file has no finding
        and neither libcst nor any rule is loaded for it."""
        from tsscan.candidates import needs_libcst, selected
        from tsscan.files import split_lines

        infos = _SELECTED.get((self, tuple(extra_ignore)))
        if infos is None:
            infos = selected(self.rules(), self.target_version, self.select, (*self.ignore, *extra_ignore))
            _SELECTED[(self, tuple(extra_ignore))] = infos
        return needs_libcst(scope, infos, split_lines(text))


class RulesError(Exception):
    """The rules cannot be loaded (a broken rule file): no file can be checked."""


_ENGINES: dict[EngineSpec, Engine] = {}
_SELECTED: dict[tuple[EngineSpec, tuple[str, ...]], list[RuleInfo]] = {}


@dataclass(frozen=True)
class Options:
    """What the command line sets over every file's ``[tool.tsscan]`` (None: the file's own)."""

    config: str | None = None  # --config: this pyproject.toml for every file
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    target_version: str | None = None
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    force_exclude: bool = False


@dataclass
class FileConfig:
    """One configuration in use: the settings, the engine spec, where its torch version came from."""

    settings: Settings
    spec: EngineSpec
    version_source: str


class Configs:
    """Each file's configuration: its nearest ``[tool.tsscan]`` (or ``--config``), the
    :class:`Options` over it. Raises :class:`~tsscan.config.ConfigError` for a bad option at
    construction, and for a file whose configuration is bad from :meth:`for_file`."""

    def __init__(self, options: Options = Options(), paths: Sequence[str] = ()) -> None:
        self.options = options
        self.fixed = load_config_file(options.config) if options.config else None
        self._by_settings: dict[int, FileConfig] = {}
        self._check_options(paths)

    def _check_options(self, paths: Sequence[str]) -> None:
        """The command line's codes must name rules (built-in or of the configurations of
        ``paths``), its torch version must have a table."""
        o = self.options
        dirs: list = []
        for p in paths or ["."]:
            try:
                dirs.extend(self.settings(p).rule_dirs)
            except ConfigError:
                pass  # said for each of its files
        for flag, codes in (
            ("--select", o.select),
            ("--ignore", o.ignore),
            ("--extend-select", o.extend_select),
            ("--extend-ignore", o.extend_ignore),
        ):
            check_codes(codes or (), flag, dirs)
        if o.target_version is not None:
            target_source(Settings(), o.target_version)

    def settings(self, path: str) -> Settings:
        return self.fixed if self.fixed is not None else settings_for(path)

    def for_file(self, path: str) -> FileConfig:
        s = self.settings(path)
        fc = self._by_settings.get(id(s))
        if fc is None:
            o = self.options
            select = [*(s.select if o.select is None else o.select), *o.extend_select]
            ignore = [*(s.ignore if o.ignore is None else o.ignore), *o.extend_ignore]
            version, source = target_source(s, o.target_version)
            spec = EngineSpec(tuple(str(d) for d in s.rule_dirs), version, tuple(select), tuple(ignore))
            fc = self._by_settings[id(s)] = FileConfig(s, spec, source)
        return fc

    def used(self) -> list[FileConfig]:
        return list(self._by_settings.values())

    def excluded(self, path: str) -> bool:
        try:
            s = self.settings(path)
        except ConfigError:
            return False  # checked, and the error said, file by file
        o = self.options
        return is_excluded(path, [*(s.exclude if o.exclude is None else o.exclude), *o.extend_exclude], s.root)

    def files(self, paths: Sequence[str]):
        return iter_files(paths, excluded=self.excluded, force_exclude=self.options.force_exclude, suffixes=SUFFIXES)


@dataclass
class Stdin:
    """``tsscan check -``: the bytes read, checked as the file ``filename``."""

    data: bytes
    filename: str = "-"


def config_error(summary: RunSummary, exc: ConfigError) -> None:
    """A bad ``[tool.tsscan]``: said once (it names its pyproject.toml), however many files it
    would have configured; those files are not checked, the others are."""
    if str(exc) not in summary.errors:
        summary.errors.append(str(exc))


def load_file(path: str, stdin: Stdin | None) -> tuple[Source, NotebookText | None]:
    """The file's source (stdin's bytes for ``-``); for a notebook, also its code as Python."""
    if path == "-" and stdin is not None:
        raw_source = decode(stdin.filename, stdin.data)
    else:
        raw_source = read_source(path)
    if not (stdin.filename if path == "-" and stdin else path).endswith(".ipynb"):
        return raw_source, None
    from tsscan.notebook import NotebookError, code_text

    try:
        nb = code_text(raw_source.raw)
    except NotebookError as exc:
        raise FileError(str(exc)) from None
    return Source(raw_source.path, raw_source.raw, nb.text, "utf-8"), nb


def walk_files(paths: Sequence[str], configs: Configs, stdin: Stdin | None, summary: RunSummary):
    """(path as reported, path to read, its configuration, problem) for each file to check; a
    file whose configuration is bad is left out, the configuration's error said once."""
    rest = [p for p in paths if p != "-" or stdin is None]
    found = [(stdin.filename, "-", None)] if stdin is not None and "-" in paths else []
    for path, config_path, problem in [*found, *((p, p, e) for p, e in configs.files(rest))]:
        if problem:
            yield path, config_path, None, problem
            continue
        try:
            fc = configs.for_file(path)
        except ConfigError as exc:
            config_error(summary, exc)
            continue
        yield path, config_path, fc, None
