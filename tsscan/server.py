"""``tsscan server``: a Language Server (LSP over stdio) for editors.

One long-lived process: the rules and libcst are loaded once (per rule directories and
target version), and every check works on the editor's in-memory text.

- **Diagnostics** are published on open, change and save: rule code, message, and a link to
  the rule page (``codeDescription.href``). A file that does not parse gets one ``TS000``
  diagnostic at the syntax error, and a file tsscan cannot check completely a ``TS000`` on line 1.
- **Code actions**: each safe fix is a quick fix, and "fix all tsscan problems in this file" is
  offered both as a quick fix and as ``source.fixAll.tsscan`` (for fix-on-save). The compiler does
  not confirm them here: the server never imports torch or the user's code (the titles say so;
  ``tsscan --fix`` is the confirmed path).
- **Configuration**: ``[tool.tsscan]`` of the ``pyproject.toml`` nearest to each file, read again
  when that file changes (its modification time and size are compared at every check, and a
  ``workspace/didChangeWatchedFiles`` notification for a ``pyproject.toml`` re-checks every open
  document). Files matching ``exclude`` (or tsscan's default excludes, e.g. ``site-packages``) get
  no diagnostics, as with ruff's editor integration.

The engine is :mod:`tsscan.engine` through :class:`tsscan.runner.EngineSpec`, as for
``tsscan check``; this module only translates between it and the protocol (pygls/lsprotocol,
installed with ``pip install 'tsscan[lsp]'``).
"""

from __future__ import annotations

import ast
import asyncio
import difflib
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tsscan import __version__
from tsscan.diagnostic import SAFE, Diagnostic
from tsscan.files import newline_of, split_lines

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.config import Settings
    from tsscan.engine import CheckResult, PendingFix
    from tsscan.runner import EngineSpec
    from tsscan.semantic.compiled import CompiledFunction

SOURCE = "tsscan"
ERROR_CODE = "TS000"
FIX_ALL_KIND = "source.fixAll.tsscan"
NOT_CONFIRMED = "(not confirmed by the compiler: run tsscan --fix for that)"
# the engine's results (libcst trees, for the code actions) kept for this many documents, the
# most recently checked; the others keep their findings and are checked again when asked for fixes
KEEP_RESULTS = 8
# after a quick check (the functions a change touched), the full check of the document once it
# has been left alone this long (s): a function's findings can depend on the rest of the file
FULL_CHECK_DELAY = 0.3
LSP_HINT = "tsscan: error: the language server needs pygls and lsprotocol: pip install 'tsscan[lsp]'\n"

log = logging.getLogger("tsscan.server")

Pos = tuple[int, int]  # 0-based line, column in code points
Span = tuple[Pos, Pos]


# --------------------------------------------------------------------------- checking (no LSP types)
@dataclass
class Finding:
    """One diagnostic to publish, in code points (converted to the client's units when sent)."""

    span: Span
    code: str
    message: str
    fixable: bool = False
    warning: bool = False


@dataclass
class Checked:
    """The last check of one document."""

    text: str
    findings: list[Finding] = field(default_factory=list)
    result: CheckResult | None = None  # None: nothing the engine could fix (syntax error, no code)
    spec: EngineSpec | None = None
    extra_ignore: tuple[str, ...] = ()
    fixes: list[tuple[Finding, PendingFix]] = field(default_factory=list)
    dropped: bool = False  # the result was let go to save memory: check again for code actions
    # the findings of each compiled function (lines relative to its first line), by what they
    # were computed from (_function_key); None: not reusable
    by_function: dict[tuple, list[Diagnostic]] | None = None
    # a quick check: some functions' findings were kept from an earlier text (no fixes: a full
    # check follows, and code actions check in full first)
    partial: bool = False
    # the ``ast`` of ``text`` (None: not parsed, or handed to a later check), which the next check
    # of the document re-parses only where the text changed (:mod:`tsscan.semantic.reparse`)
    tree: ast.Module | None = None

    def drop(self) -> None:
        self.result, self.fixes, self.dropped, self.tree = None, [], True, None


