"""Check one file: parse once, run the rules over what TorchScript compiles, propose fixes.

The flow for one file:

1. ``ast.parse`` the whole file (cheap) and find the compiled functions (:mod:`tsscan.semantic.compiled`).
2. Cut the source of those functions out of the file and join them into one small *snippet
   module* (functions that are indented in the file are wrapped in ``if 1:`` so they parse
   as they are, columns unchanged). Only this module is parsed by libcst: code TorchScript
   never compiles is never given to libcst.
3. Run every selected rule over the snippet module in one batched walk; before each
   compiled function the rules get that function's :class:`~tsscan.context.FunctionContext`.
4. Compute positions only for snippets with reports, map them back to file lines, drop
   reports silenced by ``# noqa`` or made moot by ``torch.jit.is_scripting()`` guards.

Fixes are proposed here (:class:`PendingFix`) and applied by :mod:`tsscan.fix.edits`.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from tsscan import candidates
from tsscan.context import FunctionContext
from tsscan.files import newline_of, split_lines
from tsscan.noqa import noqa_suppresses  # flake8's rules for noqa comments
from tsscan.prefilter import hook_names
from tsscan.registry import RuleInfo
from tsscan.rule import Diagnostic, Fix, Report, Rule, code_selected, version_matches
from tsscan.semantic.compiled import CompiledFunction, FileScope, analyse
from tsscan.semantic.static import in_ranges
from tsscan.walk import walk

# CompiledFunction.why of code that is not compiled, seen only by rules with ``sees_init``
INIT_WHYS = candidates.INIT_WHYS


def wanted_init_functions(scope: FileScope, rule_classes: Sequence[type[Rule] | RuleInfo]) -> list[CompiledFunction]:
    """The ``__init__`` methods and module builders that the selected ``sees_init`` rules
    need: those calling one of the rules' ``init_calls`` (all of them if a rule names none)."""
    return candidates.wanted_init_functions(scope, [_info(r) for r in rule_classes])


def _info(rule: type[Rule] | RuleInfo) -> RuleInfo:
    return rule if isinstance(rule, RuleInfo) else RuleInfo.of(rule)


class InputError(Exception):
    """A file that cannot be checked: the message is one line, without the path."""


@dataclass
class Snippet:
    cf: CompiledFunction
    file_start: int  # first file line (1-based) the snippet covers
    file_end: int  # last file line it covers
    syn_start: int  # line of the snippet module where the file_start line is
    wrapped: bool  # put under ``if 1:`` because it is indented
    header_only: bool  # @torch.jit.unused: the body is replaced by ``...``
    stmt: cst.BaseStatement | None = None  # top-level statement in the snippet module
    func: cst.FunctionDef | None = None

    def to_file_line(self, syn_line: int) -> int:
        return syn_line - self.syn_start + self.file_start


@dataclass
class PendingFix:
    diagnostic: Diagnostic
    fix: Fix
    snippet: Snippet  # the compiled function the finding is in
    spans: list[tuple[tuple[int, int], tuple[int, int]]]  # file (line, col) ranges replaced
    # the snippet of each replacement (a fix may also edit another compiled function of the
    # file, e.g. annotate the parameter of the callee a call passes None to); empty: all in
    # ``snippet``
    replaced_in: list[Snippet] = field(default_factory=list)

    def snippet_of(self, k: int) -> Snippet:
        """The snippet the ``k``-th replacement lies in."""
        return self.replaced_in[k] if self.replaced_in else self.snippet

    @property
    def touched(self) -> list[Snippet]:
        """The snippets the fix's replacements rewrite."""
        if self.replaced_in:
            return list({id(s): s for s in self.replaced_in}.values())
        return [self.snippet] if self.fix.replacements else []


@dataclass
class CheckResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fixes: list[PendingFix] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one-line problems (without the path)
    compiled: int = 0  # compiled functions checked
    snippet_module: cst.Module | None = None
    snippets: list[Snippet] = field(default_factory=list)
    scope: FileScope | None = None


