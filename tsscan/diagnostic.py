"""What a check finds, as plain data: importable without libcst (``tsscan.rule`` re-exports it).

Kept apart from :mod:`tsscan.rule` so that a run answered from the cache, and the report, do
not import libcst (a fifth of a second of start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

SAFE = "safe"
UNSAFE = "unsafe"


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int  # 1-based
    col: int  # 1-based
    code: str
    message: str
    name: str = ""
    end_line: int = 0
    end_col: int = 0
    fix: str | None = None  # None, "safe" or "unsafe"
    fix_description: str = ""
    cell: int | None = None  # in a notebook: the code cell (1-based) that line and col are in

    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.path, self.cell or 0, self.line, self.col, self.code)
