"""Judging a fixed text by what the compiler said: which fixes caused a problem, and how far
each remaining fix is confirmed (level 1 frontend, 2 ``torch.jit.script``, 3 same outputs)."""

from __future__ import annotations

from dataclasses import dataclass

from tsscan.engine import CheckResult
from tsscan.files import split_lines
from tsscan.rule import Diagnostic
from tsscan.semantic.compiled import FROM_ANOTHER_FILE
from tsscan.verify.errors import CompilerError, covering, unit_range
from tsscan.verify.verifier import FACTORY_HINT, Outcome

Key = tuple[str, str, str]


@dataclass
class FixRecord:
    key: Key
    diagnostic: Diagnostic  # as reported in the text of the round that applied it
    qualname: str  # compiled function the fix is in
    cls: str | None  # its class, if any
    why: str = ""  # why the function is compiled (scope.CompiledFunction.why)
    status: str = "applied"  # confirmed / reverted / unverified / applied (no verification)
    level: int = 0  # 1 frontend only (never enough), 2 torch.jit.script, 3 same outputs
    reason: str = ""  # why reverted / unverified, or what confirmed it
    built_by: str = ""  # how each class compiled was built: "Block: derived set A: dim=32, ..."
    inputs: str = ""  # the level-3 inputs: "Block: random inputs of shape [2, 32] (4 runs)"
    written: bool = False  # the fix is in the text that was written (or that --diff shows)
    signature: bool = False  # the fix is in the function's signature (its callers see it)
    also: tuple[str, ...] = ()  # other compiled functions the fix edits (a callee's parameter)

    def outcome(self, path: str | None = None) -> dict[str, object]:
        """The fix's outcome as JSON fields (``tsscan --format json``: ``fix_outcomes``)."""
        d = self.diagnostic
        return {
            "path": path or d.path,
            "line": d.line,
            "col": d.col,
            "code": d.code,
            "status": self.status,
            "level": self.level,
            "reason": self.reason,
            "built_by": self.built_by,
            "inputs": self.inputs,
            "written": self.written,
        }

    def note(self, path: str | None = None) -> str:
        d = self.diagnostic
        where = f"{path or d.path}:{d.line}:{d.col}: {d.code}"
        if self.status == "confirmed":
            what = {
                1: "torch's frontend accepts it",
                2: "torch.jit.script compiles it",
                3: "torch.jit.script compiles it and outputs match",
            }[self.level]
            return f"{where} fixed, confirmed (level {self.level}: {what})" + (
                f"; {self.reason}" if self.reason else ""
            )
        if self.status == "reverted":
            return f"{where} fix reverted: {self.reason}"
        if self.status == "unverified":
            return f"{where} fix unverified: {self.reason}"
        return f"{where} fixed (not verified: --no-verify)"


# --------------------------------------------------------------------------- judging
@dataclass
class Problem:
    unit: str  # "frontend:<qualname>", "class:<name>", "script:<name>", "import"
    message: str  # why the fixes are rejected
    candidates: list[FixRecord]
    signature: tuple[str, str, str]
    line: int | None = None  # where the compiler stopped, in the text judged
    n_lines: int = 0  # length of that text


def _roots(result: CheckResult) -> dict[str, set[str]]:
    """For each compiled function, the classes / scripted functions that compile it."""
    scope = result.scope
    if scope is None:
        return {}
    by_name = {cf.qualname: cf for cf in scope.compiled}
    out: dict[str, set[str]] = {}

    def roots(q: str, seen: set[str]) -> set[str]:
        if q in out:
            return out[q]
        cf = by_name.get(q)
        if cf is None or q in seen:
            return set()
        seen.add(q)
        found: set[str] = set()
        if cf.why == FROM_ANOTHER_FILE:  # the verifier compiles it as itself
            found.add(cf.cls.name if cf.cls is not None else f"script:{cf.node.name}")
        elif cf.why.startswith("called from "):
            for caller in cf.why[len("called from ") :].split(","):
                found |= roots(caller.strip(), seen)
            if cf.cls is not None:
                found.add(cf.cls.name)
        else:
            found.add(cf.cls.name if cf.cls is not None else f"script:{cf.node.name}")
        for caller in cf.callers:  # every other compiled function of the file that calls it
            found |= roots(caller, seen)
        return found

    for q in by_name:
        out[q] = roots(q, set())
    # a method of a base class is compiled with every subclass built from this file
    subclasses: dict[str, set[str]] = {}
    for info in scope.module.classes.values():
        for base in info.mro():
            if base is not info:
                subclasses.setdefault(base.name, set()).add(info.name)
    for found in out.values():
        for name in list(found):
            found |= subclasses.get(name, set())
    for base_name, subs in subclasses.items():
        out[f"class:{base_name}"] = subs
    return out


