"""Progress for long runs: one redrawn line on stderr when it is a terminal, nothing otherwise.

The loop that checks files calls the callback once per finished file; it never needs to know
whether anything is shown (``for_run(total)`` gives the callback, or None when nothing would be
shown; the line is erased after the last file)::

    from tsscan.progress import Progress

    with Progress(total=len(paths)) as progress:
        for path in paths:
            check(path)
            progress(path)          # or progress.advance(path)

Nothing is written when stderr is not a TTY (pipes, files, pre-commit, CI), when ``CI`` or
``TSSCAN_NO_PROGRESS`` is set, or when ``TERM=dumb``; and nothing is written during the first
``delay`` seconds, so short runs never flash a line. The line is erased when the run ends,
before the report is printed. A dozen lines of our own instead of a dependency (tqdm and rich do
far more than this needs).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import TextIO


def wanted(stream: TextIO | None = None) -> bool:
    """Whether progress should be shown on ``stream`` (default: stderr)."""
    stream = sys.stderr if stream is None else stream
    if os.environ.get("CI") or os.environ.get("TSSCAN_NO_PROGRESS"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed stream
        return False


class Progress:
    """``[done/total] last path`` on one terminal line, redrawn at most every ``interval`` s."""

    def __init__(
        self,
        total: int | None = None,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        delay: float = 0.5,
        interval: float = 0.1,
        clock=time.monotonic,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = wanted(self.stream) if enabled is None else enabled
        self.total = total
        self.done = 0
        self.delay = delay
        self.interval = interval
        self._clock = clock
        self._start = clock()
        self._last_draw: float | None = None
        self._drawn = False

    def advance(self, path: str = "", n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.total is not None and self.done >= self.total:
            self.close()  # the last file: erase the line before the report is printed
            return
        now = self._clock()
        if now - self._start < self.delay:
            return
        if self._last_draw is not None and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._draw(path)

    __call__ = advance

    def _draw(self, path: str) -> None:
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        count = f"[{self.done}/{self.total}]" if self.total else f"[{self.done}]"
        line = f"{count} {path}" if path else count
        if len(line) > width:
            keep = width - len(count) - 5
            line = f"{count} ...{path[-keep:]}" if keep > 0 else count[:width]
        try:
            self.stream.write("\r" + line.ljust(width) + "\r")
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False
            return
        self._drawn = True

    def close(self) -> None:
        """Erase the line (if one was drawn)."""
        if self._drawn:
            width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
            try:
                self.stream.write("\r" + " " * width + "\r")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def for_run(total: int, stream: TextIO | None = None) -> Progress | None:
    """The callback for a loop over ``total`` files (``tsscan.runner`` calls it once per file):
    a :class:`Progress` that erases its line after the last file, or None when nothing would
    be shown (not a terminal, CI, or fewer than two files)."""
    if total < 2 or not wanted(stream):
        return None
    return Progress(total=total, stream=stream)
