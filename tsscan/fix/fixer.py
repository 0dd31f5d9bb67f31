"""``--fix`` / ``--diff``: rewrite a file, then confirm each fix with the real compiler.

The engine applies fixes to a fixed point (:func:`tsscan.fix.edits.fix_text`); here that loop
runs with a set of *blocked* fixes, and :mod:`tsscan.verify` confirms the result (judged by :mod:`tsscan.fix.judge`):

1. apply every allowed fix that is not blocked; check the new text with the compiler
   (frontend per function, ``torch.jit.script`` per module class, eager vs scripted outputs);
2. an error the compiler reports on a line where no rule finding remains, or outputs that
   differ, is a *problem*: the fixes that can have caused it are tried one at a time (the fix
   loop re-run without it); the one whose removal makes the problem go away is *reverted*
   with the compiler's message (when none alone does, each is kept alone, the others left out:
   the ones fine alone are spared and the rest reverted; when no such split shows and removing
   them all helps, all are reverted; when the problem stays without them, it was in the
   original code);
3. repeat until no problem is left: the remaining fixes are re-confirmed each round;
4. fixes in a class that cannot be built (and so cannot be scripted) are *unverified* and not
   applied, unless ``--keep-unverified``; so are all fixes when torch is not usable.

A fix is identified across rounds by (rule code, compiled function, text of the node it
reports): fixes of identical text in one function share their fate.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tsscan.engine import CheckResult, Engine, PendingFix
from tsscan.files import FileError, read_source, split_lines, write_atomic
from tsscan.fix.edits import fix_text
from tsscan.fix.judge import (
    FixRecord,
    Key,
    Problem,
    assign_statuses,
    find_problems,
    original_differs,
    original_findings,
    problem_remains,
)
from tsscan.rule import SAFE, Diagnostic
from tsscan.verify.errors import covering
from tsscan.verify.verifier import Outcome, Verifier

MAX_ROUNDS = 10
MAX_CONFIRMATIONS = 40  # compiler checks per file, culprit searches included
MAX_CANDIDATES = 8
MAX_FOLLOW = 3  # files followed from one file the user named, in a chain


@dataclass
class FileFix:
    path: str
    new_text: str
    applied: list[FixRecord] = field(default_factory=list)
    dropped: list[FixRecord] = field(default_factory=list)  # reverted, or unverified and not kept
    result: CheckResult | None = None  # the check of new_text
    outcome: Outcome | None = None  # the compiler on judged_text (new_text, when they are equal)
    judged_text: str | None = None
    stops_in: set[str] = field(default_factory=set)  # other files where the compiler stopped
    followed: bool = False  # fixed because the compiler led here from another file
    confirmations: int = 0


def _node_text(lines: list[str], d: Diagnostic) -> str:
    if not (0 < d.line <= len(lines)):
        return ""
    end_line = d.end_line or d.line
    if end_line == d.line:
        text = lines[d.line - 1][d.col - 1 : (d.end_col - 1) if d.end_col else None]
    else:
        chunk = lines[d.line - 1 : end_line]
        chunk[0] = chunk[0][d.col - 1 :]
        chunk[-1] = chunk[-1][: (d.end_col - 1) if d.end_col else None]
        text = "".join(chunk)
    return " ".join(text.split())


def fix_key(pf: PendingFix, lines: list[str]) -> Key:
    return (pf.diagnostic.code, pf.snippet.cf.qualname, _node_text(lines, pf.diagnostic))


def run_fixes(
    engine: Engine,
    path: str,
    text: str,
    safeties: Sequence[str] = (SAFE,),
    extra_ignore: Iterable[str] = (),
    blocked: Iterable[Key] = (),
) -> tuple[str, list[FixRecord], CheckResult]:
    """:func:`tsscan.engine.fix_text` with the ``blocked`` fixes left out: (new text, the fixes
    applied, the check of the new text)."""
    blocked = set(blocked)
    seen: dict[int, tuple[Key, PendingFix]] = {}  # id(diagnostic) -> its key and fix
    memo: list = [None, []]  # the text of the round and its lines

    def allow(pf: PendingFix, current: str) -> bool:
        if memo[0] is not current:
            memo[0], memo[1] = current, split_lines(current)
        key = fix_key(pf, memo[1])
        seen[id(pf.diagnostic)] = (key, pf)
        return key not in blocked

    new, applied, result = fix_text(
        engine, path, text, safeties, list(extra_ignore), max_rounds=MAX_ROUNDS, allow=allow
    )
    records: list[FixRecord] = []
    for d in applied:
        key, pf = seen[id(d)]
        cf = pf.snippet.cf
        body_start = cf.node.body[0].lineno if cf.node.body else cf.node.lineno
        also = tuple(dict.fromkeys(t.cf.qualname for t in pf.touched if t is not pf.snippet))
        records.append(
            FixRecord(
                key, d, cf.qualname, cf.cls.name if cf.cls else None, cf.why, signature=d.line < body_start, also=also
            )
        )
    return new, records, result


# --------------------------------------------------------------------------- one file
def fix_file(
    engine: Engine,
    path: str,
    text: str,
    safeties: Sequence[str] = (SAFE,),
    extra_ignore: Iterable[str] = (),
    verifier: Verifier | None = None,
    keep_unverified: bool = False,
) -> FileFix:
    extra_ignore = list(extra_ignore)
    blocked: dict[Key, list[FixRecord]] = {}
    accepted: set[tuple[str, str, str]] = set()
    out = FileFix(path, text)
    original = None  # the findings before any fix, once a fix is to be judged
    for _ in range(MAX_CONFIRMATIONS):
        new, records, result = run_fixes(engine, path, text, safeties, extra_ignore, blocked)
        out.new_text, out.applied, out.result = new, records, result
        if not records or verifier is None:
            break
        outcome = verifier.check(path, new, text, result.scope)
        out.outcome, out.judged_text = outcome, new
        out.stops_in |= _other_files(outcome, path)
        out.confirmations += 1
        if outcome.unavailable:
            for r in records:
                r.status, r.reason = "unverified", f"not confirmed: {outcome.unavailable}"
            if keep_unverified:
                break
            for r in records:
                _block(blocked, records, r, "unverified", r.reason)
            continue
        if original is None:
            original = original_findings(engine.check(path, text, extra_ignore), text)
        problems = find_problems(records, outcome, result, new, accepted, original)
        if problems:
            if out.confirmations >= MAX_CONFIRMATIONS - 2:
                for p in problems:
                    for r in p.candidates:
                        _block(blocked, records, r, "reverted", p.message)
                continue
            culprits = _culprits(
                engine, path, text, safeties, extra_ignore, blocked, problems[0], verifier, accepted, out, original
            )
            for r in culprits:
                _block(blocked, records, r, "reverted", problems[0].message)
            continue
        assign_statuses(records, outcome, result, new)
        unverified = [r for r in records if r.status == "unverified"]
        if unverified and not keep_unverified:
            for r in unverified:
                _block(blocked, records, r, "unverified", r.reason)
            continue
        break
    if (
        verifier is not None
        and out.outcome is not None
        and not out.outcome.unavailable  # (a time-out would only repeat)
        and out.judged_text != out.new_text
        and out.result
    ):
        # every fix left out in the end: what the compiler says about the text that stays
        out.outcome, out.judged_text = verifier.check(path, out.new_text, None, out.result.scope), out.new_text
    out.dropped = sorted((r for rs in blocked.values() for r in rs), key=lambda r: r.diagnostic.sort_key())
    return out


def _display(path: str) -> str:
    """``path`` relative to the working directory when it is below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _other_files(outcome: Outcome, path: str) -> set[str]:
    """The other ``.py`` files where the compiler stopped in a class or function of ``path``."""
    errors = [c.script_error for c in outcome.classes.values() if c.built and c.script_error is not None]
    errors += [e for e in outcome.scripted.values() if e is not None]
    found = {os.path.abspath(e.other_file) for e in errors if e.other_file and e.other_file.endswith(".py")}
    return found - {os.path.abspath(path)}