def _units_of(rec: FixRecord, roots: dict[str, set[str]]) -> set[str]:
    units = set(roots.get(rec.qualname, set()))
    for other in rec.also:
        units |= roots.get(other, set())
    if rec.cls:
        units.add(rec.cls)
        units |= roots.get(f"class:{rec.cls}", set())
    return units


def _line_text(lines: list[str], line: int | None) -> str:
    if line is None or not (0 < line <= len(lines)):
        return ""
    return lines[line - 1].strip()


# the findings in the code before the fixes, each as (code, function, text of its line) and as
# (code, function, text of what it reports): another fix may edit the line around a finding it
# did not make (an annotation added to the parameter beside a ``*xs``), leaving what the finding
# reports as it was. The function (its qualified name, "" outside compiled code) keeps a big file's
# repeated lines (``if exists(mask):``) apart.
Original = set[tuple[str, str, str]]


def _span_text(lines: list[str], d: Diagnostic) -> str:
    """The source text a finding reports (its node), or "" when it spans lines."""
    if d.line is None or d.end_line != d.line or not (0 < d.line <= len(lines)):
        return ""
    return lines[d.line - 1][d.col - 1 : d.end_col - 1].strip()


def _function_at(result: CheckResult, line: int | None) -> str:
    """The qualified name of the innermost compiled function (or ``__init__``) around ``line``
    ("" when none)."""
    if result.scope is None or line is None:
        return ""
    scope = result.scope
    functions = list(scope.compiled) + list(getattr(scope, "init_functions", []))
    around = [cf for cf in functions if cf.start_line <= line <= cf.end_line]
    return min(around, key=lambda cf: cf.end_line - cf.start_line).qualname if around else ""


def _keys(d: Diagnostic, lines: list[str], result: CheckResult) -> list[tuple[str, str, str]]:
    where = _function_at(result, d.line)
    keys = [(d.code, where, _line_text(lines, d.line))]
    node = _span_text(lines, d)
    return keys + [(d.code, where, "node:" + node)] if node else keys


def _explained(d: Diagnostic, lines: list[str], result: CheckResult, original: Original) -> bool:
    return any(k in original for k in _keys(d, lines, result))


def original_findings(result: CheckResult, text: str) -> Original:
    """What :func:`_problem_error` may take as an explanation: a finding the fixes did not make
    (``result``: the check of ``text``, the code before the fixes)."""
    lines = split_lines(text)
    return {k for d in result.diagnostics for k in _keys(d, lines, result)}


def _problem_error(
    err: CompilerError | None,
    result: CheckResult,
    accepted: set[tuple[str, str, str]],
    unit: str,
    lines: list[str],
    original: Original | None = None,
) -> bool:
    """True when ``err`` is not explained by a rule finding that remains (and that was there
    before the fixes: a finding a fix wrote is the fix's fault) nor accepted as present in the
    original code."""
    if err is None:
        return False
    cov = covering(result.diagnostics, err.line, result.scope)
    if original is not None:
        cov = [d for d in cov if _explained(d, lines, result, original)]
    if cov:
        return False
    if err.line is None and result.scope is not None:
        # no location in the message: a finding left in the same class/function explains it
        span = _unit_span(result, unit)
        if span and any(span[0] <= d.line <= span[1] for d in result.diagnostics):
            return False
    return (unit, err.stable_line, _line_text(lines, err.line)) not in accepted


def _unit_span(result: CheckResult, unit: str) -> tuple[int, int] | None:
    if result.scope is None:
        return None
    return unit_range(result.scope, unit.partition(":")[2])