class Checker:
    """Configuration per file, engines per configuration, and the check of one text."""

    def __init__(self, freeze_gc: bool = False) -> None:
        # nearest pyproject.toml (None: none) -> ((mtime_ns, size), Settings or the error message)
        self._settings: dict[Path | None, tuple[tuple[int, int], Settings | str]] = {}
        self._default_root = Path.cwd()
        # the ``tsscan server`` process only: once the first engine is built (the rules, libcst
        # and the knowledge tables loaded), every object then alive is moved out of the cyclic
        # collector's reach (``gc.freeze``); its full collections, about one every ten changes,
        # otherwise walk all of them again (about 2 ms per change on average, measured on
        # ``timm/layers/attention.py``). What the first such check had parsed then is never freed.
        self._freeze_gc = freeze_gc

    def _engine_loaded(self) -> None:
        if self._freeze_gc:
            import gc

            self._freeze_gc = False
            gc.collect()
            gc.freeze()

    def forget_settings(self) -> None:
        self._settings.clear()

    def settings_for(self, path: str) -> Settings | str:
        """The settings for ``path`` (or the configuration error, one line)."""
        from tsscan.config import ConfigError, clear_cache, find_pyproject, load_settings

        directory = Path(os.path.dirname(os.path.abspath(path))) if path else self._default_root
        pyproject = find_pyproject(directory)
        try:
            st = os.stat(pyproject) if pyproject is not None else None
        except OSError:
            st = None
        stamp = (st.st_mtime_ns, st.st_size) if st is not None else (0, 0)
        cached = self._settings.get(pyproject)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        settings: Settings | str
        clear_cache()  # tsscan.config reads each directory once per process: this one changed
        try:
            settings = load_settings([str(directory)])
        except ConfigError as exc:
            settings = str(exc)
        self._settings[pyproject] = (stamp, settings)
        return settings

    def check(self, path: str, text: str, previous: Checked | None = None, base: Checked | None = None) -> Checked:
        """The findings of ``text``. With ``previous`` (the last check of the same document), the
        compiled functions whose text and facts did not change keep their findings (moved with
        their lines) and only the others are checked: a *quick* check (``Checked.partial``),
        which a full check should follow (see :func:`build_server`). ``base`` (the last check of
        the document; ``previous`` if not given): its ``ast`` is reused for the statements the
        edit left alone, and taken from it."""
        from tsscan.config import target_version
        from tsscan.files import DEFAULT_EXCLUDE, _excluded, _rel
        from tsscan.noqa import file_noqa
        from tsscan.runner import EngineSpec, RulesError

        settings = self.settings_for(path)
        if isinstance(settings, str):
            return Checked(text, [_error(f"tsscan configuration error: {settings}")])
        if path and _excluded(_rel(settings.root, path), [*DEFAULT_EXCLUDE, *settings.exclude]):
            return Checked(text)
        base = base if base is not None else previous
        tree = _parse_from(base, text, path or "<unsaved>")
        if tree is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc.
                    tree = ast.parse(text, filename=path or "<unsaved>")
            except SyntaxError as exc:
                return Checked(text, [_syntax_error(exc, text)])
            except (ValueError, MemoryError, RecursionError) as exc:
                return Checked(text, [_error(f"tsscan cannot parse this file: {type(exc).__name__}: {exc}")])
        if file_noqa(text):
            return Checked(
                text, tree=tree
            )  # a file-level "flake8: noqa" line: tsscan check and flake8 skip the file too
        from tsscan.semantic.compiled import analyse

        scope = analyse(tree)
        if scope.empty and not scope.init_functions:
            return Checked(text, tree=tree)  # nothing compiled: no rule (and no libcst) is needed
        spec = EngineSpec(
            tuple(str(d) for d in settings.rule_dirs),
            target_version(settings),
            tuple(settings.select),
            tuple(settings.ignore),
        )
        extra = tuple(settings.ignores_for(path)) if path else ()
        try:
            engine = spec.engine()  # built once per spec, in this process
        except RulesError as exc:
            return Checked(text, [_error(f"tsscan cannot load its rules: {exc}")])
        self._engine_loaded()
        lines = split_lines(text)
        functions = {id(cf.node): _function_key(cf, lines) for cf in [*scope.compiled, *scope.init_functions]}
        reused: dict[int, list[Diagnostic]] = {}
        known = previous.by_function if previous is not None else None
        if known is not None and previous is not None and (previous.spec, previous.extra_ignore) == (spec, extra):
            for node_id, key in functions.items():
                kept = known.get(key)
                if kept is not None:
                    reused[node_id] = kept
        only = None if not reused else [i for i in functions if i not in reused]
        from tsscan.engine import InputError

        try:
            result = engine.check(path or "<unsaved>", text, extra, scope=scope, only=only)
        except InputError as exc:
            return Checked(text, [_error(f"tsscan cannot check this file: {exc}")])
        except (Exception, RecursionError) as exc:  # a tsscan bug: shown on line 1 and logged, not hidden
            log.exception("internal error checking %s", path)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return Checked(text, [_error(f"tsscan internal error: {type(exc).__name__}: {first}")])
        by_node = _by_function(result.diagnostics, [*scope.compiled, *scope.init_functions])
        diagnostics = list(result.diagnostics)
        by_function: dict[tuple, list[Diagnostic]] | None = None
        if by_node is not None and not result.errors:
            by_function = {}
            starts = {id(cf.node): cf.start_line for cf in [*scope.compiled, *scope.init_functions]}
            for node_id, key in functions.items():
                if node_id in reused:
                    moved = [_moved(d, starts[node_id]) for d in reused[node_id]]
                    diagnostics.extend(moved)
                    by_function[key] = reused[node_id]
                else:
                    by_function[key] = [_moved(d, 1 - starts[node_id] + 1) for d in by_node.get(node_id, [])]
            diagnostics.sort(key=Diagnostic.sort_key)
        elif reused:
            # findings that cannot be told apart by function: check it all
            return self.check(path, text, base=Checked(text, tree=tree))
        partial = bool(reused)
        checked = Checked(
            text,
            result=None if partial else result,
            spec=spec,
            extra_ignore=extra,
            by_function=by_function,
            partial=partial,
            tree=tree,
        )
        checked.findings = [_error(f"tsscan cannot check part of this file: {e}") for e in result.errors]
        by_diag: dict[int, Finding] = {}
        for d in diagnostics:
            f = Finding(
                ((d.line - 1, d.col - 1), ((d.end_line or d.line) - 1, (d.end_col or d.col) - 1)),
                d.code,
                d.message,
                fixable=d.fix == SAFE,
                warning=d.code.startswith(("TS6", "TS7")),
            )
            checked.findings.append(f)
            by_diag[id(d)] = f
        if not partial:
            for pf in result.fixes:
                found = by_diag.get(id(pf.diagnostic))
                if found is not None and pf.fix.safety == SAFE:
                    checked.fixes.append((found, pf))
        return checked

    def fix_one(self, checked: Checked, pf: PendingFix) -> str:
        from tsscan.fix.edits import apply_fixes

        assert checked.result is not None
        return apply_fixes(checked.text, checked.result, [pf])

    def fix_all(self, checked: Checked, path: str) -> tuple[str, int]:
        """The text with every safe fix applied (to a fixed point), and how many were applied."""
        from tsscan.fix.edits import fix_text

        assert checked.spec is not None
        new, applied, _ = fix_text(
            checked.spec.engine(), path or "<unsaved>", checked.text, (SAFE,), checked.extra_ignore
        )
        return new, len(applied)


