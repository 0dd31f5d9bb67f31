"""Which files to check, and reading and writing them without losing a byte."""

from __future__ import annotations

import fnmatch
import functools
import io
import os
import re
import stat
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 16 * 1024 * 1024
SUFFIXES = (".py", ".ipynb")  # what a directory walk picks up (notebooks: tsscan/notebook.py)

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".eggs",
    "*.egg-info",
    ".tsscan_cache",
)


class FileError(Exception):
    """A path that cannot be checked; the message is one line and names no path."""


@dataclass
class Source:
    path: str
    raw: bytes
    text: str
    encoding: str  # as tokenize.detect_encoding says ('utf-8-sig' keeps a BOM)


_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split where Python's tokenizer splits them (``\\n``, ``\\r\\n``,
    ``\\r``) -- not where ``str.splitlines`` does (form feed, ``\\x1c``, ``\\u2028`` ... are not line
    breaks in source, and splitting there would shift every line number after them)."""
    return _LINE_RE.findall(text)


def line_map(old: str, new: str) -> Callable[[int], int]:
    """Line N of ``old`` -> its line in ``new`` (a changed line: where its replacement starts).

    The lines the two texts share at the start and at the end map by offset; the changed middle
    is matched with difflib (fixes are local, so the middle is small; a big one is matched with
    difflib's autojunk heuristic, which keeps it near linear)."""
    import difflib

    a, b = split_lines(old), split_lines(new)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    blocks = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=len(mid_a) > 2000).get_opcodes()

    def where(n: int) -> int:
        i = n - 1
        if i < head:
            return n
        if i >= len(a) - tail:
            return n + len(b) - len(a)
        i -= head
        for tag, i1, i2, j1, j2 in blocks:
            if i1 <= i < i2:
                if tag == "equal":
                    return head + j1 + (i - i1) + 1
                return head + min(j1 + (i - i1), max(j1, j2 - 1)) + 1
        return n

    return where


def newline_of(text: str) -> str:
    """The file's first line ending (``\n`` when it has none)."""
    m = re.search(r"\r\n|\r|\n", text)
    return m.group() if m else "\n"


def _excluded(rel_parts: Sequence[str], patterns: Sequence[str]) -> bool:
    """Whether a pattern (fnmatch) matches a component of the path, the path (relative to the
    walk's root, ``/``-separated) or a directory above it."""
    part_re, rel_re = _pattern_res(tuple(patterns))
    return any(part_re.match(os.path.normcase(part)) for part in rel_parts) or bool(
        rel_re.match(os.path.normcase("/".join(rel_parts)))
    )