class Engine:
    def __init__(
        self,
        rules: Sequence[type[Rule] | RuleInfo],
        target_version: str,
        select: Sequence[str] = ("TS",),
        ignore: Sequence[str] = (),
        options: dict | None = None,
        external: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.target_version = target_version
        # the rules for this torch version, described; each is loaded (its module imported) the
        # first time a function is a candidate for it (tsscan.prefilter)
        self.infos = [i for i in map(_info, rules) if version_matches(target_version, i.fails_in)]
        self.select = list(select)
        self.ignore = list(ignore)
        self.options = options or {}
        self.honour_noqa = True  # the flake8 plugin turns it off: flake8 applies # noqa itself
        # False: every selected rule sees every compiled function (the pre-filters are not
        # asked; the tests compare the findings both ways)
        self.prefilter = True
        # per path, what the package index says other files' compiled code compiles in it (and
        # their facts): given for ``--fix``, whose checks build the scope here
        self.external: Mapping[str, Mapping[str, str]] = external or {}

    @property
    def all_rules(self) -> list[type[Rule]]:
        """The rule classes for this torch version (all of them loaded)."""
        return [i.load() for i in self.infos]

    def load_all(self) -> None:
        """Import every rule now (before forking workers, which then inherit them)."""
        for i in self.infos:
            i.load()

    def infos_for(self, extra_ignore: Iterable[str] = ()) -> list[RuleInfo]:
        ignore = self.ignore + list(extra_ignore)
        return [i for i in self.infos if code_selected(i.code, self.select, ignore)]

    def rules_for(self, extra_ignore: Iterable[str] = ()) -> list[type[Rule]]:
        return [i.load() for i in self.infos_for(extra_ignore)]

    # ------------------------------------------------------------------ checking
    def check(
        self,
        path: str,
        text: str,
        extra_ignore: Iterable[str] = (),
        scope: FileScope | None = None,
        only: Collection[int] | None = None,
    ) -> CheckResult:
        """``scope``: ``analyse(ast.parse(text))``, when the caller has it already. ``only``: check
        only the compiled (and ``__init__``/builder) functions whose ``ast`` node has one of these
        ids (the language server re-checks the functions an edit changed); the rules still see
        the whole file's scope."""
        result = CheckResult(path)
        if scope is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes etc.
                    tree = ast.parse(text, filename=path)
            except SyntaxError as exc:
                raise InputError(
                    f"syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}{_newer_syntax(exc)}"
                ) from None
            except (ValueError, MemoryError, RecursionError) as exc:
                raise InputError(f"cannot parse: {type(exc).__name__}: {exc}") from None
            scope = analyse(tree, self.external.get(path, {}))
        result.scope = scope
        infos = self.infos_for(extra_ignore)
        # __init__ and module builders: parsed only when a selected rule asks to see them
        init_fns = candidates.wanted_init_functions(scope, infos)
        if scope.empty and not init_fns:
            return result
        compiled = scope.compiled
        if only is not None:
            compiled = [cf for cf in compiled if id(cf.node) in only]
            init_fns = [cf for cf in init_fns if id(cf.node) in only]
        if not compiled and not init_fns:
            return result
        # only the functions some selected rule may report in (tsscan.prefilter) go to libcst
        lines = split_lines(text)
        if self.prefilter:
            planned = candidates.plan([*compiled, *init_fns], scope.module, infos, lines)
        else:
            planned = [
                (cf, [i for i in infos if i.sees_init or cf.why not in INIT_WHYS]) for cf in [*compiled, *init_fns]
            ]
            planned = [(cf, found) for cf, found in planned if found]
        if not planned:
            return result
        wanted = {id(cf): found for cf, found in planned}
        # once libcst is needed, every compiled function goes into the snippet module (only the
        # candidates are walked): a fix may edit another function than its own (a callee)
        snippets, syn_module = self._snippet_module(
            [cf for cf in compiled if cf.why not in INIT_WHYS],
            lines,
            result,
            [cf for cf, _ in planned if cf.why in INIT_WHYS],
        )
        result.snippets = snippets
        result.snippet_module = syn_module
        result.compiled = sum(1 for s in snippets if s.cf.why not in INIT_WHYS)
        if not snippets:
            return result

        first_ctx = self._context(path, scope, snippets[0].cf)
        # one instance per rule for the whole file, made once some function needs it
        instances: dict[str, Rule] = {}
        for snip in snippets:
            for info in wanted.get(id(snip.cf), []):
                if info.code not in instances:
                    instances[info.code] = info.load()(first_ctx)
        by_root: dict[int, Snippet] = {id(s.func): s for s in snippets}
        # the libcst function of each compiled function of the file, by its ast node: a fix may
        # edit another one than it is reported in (a callee's parameter)
        lent = {
            id(s.cf.node): s.func
            for s in snippets
            if s.func is not None and not s.header_only and s.cf.why not in INIT_WHYS
        }
        current: list[Snippet | None] = [None]
        reports_by_snippet: dict[int, list[Report]] = {}
        active: list[list[Rule]] = [[]]  # the rules run over the current snippet

        def before_visit(node: cst.CSTNode) -> None:
            snip = by_root.get(id(node))
            if snip is not None:
                current[0] = snip
                ctx = self._context(path, scope, snip.cf)
                ctx.node = snip.func
                ctx.compiled_nodes = lent
                for r in active[0]:
                    r.ctx = ctx
                    r.reports = []
                    r.on_function()

        def after_leave(node: cst.CSTNode) -> None:
            snip = by_root.get(id(node))
            if snip is not None:
                collected = [rep for r in active[0] for rep in r.reports]
                if collected:
                    reports_by_snippet[id(snip)] = collected
                for r in active[0]:
                    r.reports = []

        for snip in snippets:
            active[0] = [instances[info.code] for info in wanted.get(id(snip.cf), [])]
            if not active[0]:
                continue
            assert snip.func is not None, "every snippet holds the function it was cut for"
            try:
                visit_batched(snip.func, active[0], before_visit, after_leave)
            except RecursionError:
                result.errors.append(f"{snip.cf.qualname} (line {snip.file_start}) is nested too deeply to check")
            except Exception as exc:  # a rule bug must not hide the other findings
                result.errors.append(
                    f"internal error in a rule while checking {snip.cf.qualname}: {type(exc).__name__}: {exc}"
                )
        elsewhere: dict[int, Mapping[cst.CSTNode, CodeRange]] = {}  # positions in other snippets, for fixes
        for snip in snippets:
            reports = reports_by_snippet.get(id(snip))
            if reports:
                self._diagnose(path, lines, snip, reports, result, elsewhere)
        result.diagnostics.sort(key=Diagnostic.sort_key)
        return result

    def _context(self, path: str, scope: FileScope, cf: CompiledFunction) -> FunctionContext:
        return FunctionContext(path, scope, cf, self.target_version, self.options)

    def _snippet_module(
        self,
        compiled: Sequence[CompiledFunction],
        lines: list[str],
        result: CheckResult,
        extra: Sequence[CompiledFunction] = (),
    ) -> tuple[list[Snippet], cst.Module | None]:
        parts: list[str] = []
        snippets: list[Snippet] = []
        syn_line = 1
        nl = newline_of(lines[0] if lines else "")  # the wrapper lines end like the file's
        for cf in [*compiled, *extra]:
            start, end = cf.start_line, cf.end_line
            header_only = not cf.body_compiled
            if header_only:
                body_line = cf.node.body[0].lineno
                if body_line <= cf.node.lineno:
                    continue  # one-line unused function: nothing of the signature to check
                end = body_line - 1
            chunk = lines[start - 1 : end]
            if not chunk:
                continue
            first = chunk[0]
            indent = first[: len(first) - len(first.lstrip(" \t"))]
            if first[len(indent) : len(indent) + 1] not in ("@", "d", "a"):
                continue  # something odd shares the def line (``class A: def f(): ...``)
            if not chunk[-1].endswith(("\n", "\r")):
                chunk = chunk[:-1] + [chunk[-1] + nl]
            wrapped = bool(indent)
            text_parts = ["if 1:" + nl] if wrapped else []
            text_parts += chunk
            if header_only:
                text_parts.append(indent + "    ..." + nl)
            snip = Snippet(cf, start, end, syn_line + (1 if wrapped else 0), wrapped, header_only)
            parts.append("".join(text_parts))
            snippets.append(snip)
            syn_line += sum(1 for _ in text_parts)
        if not snippets:
            return [], None
        try:
            module = cst.parse_module("".join(parts))
        except Exception:
            # find the culprits one by one; keep the others
            return self._snippet_module_slow(snippets, parts, result)
        self._bind(snippets, module)
        return snippets, module

    def _snippet_module_slow(
        self, snippets: list[Snippet], parts: list[str], result: CheckResult
    ) -> tuple[list[Snippet], cst.Module | None]:
        good_parts: list[str] = []
        good: list[Snippet] = []
        syn_line = 1
        for snip, part in zip(snippets, parts, strict=False):
            try:
                cst.parse_module(part)
            except Exception as exc:
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                result.errors.append(f"libcst cannot parse {snip.cf.qualname} (line {snip.file_start}): {msg}")
                continue
            snip.syn_start = syn_line + (1 if snip.wrapped else 0)
            good_parts.append(part)
            good.append(snip)
            syn_line += len(split_lines(part))
        if not good:
            return [], None
        module = cst.parse_module("".join(good_parts))
        self._bind(good, module)
        return good, module

    @staticmethod
    def _bind(snippets: list[Snippet], module: cst.Module) -> None:
        for snip, stmt in zip(snippets, module.body, strict=False):
            snip.stmt = stmt
            if snip.wrapped:
                assert isinstance(stmt, cst.If)
                snip.func = stmt.body.body[0]  # type: ignore[assignment]
            else:
                snip.func = stmt  # type: ignore[assignment]

    def _diagnose(
        self,
        path: str,
        lines: list[str],
        snip: Snippet,
        reports: list[Report],
        result: CheckResult,
        elsewhere: dict[int, Mapping[cst.CSTNode, CodeRange]],
    ) -> None:
        assert isinstance(snip.stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        positions = _positions(snip.stmt)
        quiet = snip.cf.dead + snip.cf.maybe_dead  # type-level rules are silent there
        base = snip.syn_start - (1 if snip.wrapped else 0)  # snippet-module line of stmt's line 1
        seen: set[tuple[str, int, int]] = set()
        for rep in reports:
            pos = positions.get(rep.node)
            if pos is None:
                continue
            line = snip.to_file_line(pos.start.line + base - 1)
            if rep.rule.level == "type" and quiet and in_ranges(line, quiet):
                continue
            end_line = snip.to_file_line(pos.end.line + base - 1)
            key = (rep.rule.code, line, pos.start.column)
            if key in seen:
                continue
            seen.add(key)
            if self.honour_noqa and noqa_suppresses(lines[line - 1] if 0 < line <= len(lines) else "", rep.rule.code):
                continue
            fix = rep.fix
            diag = Diagnostic(
                path=path,
                line=line,
                col=pos.start.column + 1,
                code=rep.rule.code,
                message=f"{rep.message} ({snip.cf.note})" if snip.cf.note else rep.message,
                name=rep.rule.name,
                end_line=end_line,
                end_col=pos.end.column + 1,
                fix=fix.safety if fix else None,
                fix_description=fix.description if fix else "",
            )
            result.diagnostics.append(diag)
            if fix is not None:
                pending = self._pending(diag, fix, snip, positions, result, elsewhere)
                if pending is not None:
                    result.fixes.append(pending)

    def _pending(
        self,
        diag: Diagnostic,
        fix: Fix,
        snip: Snippet,
        positions: Mapping[cst.CSTNode, CodeRange],
        result: CheckResult,
        elsewhere: dict[int, Mapping[cst.CSTNode, CodeRange]],
    ) -> PendingFix | None:
        """``fix`` with the file ranges it replaces; a replacement outside ``snip`` is looked for
        in the file's other snippets (their positions computed once, in ``elsewhere``). None if
        a replaced node is in none of them."""
        spans = []
        where: list[Snippet] = []
        for old, _new in fix.replacements:
            at, p = snip, positions.get(old)
            if p is None:
                for other in result.snippets:
                    if other is snip or other.stmt is None:
                        continue
                    if id(other) not in elsewhere:
                        elsewhere[id(other)] = _positions(other.stmt)
                    p = elsewhere[id(other)].get(old)
                    if p is not None:
                        at = other
                        break
                else:
                    return None
            base = at.syn_start - (1 if at.wrapped else 0)
            spans.append(
                (
                    (at.to_file_line(p.start.line + base - 1), p.start.column),
                    (at.to_file_line(p.end.line + base - 1), p.end.column),
                )
            )
            where.append(at)
        return PendingFix(diag, fix, snip, spans, where if any(s is not snip for s in where) else [])


def _positions(stmt: cst.CSTNode) -> Mapping[cst.CSTNode, CodeRange]:
    """The position of every node of one snippet's statement, lines counted from its first."""
    assert isinstance(stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    return MetadataWrapper(cst.Module(body=[stmt]), unsafe_skip_copy=True).resolve(PositionProvider)


# --------------------------------------------------------------------------- the batched walk
_HOOK_NAMES: dict[type, tuple[str, ...]] = {}


def _hook_names(cls: type) -> tuple[str, ...]:
    """The ``visit_*``/``leave_*`` methods a rule class defines (libcst's empty stubs left out)."""
    names = _HOOK_NAMES.get(cls)
    if names is None:
        # the classes of the MRO, not dir(cls): libcst's base classes hold a thousand stubs,
        # and going through them for each of a hundred rules cost a third of a second
        names = _HOOK_NAMES[cls] = hook_names(cls)
    return names


class _Batched(cst.CSTVisitor):
    """What ``libcst.visit_batched`` does, with each rule class's hooks found once.

    libcst finds them with ``inspect.getmembers`` on every call, once per compiled function
    here: that cost more than the walk itself."""

    def __init__(self, rules: Sequence[Rule], before_visit, after_leave) -> None:
        super().__init__()
        self.hooks: dict[str, list] = {}
        for r in rules:
            for n in _hook_names(type(r)):
                self.hooks.setdefault(n, []).append(getattr(r, n))
        self.before_visit = before_visit
        self.after_leave = after_leave

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.before_visit(node)
        for fn in self.hooks.get("visit_" + type(node).__name__, ()):
            fn(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        for fn in self.hooks.get("leave_" + type(original_node).__name__, ()):
            fn(original_node)
        self.after_leave(original_node)

    # (no attribute hooks: walk() leaves them out)


class _BatchedWithAttributes(_Batched):
    """:class:`_Batched` for rules with ``visit_<Node>_<field>`` hooks."""

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        for fn in self.hooks.get(f"visit_{type(node).__name__}_{attribute}", ()):
            fn(node)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        for fn in self.hooks.get(f"leave_{type(original_node).__name__}_{attribute}", ()):
            fn(original_node)


def visit_batched(node: cst.CSTNode, rules: Sequence[Rule], before_visit, after_leave) -> None:
    # node class names have no "_": visit_Call_func is an attribute hook
    attribute_hooks = any(n.count("_") > 1 for r in rules for n in _hook_names(type(r)))
    batch = (_BatchedWithAttributes if attribute_hooks else _Batched)(rules, before_visit, after_leave)
    walk(node, batch)  # node.visit(batch), without copying the tree


_NEWER_SYNTAX_RE = re.compile(r"\s*(type\s+\w+\s*(\[.*\])?\s*=|(async\s+)?def\s+\w+\s*\[|class\s+\w+\s*\[)")


def _newer_syntax(exc: SyntaxError) -> str:
    """A hint when the error is syntax of a newer Python (PEP 695) than the one running."""
    import sys

    if sys.version_info < (3, 12) and exc.text and _NEWER_SYNTAX_RE.match(exc.text):
        return f" (Python 3.12+ syntax; tsscan runs on Python {sys.version_info[0]}.{sys.version_info[1]})"
    return ""