def _parse_from(base: Checked | None, text: str, filename: str) -> ast.Module | None:
    """The ``ast`` of ``text`` made from the last check of the document (the same tree when the
    text did not change; see :mod:`tsscan.semantic.reparse`), taken from it; None: parse it all."""
    if base is None or base.tree is None:
        return None
    old, base.tree = base.tree, None  # reparse moves the nodes it keeps: the tree changes hands
    if base.text == text:
        return old
    from tsscan.semantic.reparse import reparse

    return reparse(old, split_lines(base.text), split_lines(text), filename)


def _function_key(cf: CompiledFunction, lines: Sequence[str]) -> tuple:
    """What a compiled function's findings are computed from, besides the rest of the file: its
    text (decorators to last line), why and how it is compiled, its dropped line ranges (relative
    to its first line), and the file's newline (the engine's wrapper lines use it)."""
    start, end = cf.start_line, cf.end_line
    return (
        cf.qualname,
        cf.why,
        cf.note,
        cf.body_compiled,
        tuple((a - start, b - start) for a, b in cf.dead),
        tuple((a - start, b - start) for a, b in cf.maybe_dead),
        newline_of(lines[0]) if lines else "\n",
        "".join(lines[start - 1 : end]),
    )


def _by_function(diagnostics: Sequence[Diagnostic], functions: Sequence[CompiledFunction]) -> dict[int, list] | None:
    """The diagnostics of each function (by the id of its ``ast`` node): a finding belongs to the
    innermost function whose lines hold its start and end. None when one is in none of them."""
    spans = sorted((cf.end_line - cf.start_line, cf.start_line, cf.end_line, id(cf.node)) for cf in functions)
    out: dict[int, list[Diagnostic]] = {}
    for d in diagnostics:
        end = d.end_line or d.line
        owner = next((node_id for _, lo, hi, node_id in spans if lo <= d.line and end <= hi), None)
        if owner is None:
            return None
        out.setdefault(owner, []).append(d)
    return out