def find_problems(
    records: list[FixRecord],
    outcome: Outcome,
    result: CheckResult,
    text: str,
    accepted: set[tuple[str, str, str]],
    original: Original | None = None,
) -> list[Problem]:
    lines = split_lines(text)
    roots = _roots(result)
    problems: list[Problem] = []

    def sig(unit: str, err: CompilerError) -> tuple[str, str, str]:
        return (unit, err.stable_line, _line_text(lines, err.line))

    def in_function(line: int | None) -> list[FixRecord]:
        qual = _function_at(result, line)
        return [r for r in records if r.qualname == qual or qual in r.also] if qual else []

    for qual, err in outcome.frontend.items():
        unit = f"frontend:{qual}"
        if _problem_error(err, result, accepted, unit, lines, original):
            assert err is not None
            cands = [r for r in records if r.qualname == qual or qual in r.also]
            if cands:
                problems.append(
                    Problem(
                        unit, f"torch's frontend rejects it: {err.short()} (line {err.line})", cands, sig(unit, err)
                    )
                )
    if outcome.import_error is not None and outcome.original_import_error is None:
        err = outcome.import_error
        if ("import", err.stable_line, _line_text(lines, err.line)) not in accepted:
            problems.append(
                Problem(
                    "import", f"the fixed module cannot be imported: {err.short()}", list(records), sig("import", err)
                )
            )

    def rejected(unit: str, err: CompilerError, cands: list[FixRecord]) -> None:
        if cands:
            where = f" (line {err.line})" if err.line else ""
            message = f"torch.jit.script rejects it: {err.short()}{where}"
            problems.append(Problem(unit, message, cands, sig(unit, err), err.line, len(lines)))

    def differs(unit: str, name: str, detail: str, cands: list[FixRecord]) -> None:
        if cands and (unit, "differ", "") not in accepted:
            message = f"scripted {name} behaves differently from the original: {detail}"
            problems.append(Problem(unit, message, cands, (unit, "differ", "")))

    for name, err in outcome.scripted.items():
        unit = f"script:{name}"
        if _problem_error(err, result, accepted, unit, lines, original):
            assert err is not None
            rejected(unit, err, in_function(err.line) or [r for r in records if unit in _units_of(r, roots)])
        elif err is None and outcome.scripted_compare.get(name, ("none",))[0] == "differ":
            differs(unit, name, outcome.scripted_compare[name][1], [r for r in records if unit in _units_of(r, roots)])
    for name, c in outcome.classes.items():
        unit = f"class:{name}"
        if c.built and _problem_error(c.script_error, result, accepted, unit, lines, original):
            err = c.script_error
            assert err is not None
            rejected(unit, err, in_function(err.line) or [r for r in records if name in _units_of(r, roots)])
        elif c.scripts and c.compare_status == "differ":
            differs(unit, name, c.compare_detail, [r for r in records if name in _units_of(r, roots)])
    return problems


def problem_remains(
    problem: Problem, outcome: Outcome, result: CheckResult, text: str, accepted, original: Original | None = None
) -> bool:
    if outcome.unavailable:
        return True
    lines = split_lines(text)
    kind, _, name = problem.unit.partition(":")
    if kind == "frontend":
        return _problem_error(outcome.frontend.get(name), result, accepted, problem.unit, lines, original)
    if kind == "import":
        return outcome.import_error is not None
    if kind == "script":
        if problem.signature[1] == "differ":
            return (
                name not in outcome.scripted
                or outcome.scripted[name] is not None
                or outcome.scripted_compare.get(name, ("none",))[0] == "differ"
            )
        return _problem_error(outcome.scripted.get(name), result, accepted, problem.unit, lines, original)
    c = outcome.classes.get(name)
    if problem.signature[1] == "differ":
        # gone only when the class scripts and agrees: a revert that stops it from
        # scripting proves nothing about behaviour
        return not (c is not None and c.scripts and c.compare_status != "differ")
    if c is None or not c.built:
        return False
    err = c.script_error
    if err is not None and not _problem_error(err, result, accepted, problem.unit, lines, original):
        # the compiler now stops at a construct a rule reports: that clears the fix left
        # out only if the compiler got as far as the problem's place
        if problem.line is None or err.line is None:
            return True  # inconclusive: keep looking
        shift = len(lines) - problem.n_lines
        return err.line < problem.line + min(shift, 0)
    return _problem_error(err, result, accepted, problem.unit, lines, original)


def original_differs(problem: Problem, outcome: Outcome) -> bool:
    """For a "behaves differently" problem, judged on the text without the suspect fixes: the
    unit scripts there and still differs from the eager original (the original code's own
    behaviour, not the fixes')."""
    kind, _, name = problem.unit.partition(":")
    if kind == "script":
        return (
            outcome.scripted.get(name, "missing") is None
            and outcome.scripted_compare.get(name, ("none",))[0] == "differ"
        )
    c = outcome.classes.get(name)
    return c is not None and c.scripts and c.compare_status == "differ"


