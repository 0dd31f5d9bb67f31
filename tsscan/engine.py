"""Check one file: parse once, run the rules over what TorchScript compiles, apply fixes.

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
5. With fixes: replace nodes in the snippet module, regenerate each changed snippet and
   splice it back into the file text by line range (plus line inserts and imports).
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from tsscan.context import FunctionContext
from tsscan.files import split_lines
from tsscan.rule import SAFE, Diagnostic, Fix, Report, Rule, code_selected, version_matches
from tsscan.semantic.compiled import CompiledFunction, FileScope, analyse
from tsscan.semantic.static import in_ranges
from tsscan.walk import walk

NOQA_RE = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_SEP_RE = re.compile(r"[,\s]+")


# CompiledFunction.why of code that is not compiled, seen only by rules with ``sees_init``
INIT_WHYS = ("__init__", "builder")


def wanted_init_functions(scope: FileScope, rule_classes: Sequence[type]) -> list[CompiledFunction]:
    """The ``__init__`` methods and module builders that the selected ``sees_init`` rules
    need: those calling one of the rules' ``init_calls`` (all of them if a rule names none)."""
    wanted = [r for r in rule_classes if r.sees_init]
    if not wanted or not scope.init_functions:
        return []
    names: set[str] = set()
    for r in wanted:
        if not r.init_calls:
            return list(scope.init_functions)
        names |= set(r.init_calls)

    def calls(cf: CompiledFunction) -> bool:
        for node in ast.walk(cf.node):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
                if name in names:
                    return True
        return False

    return [cf for cf in scope.init_functions if calls(cf)]


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
    snippet: Snippet
    spans: list[tuple[tuple[int, int], tuple[int, int]]]  # file (line, col) ranges replaced


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
        rules: Sequence[type],
        target_version: str,
        select: Sequence[str] = ("TS",),
        ignore: Sequence[str] = (),
        options: dict | None = None,
    ) -> None:
        self.target_version = target_version
        self.all_rules = [r for r in rules if version_matches(target_version, r.fails_in)]
        self.select = list(select)
        self.ignore = list(ignore)
        self.options = options or {}

    def rules_for(self, extra_ignore: Iterable[str] = ()) -> list[type]:
        ignore = self.ignore + list(extra_ignore)
        return [r for r in self.all_rules if code_selected(r.code, self.select, ignore)]

    # ------------------------------------------------------------------ checking
    def check(
        self,
        path: str,
        text: str,
        extra_ignore: Iterable[str] = (),
        scope: FileScope | None = None,
    ) -> CheckResult:
        """``scope``: ``analyse(ast.parse(text))``, when the caller has it already."""
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
            scope = analyse(tree)
        result.scope = scope
        rule_classes = self.rules_for(extra_ignore)
        # __init__ and module builders: parsed only when a selected rule asks to see them
        init_fns = wanted_init_functions(scope, rule_classes)
        if scope.empty and not init_fns:
            return result
        lines = split_lines(text)
        snippets, syn_module = self._snippet_module(scope, lines, result, init_fns)
        result.snippets = snippets
        result.snippet_module = syn_module
        result.compiled = sum(1 for s in snippets if s.cf.why not in INIT_WHYS)
        if not snippets or not rule_classes:
            return result

        first_ctx = self._context(path, scope, snippets[0].cf)
        rules: list[Rule] = [r(first_ctx) for r in rule_classes]
        by_root: dict[int, Snippet] = {id(s.func): s for s in snippets}
        current: list[Snippet | None] = [None]
        reports_by_snippet: dict[int, list[Report]] = {}
        init_rules = [r for r in rules if r.sees_init]
        active: list[list[Rule]] = [rules]  # the rules run over the current snippet

        def before_visit(node: cst.CSTNode) -> None:
            snip = by_root.get(id(node))
            if snip is not None:
                current[0] = snip
                ctx = self._context(path, scope, snip.cf)
                ctx.node = snip.func
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
            active[0] = init_rules if snip.cf.why in INIT_WHYS else rules
            if not active[0]:
                continue
            try:
                visit_batched(snip.func, active[0], before_visit, after_leave)
            except RecursionError:
                result.errors.append(f"{snip.cf.qualname} (line {snip.file_start}) is nested too deeply to check")
            except Exception as exc:  # a rule bug must not hide the other findings
                result.errors.append(
                    f"internal error in a rule while checking {snip.cf.qualname}: {type(exc).__name__}: {exc}"
                )
        for snip in snippets:
            reports = reports_by_snippet.get(id(snip))
            if reports:
                self._diagnose(path, lines, snip, reports, result)
        result.diagnostics.sort(key=Diagnostic.sort_key)
        return result

    def _context(self, path: str, scope: FileScope, cf: CompiledFunction) -> FunctionContext:
        return FunctionContext(path, scope, cf, self.target_version, self.options)

    def _snippet_module(
        self,
        scope: FileScope,
        lines: list[str],
        result: CheckResult,
        extra: Sequence[CompiledFunction] = (),
    ) -> tuple[list[Snippet], cst.Module | None]:
        parts: list[str] = []
        snippets: list[Snippet] = []
        syn_line = 1
        nl = _newline_of(lines[0] if lines else "")  # the wrapper lines end like the file's
        for cf in [*scope.compiled, *extra]:
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
    ) -> None:
        assert snip.stmt is not None
        positions = MetadataWrapper(cst.Module(body=[snip.stmt]), unsafe_skip_copy=True).resolve(PositionProvider)
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
            if noqa_suppresses(lines[line - 1] if 0 < line <= len(lines) else "", rep.rule.code):
                continue
            fix = rep.fix
            diag = Diagnostic(
                path=path,
                line=line,
                col=pos.start.column + 1,
                code=rep.rule.code,
                message=rep.message,
                name=rep.rule.name,
                end_line=end_line,
                end_col=pos.end.column + 1,
                fix=fix.safety if fix else None,
                fix_description=fix.description if fix else "",
            )
            result.diagnostics.append(diag)
            if fix is not None:
                spans = []
                ok = True
                for old, _new in fix.replacements:
                    p = positions.get(old)
                    if p is None:
                        ok = False
                        break
                    spans.append(
                        (
                            (snip.to_file_line(p.start.line + base - 1), p.start.column),
                            (snip.to_file_line(p.end.line + base - 1), p.end.column),
                        )
                    )
                if ok:
                    result.fixes.append(PendingFix(diag, fix, snip, spans))