def _moved(d: Diagnostic, first_line: int) -> Diagnostic:
    """``d`` (lines relative to its function: 1 is the function's first line) at ``first_line``."""
    shift = first_line - 1
    return replace(d, line=d.line + shift, end_line=(d.end_line + shift) if d.end_line else 0)


def _error(message: str, span: Span = ((0, 0), (0, 0))) -> Finding:
    return Finding(span, ERROR_CODE, message)


def _syntax_error(exc: SyntaxError, text: str) -> Finding:
    lines = split_lines(text)
    line = max((exc.lineno or 1) - 1, 0)
    col = max((exc.offset or 1) - 1, 0)
    end_line = max((getattr(exc, "end_lineno", None) or line + 1) - 1, line)
    end_col = (getattr(exc, "end_offset", None) or 0) - 1
    if end_line == line and end_col <= col:
        # to the end of the line: an editor shows a zero-width range badly
        end_col = len(lines[line].rstrip("\r\n")) if line < len(lines) else col
    return _error(
        f"syntax error: {exc.msg} (tsscan checks nothing else in this file)", ((line, col), (end_line, end_col))
    )


def text_edits(old: str, new: str) -> list[tuple[Span, str]]:
    """The line-based edits turning ``old`` into ``new``: (span in ``old``, replacement text)."""
    a, b = split_lines(old), split_lines(new)
    edits: list[tuple[Span, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append((((i1, 0), _line_start(a, i2)), "".join(b[j1:j2])))
    return edits


def _line_start(lines: Sequence[str], i: int) -> Pos:
    """The start of line ``i``; past the last line, the end of the text (which may lack a newline)."""
    if i < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return (i, 0)
    return (len(lines) - 1, len(lines[-1]))


# --------------------------------------------------------------------------- the protocol
def build_server(checker: Checker | None = None) -> Any:
    """The pygls server (imported here: pygls is only needed by ``tsscan server``)."""
    from lsprotocol import types as t
    from pygls.lsp.server import LanguageServer
    from pygls.uris import to_fs_path

    checker = checker or Checker()
    server = LanguageServer("tsscan", __version__, text_document_sync_kind=t.TextDocumentSyncKind.Full)
    state: dict[str, Checked] = {}  # uri -> the last check of that open document
    recent: list[str] = []  # the documents whose results are kept, most recent last
    pending: dict[str, asyncio.TimerHandle] = {}  # uri -> the full check that follows a quick one
    docs_base: list[str | None] = []

    def rule_href(code: str) -> str | None:
        if not docs_base:
            from tsscan.report import docs_url

            docs_base.append(docs_url())
        return f"{docs_base[0]}/rules/{code}.md" if docs_base[0] and code != ERROR_CODE else None

    def units(lines: Sequence[str], pos: Pos) -> t.Position:
        line, col = pos
        if line >= len(lines):
            return t.Position(line=line, character=0)
        text = lines[line][:col]
        return t.Position(line=line, character=server.workspace.position_codec.client_num_units(text))

    def to_range(lines: Sequence[str], span: Span) -> t.Range:
        return t.Range(start=units(lines, span[0]), end=units(lines, span[1]))

    def to_lsp(lines: Sequence[str], f: Finding) -> t.Diagnostic:
        href = rule_href(f.code)
        return t.Diagnostic(
            range=to_range(lines, f.span),
            message=f.message,
            severity=t.DiagnosticSeverity.Warning if f.warning else t.DiagnosticSeverity.Error,
            code=f.code,
            code_description=t.CodeDescription(href=href) if href else None,
            source=SOURCE,
        )

    def path_of(uri: str) -> str:
        return to_fs_path(uri) or ""

    def check(uri: str, quick: bool = False) -> None:
        """Check the document and publish; ``quick`` (a change): re-check only the functions
        the change touched, and check in full once the document has been left alone for
        :data:`FULL_CHECK_DELAY` seconds."""
        doc = server.workspace.get_text_document(uri)
        if doc.language_id not in (None, "python") and not uri.endswith((".py", ".pyi")):
            return
        waiting = pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        last = state.get(uri)
        checked = checker.check(path_of(uri), doc.source, last if quick else None, base=last)
        state[uri] = checked
        if uri in recent:
            recent.remove(uri)
        recent.append(uri)
        while len(recent) > KEEP_RESULTS:
            old = state.get(recent.pop(0))
            if old is not None:
                old.drop()
        publish(uri, doc.version, checked)
        if checked.partial:
            pending[uri] = asyncio.get_running_loop().call_later(FULL_CHECK_DELAY, check_in_full, uri, doc.version)

    def publish(uri: str, version: int | None, checked: Checked) -> None:
        lines = split_lines(checked.text)
        server.text_document_publish_diagnostics(
            t.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=[to_lsp(lines, f) for f in checked.findings]
            )
        )

    def check_in_full(uri: str, version: int | None) -> None:
        """After a quick check: the full one (published again only if the findings differ)."""
        pending.pop(uri, None)
        quick = state.get(uri)
        doc = server.workspace.get_text_document(uri)
        if quick is None or doc.version != version or quick.text != doc.source:
            return  # closed or changed since: that change has its own check
        checked = checker.check(path_of(uri), doc.source, base=quick)
        state[uri] = checked
        if checked.findings != quick.findings:
            publish(uri, version, checked)

    def recheck_all() -> None:
        checker.forget_settings()
        for uri in list(state):
            check(uri)

    def edit(uri: str, lines: Sequence[str], old: str, new: str) -> t.WorkspaceEdit:
        return t.WorkspaceEdit(
            changes={uri: [t.TextEdit(range=to_range(lines, span), new_text=s) for span, s in text_edits(old, new)]}
        )

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
        check(params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
        check(params.text_document.uri, quick=True)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LanguageServer, params: t.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.endswith("/pyproject.toml"):
            recheck_all()
        elif uri in state:
            check(uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LanguageServer, params: t.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in recent:
            recent.remove(uri)
        waiting = pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        if state.pop(uri, None) is not None:
            server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: LanguageServer, params: t.DidChangeWatchedFilesParams) -> None:
        if any(c.uri.endswith("/pyproject.toml") for c in params.changes):
            recheck_all()

    @server.feature(t.INITIALIZED)
    def initialized(ls: LanguageServer, params: t.InitializedParams) -> None:
        caps = server.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps else None
        if watched and watched.dynamic_registration:
            opts = t.DidChangeWatchedFilesRegistrationOptions(
                watchers=[t.FileSystemWatcher(glob_pattern="**/pyproject.toml")]
            )
            server.client_register_capability(
                t.RegistrationParams(
                    registrations=[
                        t.Registration(
                            id="tsscan-pyproject",
                            method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=opts,
                        )
                    ]
                )
            )

    @server.feature(
        t.TEXT_DOCUMENT_CODE_ACTION,
        t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix, FIX_ALL_KIND]),
    )
    def code_action(ls: LanguageServer, params: t.CodeActionParams) -> list[t.CodeAction]:
        uri = params.text_document.uri
        doc = server.workspace.get_text_document(uri)
        checked = state.get(uri)
        if checked is None or checked.dropped or checked.partial or checked.text != doc.source:
            check(uri)
            checked = state.get(uri)
        if checked is None or not checked.fixes:
            return []
        only = [str(k) for k in params.context.only or []]

        def wanted(kind: str) -> bool:
            return not only or any(kind == o or kind.startswith(o + ".") for o in only)

        lines = split_lines(checked.text)
        req = params.range
        lo = (req.start.line, req.start.character)
        hi = (req.end.line, req.end.character)
        actions: list[t.CodeAction] = []
        if wanted(t.CodeActionKind.QuickFix):
            for f, pf in checked.fixes:
                diag = to_lsp(lines, f)
                start = (diag.range.start.line, diag.range.start.character)
                end = (diag.range.end.line, diag.range.end.character)
                if start > hi or lo > end:
                    continue
                what = pf.fix.description or f.message
                actions.append(
                    t.CodeAction(
                        title=f"Fix {f.code}: {what} {NOT_CONFIRMED}",
                        kind=t.CodeActionKind.QuickFix,
                        diagnostics=[diag],
                        is_preferred=True,
                        edit=edit(uri, lines, checked.text, checker.fix_one(checked, pf)),
                    )
                )
        # "fix all": as a quick fix next to a fixable finding, and as a source action when the
        # client asks for those (VS Code's "Source Action..." menu, fix on save)
        fix_all_kinds = [FIX_ALL_KIND] if only and wanted(FIX_ALL_KIND) else []
        if actions:
            fix_all_kinds.insert(0, t.CodeActionKind.QuickFix)
        if fix_all_kinds:
            new, n = checker.fix_all(checked, path_of(uri))
            if n and new != checked.text:
                fix_all = edit(uri, lines, checked.text, new)
                title = f"Fix all tsscan problems in this file ({n} fix{'es' if n != 1 else ''}) {NOT_CONFIRMED}"
                actions.extend(t.CodeAction(title=title, kind=kind, edit=fix_all) for kind in fix_all_kinds)
        return actions

    return server


def main(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """``tsscan server``: speak LSP on stdin/stdout until the client says ``exit``."""
    import argparse

    p = argparse.ArgumentParser(
        prog="tsscan server",
        description="Language server (LSP over stdio): diagnostics as you type, safe fixes as code actions.",
    )
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="warning")
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    try:
        server = build_server(Checker(freeze_gc=True))
    except ImportError:
        err.write(LSP_HINT)
        return 2
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="tsscan server: %(message)s")
    server.start_io()  # stdout carries the protocol only
    return 0
