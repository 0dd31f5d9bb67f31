"""The package index as the runner uses it: built once per run over the files given (and the
files of their packages that compiled code reaches), its per-file summaries cached by content.
See :mod:`tsscan.semantic.index`; :mod:`tsscan.runner` checks each file with what the index
says other files compile in it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tsscan.cache import digest
from tsscan.config import ConfigError
from tsscan.semantic.built import Built

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.semantic.summaries import Summary


def index_key(external: Mapping[str, str], roots_only: bool) -> tuple[str, ...]:
    """What a file's cached result depends on besides its bytes: what other files compile in it."""
    return (
        *(f"compiled-from:{name}:{note}" for name, note in sorted(external.items())),
        *(["roots-only"] * roots_only),
    )


def package_index(loaded, use_cache: bool, configs: Any) -> Built:
    """The package index (:func:`tsscan.semantic.index.build`) of the loaded files (``(path,
    path read, FileConfig, Source, notebook)`` of :func:`tsscan.runner.check_paths`): what each
    file's compiled code compiles in the others, and the files of their packages that it reaches
    besides. Summaries are cached by content under the first file's project root; a run over the
    same unchanged files (and unchanged files reached) reads the whole result at once, without
    importing the index's builder (nor what it imports: a warm run stays cheap)."""
    files = {path: source.text for path, config_path, _, source, nb in loaded if nb is None and config_path != "-"}
    if not files:
        return Built()
    store = None
    cache = None
    if use_cache:
        from tsscan.cache import SummaryCache

        cache = SummaryCache(loaded[0][2].settings.root)

        def get(key: str) -> Summary | None:
            from tsscan.semantic.summaries import Summary

            value = cache.get(key) if cache is not None else None
            try:
                return Summary.from_json(value) if isinstance(value, list) else None
            except (TypeError, ValueError, IndexError):
                return None  # written by something else: a miss

        def put(key: str, summary: Summary) -> None:
            if cache is not None:
                cache.put(key, summary.to_json())

        store = (get, put)
    run_key = _run_key(files)
    if cache is not None and (known := _known_run(cache.entries.get(run_key))) is not None:
        return known  # no file changed since a run over the same files: its result
    from tsscan.semantic.index import build

    built = build(files, store, cache.key if cache is not None else None)
    if cache is not None:
        cache.put(
            run_key, [built.roots, {p: digest(t.encode("utf-8", "surrogatepass")) for p, t in built.read.items()}]
        )
        cache.save()
    return built


def _run_key(files: Mapping[str, str]) -> str:
    """The files given, by name and content (a run over the same unchanged files)."""
    parts = [(os.fsencode(os.path.abspath(p)), t.encode("utf-8", "surrogatepass")) for p, t in files.items()]
    return "run:" + digest(*(x for pair in sorted(parts) for x in pair))


def _known_run(value: object) -> Built | None:
    """The index a run over the same files found, if the files it read besides are unchanged."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], dict) and isinstance(value[1], dict)):
        return None
    read = {}
    for path, want in value[1].items():
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if digest(text.encode("utf-8", "surrogatepass")) != want:
            return None
        read[path] = text
    try:
        roots = {str(p): {str(n): str(note) for n, note in names.items()} for p, names in value[0].items()}
    except AttributeError:
        return None  # written by something else: a miss
    return Built(roots, {p: t for p, t in read.items() if p in roots}, read)


def reached_files(built: Built, configs: Any) -> list[tuple[str, str, Any]]:
    """The files read only because compiled code of the files given reaches into them, with
    their configuration (those excluded, or whose configuration is bad, are left out)."""
    out = []
    for path, text in sorted(built.extra.items()):
        if configs.excluded(path):
            continue
        try:
            out.append((path, text, configs.for_file(path)))
        except ConfigError:
            continue  # said when one of its files is given
    return out