@functools.lru_cache(maxsize=64)
def _pattern_res(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The patterns as two regular expressions (as ``fnmatch.fnmatch`` reads each), made once per
    set of patterns: a walk asks about every file and directory, with about 40 patterns."""
    pats = [p.rstrip("/") for p in patterns]
    if not pats:
        never = re.compile(r"(?!)")
        return never, never

    def regex(pattern: str) -> str:
        return fnmatch.translate(os.path.normcase(pattern))

    part = "|".join(regex(p) for p in pats)
    rel = "|".join(f"{regex(p)}|{regex(p + '/*')}" for p in pats)
    return re.compile(part), re.compile(rel)


def iter_files(
    paths: Sequence[str],
    exclude: Sequence[str] = (),
    root: str | Path | None = None,
    excluded: Callable[[str], bool] | None = None,
    force_exclude: bool = False,
    suffixes: tuple[str, ...] = (".py",),
) -> Iterator[tuple[str, str | None]]:
    """Yield ``(path, None)`` for each file to check and ``(path, error)`` for each path that
    cannot be walked. Files named explicitly are checked whatever their name (unless
    ``force_exclude``, as ruff's ``--force-exclude``); directories are walked for files ending
    in ``suffixes`` (``tsscan check`` passes :data:`SUFFIXES`) (no symlinked directories, so no loops), skipping excluded paths: those
    ``excluded(path)`` says, else the ``exclude`` patterns and :data:`DEFAULT_EXCLUDE` (fnmatch
    on any path component or on the path relative to ``root``)."""
    if excluded is None:
        patterns = list(DEFAULT_EXCLUDE) + list(exclude)
        base = Path(root).resolve() if root else None

        def excluded(path: str) -> bool:
            return _excluded(_rel(base, path), patterns)

    seen = set()
    for p in paths:
        if not os.path.lexists(p):
            yield p, "no such file or directory"
            continue
        if os.path.isdir(p):
            if force_exclude and excluded(p):
                continue
            errors: list[OSError] = []
            for dirpath, dirnames, filenames in os.walk(p, onerror=errors.append):
                dirnames[:] = sorted(
                    d
                    for d in dirnames
                    if not excluded(os.path.join(dirpath, d)) and not os.path.islink(os.path.join(dirpath, d))
                )
                for name in sorted(filenames):
                    if not name.endswith(suffixes):
                        continue
                    full = os.path.join(dirpath, name)
                    if excluded(full):
                        continue
                    key = os.path.realpath(full)
                    if key not in seen:
                        seen.add(key)
                        yield full, None
            for err in errors:
                yield (err.filename or p), _os_message(err)
        else:
            if force_exclude and excluded(p):
                continue
            key = os.path.realpath(p)
            if key not in seen:
                seen.add(key)
                yield p, None


def is_excluded(path: str, patterns: Sequence[str], root: str | Path | None) -> bool:
    """Whether a walk rooted at ``root`` skips ``path`` for ``patterns`` (plus the defaults)."""
    return _excluded(_rel(_resolved(str(root)) if root else None, path), [*DEFAULT_EXCLUDE, *patterns])


@functools.lru_cache(maxsize=256)
def _resolved(root: str) -> Path:
    return Path(root).resolve()


def _rel(base: Path | None, path: str) -> list[str]:
    full = os.path.abspath(path)
    if base is not None:
        prefix = str(base)
        if full == prefix:
            return []
        prefix = prefix if prefix.endswith(os.sep) else prefix + os.sep
        # Path.relative_to, without building Paths for every file
        if os.path.normcase(full).startswith(os.path.normcase(prefix)):
            return full[len(prefix) :].split(os.sep)
    return [part for part in Path(path).parts if part not in (".", "..")]


def _os_message(err: OSError) -> str:
    return (err.strerror or str(err)).lower()


def read_source(path: str, max_bytes: int = MAX_BYTES) -> Source:
    try:
        # O_NONBLOCK: opening a FIFO named *.py must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FileError("not a regular file (a FIFO, socket or device), skipped")
            raw = f.read(max_bytes + 1)
    except IsADirectoryError:
        raise FileError("is a directory") from None
    except OSError as err:
        raise FileError(f"cannot read: {_os_message(err)}") from None
    if len(raw) > max_bytes:
        raise FileError(f"file too large (over {max_bytes // (1024 * 1024)} MiB), skipped")
    return decode(path, raw)


def decode(path: str, raw: bytes) -> Source:
    if b"\x00" in raw:
        raise FileError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as err:
        raise FileError(f"bad encoding declaration: {err}") from None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as err:
        reason = err.reason if isinstance(err, UnicodeDecodeError) else str(err)
        if isinstance(err, UnicodeDecodeError):
            line = raw[: err.start].count(b"\n") + 1
            reason = f"line {line}: {reason}"
        raise FileError(f"cannot decode as {encoding}: {reason}") from None
    if encoding == "utf-8-sig" and text.startswith("\ufeff"):
        text = text[1:]
    return Source(path, raw, text, encoding)


def encode(source: Source, text: str) -> bytes:
    return text.encode(source.encoding)


def write_atomic(source: Source, text: str) -> bool:
    """Write ``text`` over ``source.path`` if the file still holds what was read.

    Returns False (and writes nothing) when it changed on disk since. The write is a temp file
    in the same directory renamed over the original, keeping its permission bits (and owner,
    where allowed); a symlink is written through, not replaced. Writers from other tsscan
    processes are serialised by an advisory lock on the directory (POSIX), so the last look and
    the rename cannot interleave with theirs."""
    try:
        data = encode(source, text)
    except UnicodeEncodeError as err:
        raise FileError(f"cannot write: the fix is not encodable as {source.encoding}: {err.reason}") from None
    path = os.path.realpath(source.path)
    directory = os.path.dirname(path)
    try:
        with _DirLock(directory):
            return _write_locked(source, path, directory, data)
    except OSError as err:
        raise FileError(f"cannot write: {_os_message(err)}") from None


def _write_locked(source: Source, path: str, directory: str, data: bytes) -> bool:
    with open(path, "rb") as f:
        current = f.read()
    if current == data:
        return True  # already holds the fixed text (another run fixed it the same way)
    if current != source.raw:
        return False
    st = os.stat(path)
    import tempfile  # only when writing

    fd, tmp = tempfile.mkstemp(prefix=".tsscan-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass  # not allowed: the file becomes ours, as with any editor's save
        # last look: a writer that came in meanwhile wins, we skip
        with open(path, "rb") as f:
            if f.read() != source.raw:
                os.unlink(tmp)
                return False
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


class _DirLock:
    """``flock`` on a directory for the duration of a write (no-op where unsupported)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.fd: int | None = None

    def __enter__(self) -> _DirLock:
        try:
            import fcntl
        except ImportError:  # Windows
            return self
        try:
            self.fd = os.open(self.directory, os.O_RDONLY)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None
