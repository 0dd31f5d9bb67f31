"""Compiler messages as data: where an error is (file line), and which rule findings cover it."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tsscan.rule import Diagnostic
from tsscan.semantic.compiled import FileScope

_FRAME_RE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
_MANGLE_RE = re.compile(r"___torch_mangle_\d+\.")
_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]+")
_TOPLEVEL_RE = re.compile(r"Expected a single top-level function: (?P<path>.+?):(?P<line>\d+)")


@dataclass
class CompilerError:
    kind: str  # exception class name
    message: str  # the full text
    line: int | None  # line in the checked file (None: no location)
    other_file: str | None = None  # the first frame is in another file
    located_by: str = "message"  # "message", "traceback" or "none"

    @property
    def first_line(self) -> str:
        for ln in self.message.splitlines():
            if ln.strip():
                return ln.strip().rstrip(":").rstrip()
        return self.kind

    @property
    def stable_line(self) -> str:
        """:attr:`first_line` without what changes from one compile to the next: torch's
        mangled class names (``___torch_mangle_910.``) and object addresses (``0x55c7...``),
        so that the same error before and after the fixes is recognised as the same."""
        return _ADDRESS_RE.sub("0x…", _MANGLE_RE.sub("", self.first_line))

    def short(self) -> str:
        return f"{self.kind}: {self.first_line}"


def parse_error(err: dict[str, Any] | None, path: str) -> CompilerError | None:
    """Where a compiler error is: the first ``File "...", line N`` frame of the message (the
    error site; later frames are the call stack), else a location embedded in the text, else
    the deepest traceback frame in the file."""
    if err is None:
        return None
    msg = err.get("message", "")
    real = os.path.abspath(path)
    frames = [(m.group("path"), int(m.group("line"))) for m in _FRAME_RE.finditer(msg)]
    if frames:
        for fpath, line in frames:
            if os.path.abspath(fpath) == real:
                other = None if frames[0][0] == fpath else frames[0][0]
                return CompilerError(err.get("type", "Error"), msg, line, other)
        return CompilerError(err.get("type", "Error"), msg, None, frames[0][0], "none")
    m = _TOPLEVEL_RE.search(msg)
    if m and os.path.abspath(m.group("path")) == real:
        return CompilerError(err.get("type", "Error"), msg, int(m.group("line")))
    if err.get("tb_line"):
        return CompilerError(err.get("type", "Error"), msg, int(err["tb_line"]), None, "traceback")
    return CompilerError(err.get("type", "Error"), msg, None, None, "none")


def covering(
    diagnostics: Sequence[Diagnostic],
    line: int | None,
    scope: FileScope | None = None,
    loose: bool = False,
) -> list[Diagnostic]:
    """The rule findings that explain a compiler error at ``line``: findings on that line (or
    spanning it); else type-level findings earlier in the same compiled function (the compiler
    reports the line where the effect shows, e.g. the first use of a parameter whose default
    did not type it). ``loose`` (for reporting, not for judging fixes): also type- and
    module-level findings anywhere in that function ("y is not defined in the false branch"
    is reported at the ``if``), and any finding of the function when the error names its
    ``def`` line."""
    if line is None:
        return []
    exact = [d for d in diagnostics if d.line <= line <= max(d.line, d.end_line or d.line)]
    if exact or scope is None:
        return exact
    for cf in scope.compiled:
        if cf.start_line <= line <= cf.end_line:
            inside = [d for d in diagnostics if cf.start_line <= d.line <= cf.end_line]
            if not loose:
                return [d for d in inside if d.line < line and d.code[2:3] == "2"]
            if line <= cf.node.lineno:
                return inside
            return [d for d in inside if d.code[2:3] in ("2", "3")]
    return []


def unit_range(scope: FileScope, unit: str) -> tuple[int, int] | None:
    """Lines of a class, function or ``Class.method`` named by an error report."""
    head, _, rest = unit.partition(".")
    info = scope.module.classes.get(head)
    node: Any = None
    if info is not None:
        node = info.methods.get(rest) if rest else info.node
    else:
        node = scope.module.functions.get(unit)
    if node is None:
        return None
    start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
    return start, node.end_lineno or node.lineno
