"""Jupyter notebooks: the code cells of ``nb.ipynb`` as one Python text, and positions mapped back.

The code cells are joined in order (a class in one cell, ``torch.jit.script`` in a later one is
one module, as when the notebook runs top to bottom). IPython syntax is not Python: a line
starting with ``%``, ``!`` or ``?`` (or ending with ``?``) becomes ``pass`` at the same
indentation, and a cell starting with a cell magic (``%%time``...) is left out. A finding's
position is cell-relative: ``nb.ipynb:cell 3:2:5`` is line 2, column 5 of the third code cell
(ruff's format). Notebooks are checked, never rewritten: ``--fix`` reports and leaves them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from tsscan.diagnostic import Diagnostic


class NotebookError(ValueError):
    """Not a notebook tsscan can read; the message is one line."""


@dataclasses.dataclass
class NotebookText:
    text: str
    where: list[tuple[int, int]]  # line of text (0-based) -> (code cell, line in the cell), 1-based

    def locate(self, line: int) -> tuple[int, int]:
        if 0 < line <= len(self.where):
            return self.where[line - 1]
        return self.where[-1] if self.where else (1, 1)

    def map(self, d: Diagnostic) -> Diagnostic:
        cell, line = self.locate(d.line)
        end_cell, end_line = self.locate(d.end_line) if d.end_line else (cell, line)
        return dataclasses.replace(d, cell=cell, line=line, end_line=end_line if end_cell == cell else line)


def _magic(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(("%", "!", "?")) or (stripped.endswith("?") and not stripped.startswith("#"))


def code_text(raw: bytes) -> NotebookText:
    """The code cells of a notebook file's bytes, as one text (see the module docstring)."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotebookError(f"not a notebook: invalid JSON: {exc}") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: no list of cells")
    lines: list[str] = []
    where: list[tuple[int, int]] = []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"not a notebook: code cell {number} has no text")
        cell_lines = source.splitlines()
        if cell_lines and cell_lines[0].lstrip().startswith("%%"):
            cell_lines = [""] * len(cell_lines)  # not Python: keep the numbering, drop the code
        for i, line in enumerate(cell_lines, 1):
            if _magic(line):
                line = line[: len(line) - len(line.lstrip())] + "pass"
            lines.append(line + "\n")
            where.append((number, i))
    return NotebookText("".join(lines), where)


def map_diagnostics(nb: NotebookText, diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [nb.map(d) for d in diagnostics]