def assign_statuses(records: list[FixRecord], outcome: Outcome, result: CheckResult, text: str) -> None:
    """Status of each fix when no problem is left."""
    roots = _roots(result)
    for rec in records:
        units = _units_of(rec, roots)
        if not units:
            units = set(outcome.classes) | {f"script:{n}" for n in outcome.scripted}
        best = 1
        reasons: list[str] = []
        unbuilt: list[str] = []
        built: list[str] = []
        inputs: list[str] = []
        for unit in sorted(units):
            if unit.startswith("script:") and rec.signature and rec.why == FROM_ANOTHER_FILE:
                # compiled alone it says nothing of the calls in the other file, which the
                # changed signature must still accept
                reasons.append(f"it changes the signature of {unit[7:]}, which compiled code in another file calls")
                continue
            if unit.startswith("script:"):
                err = outcome.scripted.get(unit[7:], "missing")
                status, detail = outcome.scripted_compare.get(unit[7:], ("none", ""))
                if err is None and status == "agree":
                    best = 3
                    reasons.append(f"{unit[7:]}: {detail}")
                    inputs.append(f"{unit[7:]}: {detail}")
                elif err is None:
                    best = max(best, 2)
                    if status == "differ":
                        reasons.append(
                            f"WARNING: scripted {unit[7:]} differs from the eager original without the fixes too ({detail}): compare by hand"
                        )
                    elif detail:
                        reasons.append(f"outputs not compared: {detail}")
                elif isinstance(err, CompilerError):
                    reasons.append(_blocked_note(err, result, unit))
                continue
            c = outcome.classes.get(unit)
            if c is None:
                continue
            if c.built:
                built.append(f"{unit}: {c.built_by}")
            if not c.built:
                unbuilt.append(
                    f"{unit} cannot be built ({c.build_error}); "
                    + FACTORY_HINT.format(key=outcome.keys.get(unit, unit))
                )
            elif c.script_error is not None:
                reasons.append(_blocked_note(c.script_error, result, f"class:{unit}"))
            elif c.compare_status == "agree":
                best = 3
                reasons.append(f"{unit} built from {c.built_by}, {c.compare_detail}")
                inputs.append(f"{unit}: {c.compare_detail}")
            elif c.compare_status == "differ":
                best = max(best, 2)
                reasons.append(
                    f"WARNING: scripted {unit} differs from the eager original without the fixes too "
                    f"({c.compare_detail}): compare by hand"
                )
            else:
                best = max(best, 2)
                if c.compare_detail:
                    reasons.append(f"outputs not compared: {c.compare_detail}")
        rec.built_by, rec.inputs = "; ".join(built), "; ".join(inputs)
        if unbuilt and best == 1 and not reasons:
            rec.status, rec.level, rec.reason = "unverified", 0, "; ".join(unbuilt)
        elif outcome.import_error is not None and best == 1 and not reasons:
            rec.status, rec.level = "unverified", 0
            rec.reason = (
                f"the module cannot be imported ({outcome.import_error.short()}), so only torch's frontend checked it"
            )
        elif best == 1:
            # only torch's frontend read it: not a confirmation (the class was not compiled)
            rec.status, rec.level = "unverified", 1
            rec.reason = "only torch's frontend accepts it, the class was not compiled" + (
                f": {'; '.join(dict.fromkeys(reasons + unbuilt))}" if reasons or unbuilt else ""
            )
        else:
            rec.status, rec.level = "confirmed", best
            rec.reason = "; ".join(
                r for r in dict.fromkeys(reasons) if best < 3 or not r.startswith("outputs not compared")
            )


def _blocked_note(err: CompilerError, result: CheckResult, unit: str) -> str:
    cov = covering(result.diagnostics, err.line, result.scope)
    where = f"at line {err.line}" if err.line is not None else "on an error without location"
    if not cov and err.line is None:
        span = _unit_span(result, unit)
        cov = [d for d in result.diagnostics if span and span[0] <= d.line <= span[1]]
    if cov:
        codes = ", ".join(sorted({d.code for d in cov}))
        return f"torch.jit.script stops {where} ({codes}, not fixed)"
    return f"torch.jit.script stops {where} that no rule covers: {err.short()}"
