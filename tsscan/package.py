"""The package index as the runner uses it: built once per run over the files given (and the
files of their packages that compiled code reaches), its per-file summaries cached by content.
See :mod:`tsscan.semantic.index`; :mod:`tsscan.runner` checks each file with what the index
says other files compile in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tsscan.config import ConfigError
from tsscan.semantic.index import Built


def index_key(external: Mapping[str, str], roots_only: bool) -> tuple[str, ...]:
    """What a file's cached result depends on besides its bytes: what other files compile in it."""
    return (
        *(f"compiled-from:{name}:{note}" for name, note in sorted(external.items())),
        *(["roots-only"] * roots_only),
    )


def package_index(loaded, use_cache: bool, configs: Any) -> Built:
    """The package index of the loaded files (``(path, path read, FileConfig, Source, notebook)``
    of :func:`tsscan.runner.check_paths`; ``configs``: its :class:`~tsscan.runner.Configs`) (:func:`tsscan.semantic.index.build`): what each
    file's compiled code compiles in the others, and the files of their packages that it reaches
    besides. Summaries are cached by content under the first file's project root."""
    from tsscan.semantic.index import Summary, build

    files = {path: source.text for path, config_path, _, source, nb in loaded if nb is None and config_path != "-"}
    if not files:
        return Built()
    store = None
    cache = None
    if use_cache:
        from tsscan.cache import SummaryCache

        cache = SummaryCache(loaded[0][2].settings.root)

        def get(key: str) -> Summary | None:
            value = cache.get(key) if cache is not None else None
            try:
                return Summary.from_json(value) if isinstance(value, list) else None  # type: ignore[arg-type]
            except (TypeError, ValueError, IndexError):
                return None  # written by something else: a miss

        def put(key: str, summary: Summary) -> None:
            if cache is not None:
                cache.put(key, summary.to_json())

        store = (get, put)
    built = build(files, store, cache.key if cache is not None else None)
    if cache is not None:
        cache.save()
    return built


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
