"""Results of earlier checks, so that a second run over unchanged files costs almost nothing.

The cache lives in ``.tsscan_cache/`` at the project root (the directory of the
``pyproject.toml`` the settings came from, else the current directory)::

    .tsscan_cache/
        .gitignore            "*": never committed
        CACHEDIR.TAG          backup tools skip the directory
        <tsscan version>/<fingerprint>.json

The *fingerprint* names everything a file's result depends on besides the file itself: the
tsscan version and the bytes of its own code and data (an editable install changes without a
new version), the Python and libcst versions (they decide what parses), the content of every
rule file, the rule selection and the target torch version. A change to any of them gives a
new fingerprint, hence a fresh, empty cache file: nothing is invalidated in place.

Inside a cache file, each entry is keyed by the file's absolute path and holds a digest of the
file's bytes and of its per-file ignores; an entry is used only if both match. Diagnostics are
stored without their path (the path is the one this run was given).

Writes are atomic (temp file and rename) and merge with what another run wrote meanwhile. A
cache file that cannot be read or parsed is treated as empty; a cache directory that cannot be
written is not an error: the run just is not cached.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from tsscan import __version__
from tsscan.diagnostic import Diagnostic

CACHE_DIR = ".tsscan_cache"
KEEP = 8  # cache files kept per tsscan version (one per fingerprint, newest first)
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by tsscan.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


try:
    from _blake2 import blake2b  # what hashlib.blake2b is, without loading OpenSSL first
except ImportError:  # pragma: no cover
    from hashlib import blake2b


def digest(*parts: bytes) -> str:
    h = blake2b(digest_size=16)
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _package_bytes() -> Iterable[bytes]:
    """tsscan's own code and data, in a stable order (names relative to the package, each
    followed by the file's bytes)."""
    here = os.path.dirname(os.path.realpath(__file__))
    for dirpath, dirnames, filenames in os.walk(here):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel = os.path.relpath(dirpath, here)
        for name in sorted(filenames):
            if name.endswith((".py", ".json", ".toml", ".txt")):
                yield (name if rel == "." else os.path.join(rel, name)).encode()
                with open(os.path.join(dirpath, name), "rb") as f:
                    yield f.read()


def package_digest() -> bytes:
    """One digest of :func:`_package_bytes`, read once per process (the fingerprint of every
    cache file and the summaries' :func:`code_digest` both depend on it)."""
    global _PACKAGE_DIGEST
    if _PACKAGE_DIGEST is None:
        _PACKAGE_DIGEST = digest(*_package_bytes()).encode()
    return _PACKAGE_DIGEST


_PACKAGE_DIGEST: bytes | None = None


def _libcst_version() -> bytes:
    import importlib.util

    spec = importlib.util.find_spec("libcst")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return b"no libcst"
    try:
        return (Path(list(spec.submodule_search_locations)[0]) / "_version.py").read_bytes()
    except OSError:
        return b"libcst, version unknown"


def rule_files(rule_dirs: Sequence[Path]) -> list[Path]:
    """Every ``.py`` file of the users' rule directories (helper modules starting with ``_``
    too). The built-in rules are part of tsscan's own code (:func:`_package_bytes`)."""
    out: list[Path] = []
    for d in rule_dirs:
        d = Path(d).resolve()
        if d.is_dir():
            out.extend(sorted(d.glob("*.py")))
    return out


def fingerprint(
    rule_dirs: Sequence[Path],
    select: Sequence[str],
    ignore: Sequence[str],
    target_version: str,
    options: dict | None = None,
) -> str:
    parts: list[bytes] = [
        __version__.encode(),
        sys.version.encode(),
        _libcst_version(),
        json.dumps([list(select), list(ignore), target_version, options or {}], sort_keys=True, default=str).encode(),
    ]
    parts.append(package_digest())
    for path in rule_files(rule_dirs):
        parts.append(str(path).encode())
        parts.append(path.read_bytes())
    return digest(*parts)