# --------------------------------------------------------------------------- the batched walk
_HOOK_NAMES: dict[type, tuple[str, ...]] = {}


def _hook_names(cls: type) -> tuple[str, ...]:
    """The ``visit_*``/``leave_*`` methods a rule class defines (libcst's empty stubs left out)."""
    names = _HOOK_NAMES.get(cls)
    if names is None:
        # the classes of the MRO, not dir(cls): libcst's base classes hold a thousand stubs,
        # and going through them for each of a hundred rules cost a third of a second
        found = {n for klass in cls.__mro__ for n in _own_hooks(klass)}
        names = tuple(
            n
            for n in sorted(found)
            if callable(getattr(cls, n, None)) and not getattr(getattr(cls, n), "_is_no_op", False)
        )
        _HOOK_NAMES[cls] = names
    return names


_OWN_HOOKS: dict[type, tuple[str, ...]] = {}


def _own_hooks(klass: type) -> tuple[str, ...]:
    """The hooks ``klass`` itself defines, stubs left out."""
    names = _OWN_HOOKS.get(klass)
    if names is None:
        names = _OWN_HOOKS[klass] = tuple(
            n
            for n, v in vars(klass).items()
            if n.startswith(("visit_", "leave_")) and callable(v) and not getattr(v, "_is_no_op", False)
        )
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


def noqa_suppresses(line: str, code: str) -> bool:
    m = NOQA_RE.search(line)
    if not m:
        return False
    codes = m.group("codes")
    if not codes:
        return True
    return any(code.startswith(c.upper()) for c in _SEP_RE.split(codes.strip()) if c)