def _block(
    blocked: dict[Key, list[FixRecord]], records: list[FixRecord], rec: FixRecord, status: str, reason: str
) -> None:
    """Leave out ``rec``'s fix, and the fixes of identical text in the same function."""
    if rec.key in blocked:
        return
    same = [r for r in records if r.key == rec.key] or [rec]
    for r in same:
        r.status, r.reason = status, reason
    blocked[rec.key] = same


def _culprits(
    engine,
    path,
    text,
    safeties,
    extra_ignore,
    blocked,
    problem: Problem,
    verifier: Verifier,
    accepted,
    out: FileFix,
    original=None,
) -> list[FixRecord]:
    cands = list({c.key: c for c in problem.candidates}.values())

    def without(keys: set[Key]) -> tuple[Outcome, bool]:
        """The compiler's outcome with ``keys`` left out too, and whether the problem is gone."""
        trial, _, res = run_fixes(engine, path, text, safeties, extra_ignore, set(blocked) | keys)
        outcome = verifier.check(path, trial, text, res.scope)
        out.confirmations += 1
        return outcome, not problem_remains(problem, outcome, res, trial, accepted, original)

    if len(cands) > 1:
        for cand in cands[:MAX_CANDIDATES]:
            if without({cand.key})[1]:
                return [cand]
        # no one fix alone: each kept alone, the others left out. One that is fine alone is
        # innocent; the rest together are the culprits (two Optional annotations that each
        # break a call, beside an innocent annotation of the same function)
        innocent = [c for c in cands[:MAX_CANDIDATES] if without({o.key for o in cands if o is not c})[1]]
        if innocent and len(innocent) < len(cands):
            return [c for c in cands if c not in innocent]
    outcome, gone = without({c.key for c in cands})
    if outcome.unavailable or gone:
        return list(cands)
    if problem.signature[1] == "differ" and not original_differs(problem, outcome):
        # without the fixes the unit does not script, so nothing else can be the cause: a
        # behaviour change is never accepted as "in the original code"
        return list(cands)
    accepted.add(problem.signature)  # in the original code too: not the fixes' doing
    return []


