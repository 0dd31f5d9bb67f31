"""The rule API: one rule is one class in one file of a rule directory.

A rule is a libcst visitor (``BatchableCSTVisitor``) that the engine runs over the code that
TorchScript compiles, one compiled function at a time. It reports nodes with :meth:`Rule.report`;
the engine turns reports into :class:`Diagnostic` objects (positions are computed only for what
is reported) and, with ``--fix``, applies the :class:`Fix` objects attached to them.

Rule directories are scanned for ``*.py`` files (names starting with ``_`` are skipped); every
``Rule`` subclass with a ``code`` defined in such a file is a rule. The engine names no rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from tsscan.diagnostic import SAFE, UNSAFE, Diagnostic  # noqa: F401 (re-exported)
from tsscan.prefilter import AUTO, HOOKS, Needs
from tsscan.selection import OPT_IN_BANDS, code_selected, version_matches  # noqa: F401 (re-exported)

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.context import FunctionContext

CODE_RE = re.compile(r"^TS[1-9]\d\d$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DOC_HEADINGS = ("What it does", "Why is this bad", "Example", "Use instead")

# what a fix puts in place of a node, as a libcst transformer's leave hook may return it: a node,
# several statements in place of one (FlattenSentinel), or nothing (RemovalSentinel)
Replacement = cst.CSTNode | cst.FlattenSentinel[cst.CSTNode] | cst.RemovalSentinel


@dataclass(frozen=True)
class Example:
    """A complete, importable source file that exercises a rule.

    ``code`` is compiled by the test suite with the installed torch: every ``nn.Module``
    subclass defined in it is instantiated without arguments and scripted, every function
    decorated ``@torch.jit.script`` is scripted on import. For an *invalid* example, ``fixed``
    is the exact source the rule's fix must produce (None: the rule offers no fix here), and
    ``inputs`` is a Python expression, evaluated in the example's namespace, giving a list of
    argument tuples on which eager ``code`` and scripted ``fixed`` must agree. ``fix`` declares
    the safety of the fix the rule offers on an invalid example: SAFE, UNSAFE, or None (none
    offered); the test suite checks the rule offers exactly that.
    """

    code: str
    fixed: str | None = None
    inputs: str | None = None
    fix: str | None = None
    # torch versions in which this example is expected to fail (defaults to the rule's)
    note: str = ""


@dataclass
class Fix:
    """What a rule proposes to change.

    ``replacements``: (old node, new node) pairs inside the compiled function being checked, or
    inside another compiled function of the file (``FunctionContext.compiled_node``).
    ``inserts``: (line, text) pairs: ``text`` (whole lines, with their newline) inserted *after*
    1-based ``line`` of the original file (0 = at the top). Used for edits outside compiled code,
    e.g. declaring an attribute in ``__init__``.
    ``imports``: import statements the new code needs (``"from typing import Optional"``); added
    at module level unless the file already binds the name.
    """

    replacements: list[tuple[cst.CSTNode, Replacement]] = field(default_factory=list)
    inserts: list[tuple[int, str]] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    safety: str = SAFE
    description: str = ""


@dataclass
class Report:
    """What a rule reported, before the engine turns it into a Diagnostic."""

    rule: Rule
    node: cst.CSTNode
    message: str
    fix: Fix | None


class Rule(cst.BatchableCSTVisitor):
    """Base class of every rule. Subclasses set the class attributes and ``visit_*`` methods."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    message: ClassVar[str] = ""
    # PEP 440-style specifier of the torch versions in which ``torch.jit.script`` rejects the
    # construct (">=1.0" for "every version so far"). Rules whose range excludes the target
    # torch version are not run.
    fails_in: ClassVar[str] = ">=1.0"
    # "syntax": the frontend rejects the construct wherever it is (also in branches that
    # torch.jit.is_scripting() guards make dead). "type": the error comes from type checking /
    # IR emission, which skips such dead branches; the engine drops those reports there.
    level: ClassVar[str] = "syntax"
    # None: no fix; SAFE or UNSAFE: the safety of the rule's fixes (a single report may
    # still downgrade its own fix to UNSAFE).
    fix_safety: ClassVar[str | None] = None
    # True: the rule is also run over ``__init__`` of nn.Module subclasses and module-level
    # functions that build modules (``ctx.function.why`` is "__init__" or "builder"), for
    # constructs there that make scripting fail (a lambda forward hook). Other rules never
    # see that code.
    sees_init: ClassVar[bool] = False
    # With sees_init: the function or method names (``{"register_forward_hook"}``) whose calls
    # the rule looks for there; ``__init__``/builders calling none of them are not parsed for
    # it. Empty: every ``__init__`` and builder.
    init_calls: ClassVar[frozenset[str]] = frozenset()
    # The pre-filter (tsscan.prefilter): what a function must contain for the rule to report in
    # it; functions without any of it are not handed to libcst for this rule. AUTO: derived
    # from the rule's hooks (``visit_Try`` needs an ``ast.Try``), unless the rule overrides
    # ``on_function`` (it may report from there). HOOKS: derived from the hooks even so
    # (``on_function`` only resets per-function state). ``Needs(calls={"map"})``: declared,
    # narrower than the hooks say. None: every function. It must be sound: never drop a
    # function the rule reports in.
    needs: ClassVar[Needs | None | object] = AUTO
    # rule examples: compiled by the test suite with the real torch.jit.script
    invalid: ClassVar[Sequence[Example]] = ()
    valid: ClassVar[Sequence[Example]] = ()

    def __init__(self, ctx: FunctionContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.reports: list[Report] = []

    def on_function(self) -> None:
        """Called before each compiled function (``self.ctx`` is already its context)."""

    def report(
        self,
        node: cst.CSTNode,
        message: str | None = None,
        fix: Fix | None = None,
    ) -> None:
        self.reports.append(Report(self, node, message or self.message, fix))

    # ---- metadata used by docs and the `rules`/`explain` commands
    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else cls.message

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring split on its ``Heading:`` lines (What it does, Why is this bad, ...)."""
        return split_doc(cls.__doc__ or "")


def split_doc(doc: str) -> dict[str, str]:
    import textwrap

    lines = textwrap.dedent("\n".join(doc.strip("\n").splitlines()[1:])).splitlines() if doc else []
    sections: dict[str, list[str]] = {}
    current = "_summary"
    for line in lines:
        head = line.strip().rstrip(":")
        if line.strip().endswith(":") and head in DOC_HEADINGS + ("Fix", "Notes", "Versions"):
            current = head
            sections[current] = []
            continue
        sections.setdefault(current, []).append(line)
    return {k: "\n".join(v).strip("\n") for k, v in sections.items()}


class RuleLoadError(Exception):
    """A rule file that cannot be loaded, or a rule class that breaks the rule API."""


def validate_rule(rule: type[Rule], path: Path) -> None:
    problems = []
    if not CODE_RE.match(rule.code):
        problems.append(f"code {rule.code!r} is not TS + 3 digits")
    if not NAME_RE.match(rule.name):
        problems.append(f"name {rule.name!r} is not kebab-case")
    if not rule.message:
        problems.append("no message")
    if rule.level not in ("syntax", "type"):
        problems.append(f"level {rule.level!r} is not 'syntax' or 'type'")
    if rule.fix_safety not in (None, SAFE, UNSAFE):
        problems.append(f"fix_safety {rule.fix_safety!r}")
    if rule.needs is not None and not isinstance(rule.needs, Needs) and rule.needs not in (AUTO, HOOKS):
        problems.append(f"needs {rule.needs!r} is not a tsscan.prefilter.Needs, AUTO, HOOKS or None")
    try:
        version_matches("2.13.0", rule.fails_in)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise RuleLoadError(f"{path}: rule {rule.__name__}: " + "; ".join(problems))