class Cache:
    """One cache file: ``get`` and ``put`` results, ``save`` the new ones."""

    def __init__(self, root: Path, fingerprint: str) -> None:
        self.dir = Path(root) / CACHE_DIR
        self.file = self.dir / __version__ / f"{fingerprint}.json"
        self.entries: dict[str, list] = {}
        self.new: dict[str, list] = {}
        self._load()

    # an entry: [key digest, diagnostics (dicts without path), errors]
    def _load(self) -> None:
        try:
            with open(self.file, "rb") as f:
                data = json.loads(f.read())
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and isinstance(data.get("entries"), dict):
            self.entries = data["entries"]

    # the package index's result for a set of files (tsscan.semantic.index), stored under the
    # cache directory's own path: an entry whose "file" exists, so saving keeps it. Kept for
    # callers of the earlier API; the runner keeps per-file summaries (:class:`SummaryCache`).
    def get_roots(self, key: str) -> dict[str, frozenset[str]] | None:
        entry = self.entries.get(str(self.dir))
        if not isinstance(entry, list) or len(entry) < 2 or entry[0] != key or not isinstance(entry[1], dict):
            return None
        return {str(p): frozenset(str(n) for n in names) for p, names in entry[1].items()}

    def put_roots(self, key: str, roots: dict[str, frozenset[str]]) -> None:
        self.new[str(self.dir)] = [key, {p: sorted(names) for p, names in roots.items()}, []]

    @staticmethod
    def key(raw: bytes, extra_ignore: Sequence[str]) -> str:
        return digest(raw, ",".join(extra_ignore).encode())

    def get(self, path: str, key: str) -> tuple[list, list[str]] | None:
        """``(diagnostics, errors)`` stored for ``path`` with this ``key``, else None."""
        entry = self.entries.get(os.path.abspath(path))
        try:
            if entry is None or entry[0] != key:
                return None
            diagnostics = [Diagnostic(path=path, **d) for d in entry[1]]
            errors = [str(e) for e in entry[2]]
        except (TypeError, ValueError, IndexError, KeyError):
            return None  # written by something else: a miss, not a crash
        return diagnostics, errors

    def put(self, path: str, key: str, diagnostics: Sequence, errors: Sequence[str]) -> None:
        diags = []
        for d in diagnostics:
            fields = dataclasses.asdict(d)
            del fields["path"]
            diags.append(fields)
        self.new[os.path.abspath(path)] = [key, diags, list(errors)]

    def save(self) -> None:
        """Write the new entries (merged with the file as it is now); never raises."""
        if not self.new:
            return
        try:
            self._prepare_dir()
            current: dict[str, list] = {}
            try:
                with open(self.file, "rb") as f:
                    data = json.loads(f.read())
                if isinstance(data, dict) and isinstance(data.get("entries"), dict):
                    current = data["entries"]
            except (OSError, ValueError):
                pass
            current.update(self.new)
            # files that are gone take their entries with them
            current = {p: e for p, e in current.items() if p in self.new or os.path.exists(p)}
            payload = json.dumps({"tsscan": __version__, "entries": current}, separators=(",", ":")).encode()
            _replace(self.file, payload)
            self.entries = current
            self.new = {}
            self._prune()
        except OSError:
            pass  # a read-only checkout, a full disk: the next run checks again

    def _prepare_dir(self) -> None:
        _prepare_dir(self.dir, self.file)

    def _prune(self) -> None:
        """Keep the newest :data:`KEEP` cache files of this version (older settings)."""
        files = sorted(self.file.parent.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP:]:
            try:
                old.unlink()
            except OSError:
                pass


def _replace(file: Path, payload: bytes) -> None:
    """Write ``file`` atomically (a temporary file beside it, renamed over it)."""
    import tempfile  # only when writing: a run answered from the cache does not need it

    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=file.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, file)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _prepare_dir(cache_dir: Path, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    for name, text in ((".gitignore", "# created by tsscan\n*\n"), ("CACHEDIR.TAG", CACHEDIR_TAG)):
        p = cache_dir / name
        if not p.exists():
            p.write_text(text, encoding="utf-8")


def code_digest() -> str:
    """A digest of tsscan's own code and data (what a summary of a file depends on besides it)."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        _CODE_DIGEST = digest(__version__.encode(), sys.version.encode(), package_digest())
    return _CODE_DIGEST


_CODE_DIGEST: str | None = None
SUMMARIES_KEPT = 50_000  # summaries kept in the file besides those of the last run


class SummaryCache:
    """Per-file summaries of the package index (:mod:`tsscan.semantic.index`), kept by content
    in ``.tsscan_cache/<version>/index/<code digest>.json`` (plain JSON: a cache directory
    checked out with a project is read as data, never run). :meth:`get` and :meth:`put` plain
    JSON values under keys made with :meth:`key`; :meth:`save` writes them atomically, merged
    with what another run wrote meanwhile; it never raises."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / CACHE_DIR
        # not beside the cache files: Cache._prune keeps only the newest few of those
        self.file = self.dir / __version__ / "index" / f"{code_digest()}.json"
        self.entries: dict[str, object] = self._read()
        self.used: dict[str, object] = {}

    def _read(self) -> dict[str, object]:
        try:
            with open(self.file, "rb") as f:
                data = json.loads(f.read())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def key(path: str, text: str, roots: Mapping[str, str], roots_only: bool = False) -> str:
        return digest(
            os.fsencode(os.path.abspath(path)),
            text.encode("utf-8", "surrogatepass"),
            json.dumps([dict(roots), roots_only], sort_keys=True).encode(),
        )

    def get(self, key: str) -> object | None:
        value = self.entries.get(key)
        if value is not None:
            self.used[key] = value
        return value

    def put(self, key: str, value: object) -> None:
        self.used[key] = value

    def save(self) -> None:
        if all(k in self.entries for k in self.used):
            return  # nothing new
        try:
            _prepare_dir(self.dir, self.file)
            current = self._read()
            kept = dict(list(current.items())[-SUMMARIES_KEPT:])
            kept.update(self.used)
            payload = json.dumps(kept, separators=(",", ":")).encode()
            _replace(self.file, payload)
            self.entries = kept
        except OSError:
            pass  # a read-only checkout, a full disk: the next run summarises again