# --------------------------------------------------------------------------- the CLI branch
class FixRun:
    """What ``tsscan --fix`` / ``--diff`` does per file, with one verifier for the run."""

    def __init__(
        self,
        settings,
        engine: Engine,
        safeties: Sequence[str],
        verify: bool = True,
        keep_unverified: bool = False,
        paths: Sequence[str] = (),
        follow: bool = False,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.safeties = tuple(safeties)
        self.keep_unverified = keep_unverified
        self.verifier: Verifier | None = Verifier(settings) if verify else None
        self.files: list[FileFix] = []
        # follow the compiler into other files inside these paths (writing them: not for --diff)
        self.roots = [os.path.abspath(p) for p in paths]
        self.follow = follow
        self.followed: set[str] = set()
        self.outside: set[tuple[str, str]] = set()  # (path, file outside the paths named)

    def fix(self, path: str, text: str, extra_ignore: Iterable[str] = ()) -> tuple[str, list[Diagnostic], CheckResult]:
        ff = self._fix_following(path, text, list(extra_ignore), depth=0)
        self.files.append(ff)
        assert ff.result is not None
        return ff.new_text, [r.diagnostic for r in ff.applied], ff.result

    def _fix_following(self, path: str, text: str, extra_ignore: list[str], depth: int) -> FileFix:
        """Fix ``path``; when one of its classes stops in another file inside the paths named,
        fix and write that file first (the compiler imports it from disk), then fix ``path``
        again. Files outside the paths named are listed, never written."""
        ff = fix_file(self.engine, path, text, self.safeties, extra_ignore, self.verifier, self.keep_unverified)
        if not self.follow or ff.outcome is None or depth >= MAX_FOLLOW:
            return ff
        self.followed.add(os.path.abspath(path))
        changed = False
        for other in sorted(ff.stops_in):
            if not self._inside(other):
                self.outside.add((path, _display(other)))
                continue
            if other in self.followed:
                continue
            self.followed.add(other)
            try:
                source = read_source(other)
            except FileError:
                continue
            other = _display(other)
            other_ff = self._fix_following(other, source.text, list(self.settings.ignores_for(other)), depth + 1)
            other_ff.followed = True
            self.files.append(other_ff)
            if other_ff.new_text != source.text and write_atomic(source, other_ff.new_text):
                for r in other_ff.applied:
                    r.written = True
                changed = True
        if changed:
            ff = fix_file(self.engine, path, text, self.safeties, extra_ignore, self.verifier, self.keep_unverified)
        return ff

    def _inside(self, path: str) -> bool:
        return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in self.roots)

    def written_by_following(self) -> list[Diagnostic]:
        """The fixes written in files the compiler led to (not returned by :meth:`fix`)."""
        return [r.diagnostic for ff in self.files for r in ff.applied if r.written and ff.followed]

    def written(self, path: str, applied: bool) -> None:
        """Whether the fixes of ``path`` (the last file fixed) were written or shown as a diff."""
        ff = self.files[-1]
        assert ff.path == path
        for r in ff.applied:
            r.written = applied

    def outcomes(self) -> list[dict[str, object]]:
        """Every fix's outcome, for JSON output (see :meth:`FixRecord.outcome`)."""
        return [
            r.outcome(ff.path)
            for ff in self.files
            for r in sorted(ff.applied + ff.dropped, key=lambda r: r.diagnostic.sort_key())
        ]

    def notes(self) -> list[str]:
        out: list[str] = []
        for ff in self.files:
            for r in sorted(ff.applied + ff.dropped, key=lambda r: r.diagnostic.sort_key()):
                note = r.note(ff.path)
                if r in ff.dropped and r.status == "unverified":
                    note = note.replace(
                        "fix unverified:", "fix not applied (unverified; --keep-unverified applies it):"
                    )
                out.append(note)
        for path, other in sorted(self.outside):
            out.append(f"{path}: the compiler stops in {other}, outside the paths named: not fixed (name it to fix it)")
        left = self.needs_a_person()
        if left:
            out.append("Still needs a person (the compiler's first error in each class after the fixes):")
            out.extend(f"  {line}" for line in left)
        v = self.verifier
        if v is not None and v.worker.status is not None:
            if v.worker.status.get("ok"):
                out.append(
                    f"Confirmed with torch {v.torch_version} in one worker process: torch import "
                    f"{v.worker.import_seconds:.1f} s, {v.checks} compiler check{'s' if v.checks != 1 else ''} "
                    f"{v.check_seconds:.1f} s."
                )
        return out

    def needs_a_person(self) -> list[str]:
        """Per class of a file with fixes that still does not script: where the compiler stops
        (file, line, the rule codes there or its message), or why it could not be built. An
        error in a file outside the paths named is listed, never fixed."""
        lines: list[str] = []
        for ff in self.files:
            outcome = ff.outcome
            if outcome is None or ff.result is None or self.verifier is None:
                continue
            if ff.judged_text != ff.new_text or outcome.unavailable:
                continue
                continue
            for name, c in sorted(outcome.classes.items()):
                if c.scripts:
                    continue
                if not c.built:
                    lines.append(f"{ff.path}: {name}: cannot be built ({c.build_error})")
                    continue
                err = c.script_error
                assert err is not None
                if err.line is None:
                    where = f"{err.other_file}" if err.other_file else ff.path
                    lines.append(f"{where}: {name}: {err.short()}" + (" (another file)" if err.other_file else ""))
                    continue
                codes = sorted({d.code for d in covering(ff.result.diagnostics, err.line, ff.result.scope, loose=True)})
                what = ", ".join(codes) + " (no fix)" if codes else err.short()
                where = f" (the error is in {err.other_file})" if err.other_file else ""
                lines.append(f"{ff.path}:{err.line}: {name}: {what}{where}")
        return lines

    def close(self) -> None:
        if self.verifier is not None:
            self.verifier.close()