# --------------------------------------------------------------------------- fixing
class _Replace(cst.CSTTransformer):
    def __init__(self, mapping: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.mapping = mapping

    def on_leave(self, original_node, updated_node):  # type: ignore[override]
        new = self.mapping.get(id(original_node))
        return new if new is not None else updated_node


def _overlaps(a, b) -> bool:
    (as_, ae), (bs, be) = a, b
    return as_ < be and bs < ae


def choose_fixes(fixes: Sequence[PendingFix], safeties: Sequence[str]) -> list[PendingFix]:
    """The fixes to apply in one round: of an allowed safety, none touching code another touches.

    The rest wait for the next round (:func:`fix_text` repeats to a fixed point)."""
    chosen: list[PendingFix] = []
    spans: list = []
    touched: dict[int, tuple[int, int]] = {}  # snippets whose lines this round rewrites
    inserts: list[int] = []
    for pf in sorted(fixes, key=lambda f: f.diagnostic.sort_key()):
        if pf.fix.safety not in safeties:
            continue
        if any(_overlaps(s, t) or s == t for s in pf.spans for t in spans):
            continue
        mine = {id(pf.snippet): (pf.snippet.file_start, pf.snippet.file_end)} if pf.fix.replacements else {}
        ranges = list({**touched, **mine}.values())
        own_inserts = [line for line, _ in pf.fix.inserts]
        if any(lo <= line < hi for line in own_inserts + inserts for lo, hi in ranges):
            continue
        chosen.append(pf)
        spans.extend(pf.spans)
        touched.update(mine)
        inserts.extend(own_inserts)
    return chosen


def apply_fixes(text: str, result: CheckResult, chosen: Sequence[PendingFix]) -> str:
    """Apply ``chosen`` fixes (from :func:`choose_fixes`) to ``text``, the file ``result`` checked."""
    if not chosen:
        return text
    lines = split_lines(text)
    newline = _newline_of(text)
    edits: list[tuple[int, int, list[str]]] = []  # (first line, last line, new lines): 1-based, inclusive
    by_snippet: dict[int, list[PendingFix]] = {}
    for pf in chosen:
        if pf.fix.replacements:
            by_snippet.setdefault(id(pf.snippet), []).append(pf)
        for after, ins in pf.fix.inserts:
            edits.append((after + 1, after, [ln + ("" if ln.endswith("\n") else newline) for ln in ins.splitlines()]))
    assert result.snippet_module is not None
    for pfs in by_snippet.values():
        snip = pfs[0].snippet
        mapping = {id(old): new for pf in pfs for old, new in pf.fix.replacements}
        new_stmt = snip.stmt.visit(_Replace(mapping))  # type: ignore[union-attr]
        # rendered with the snippet module's own default indent and newline: a fresh
        # cst.Module would re-indent tab- or 2-space-indented code to 4 spaces
        code = result.snippet_module.code_for_node(new_stmt)
        new_lines = split_lines(code)
        if snip.wrapped:
            new_lines = new_lines[1:]
        if snip.header_only:
            new_lines = new_lines[:-1]
        # keep the original file's ending of the last line (it may have had none)
        last_orig = lines[snip.file_end - 1]
        if new_lines:  # (libcst also drops a final lone "\r")
            new_lines[-1] = new_lines[-1].rstrip("\r\n") + last_orig[len(last_orig.rstrip("\r\n")) :]
        edits.append((snip.file_start, snip.file_end, new_lines))
    imports = _missing_imports(result, [imp for pf in chosen for imp in pf.fix.imports])
    if imports:
        at = _import_line(result, lines)
        edits.append((at + 1, at, [imp + newline for imp in imports]))
    for first, last, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[first - 1 : last] = new
    return "".join(lines)


def _newline_of(text: str) -> str:
    m = re.search(r"\r\n|\r|\n", text)
    return m.group() if m else "\n"


def _missing_imports(result: CheckResult, wanted: Iterable[str]) -> list[str]:
    assert result.scope is not None
    aliases = result.scope.module.aliases
    out: list[str] = []
    for imp in dict.fromkeys(wanted):
        tree = ast.parse(imp)
        stmt = tree.body[0]
        needed = False
        if isinstance(stmt, ast.ImportFrom):
            for a in stmt.names:
                bound = a.asname or a.name
                if aliases.get(bound) != f"{stmt.module}.{a.name}":
                    needed = True
        elif isinstance(stmt, ast.Import):
            for a in stmt.names:
                bound = a.asname or a.name.split(".")[0]
                if bound not in aliases:
                    needed = True
        if needed:
            out.append(imp)
    return out


def _import_line(result: CheckResult, lines: list[str]) -> int:
    assert result.scope is not None
    at = result.scope.module.last_import_line
    if at == 0:
        # after a shebang / encoding cookie / leading comments
        while at < len(lines) and lines[at].lstrip().startswith("#"):
            at += 1
    return at


def fix_text(
    engine: Engine,
    path: str,
    text: str,
    safeties: Sequence[str] = (SAFE,),
    extra_ignore: Iterable[str] = (),
    max_rounds: int = 10,
    allow: Callable[[PendingFix, str], bool] | None = None,
) -> tuple[str, list[Diagnostic], CheckResult]:
    """Apply fixes to a fixed point (at most ``max_rounds`` rounds).

    ``allow(fix, text)``, when given, is asked about every proposed fix of each round (``text``
    is the text that round fixes); fixes it refuses are left out (the fixer uses this to leave
    out fixes the compiler rejected). Returns the new text, the diagnostics whose fixes were
    applied, and the check of the final text (what remains)."""
    applied: list[Diagnostic] = []
    current = text
    result = engine.check(path, current, extra_ignore)
    for _ in range(max_rounds):
        proposed = result.fixes if allow is None else [pf for pf in result.fixes if allow(pf, current)]
        chosen = choose_fixes(proposed, safeties)
        if not chosen:
            break
        new = apply_fixes(current, result, chosen)
        if new == current:
            break
        try:
            new_result = engine.check(path, new, extra_ignore)
        except InputError:
            break  # a fix that breaks the file is never kept
        applied.extend(pf.diagnostic for pf in chosen)
        current, result = new, new_result
    return current, applied, result
