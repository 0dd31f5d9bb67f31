"""What the package index (:func:`tsscan.semantic.index.build`) gives the runner, in a module of
its own: a run answered from the cache builds one without importing the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from tsscan.semantic.compiled import FileScope


@dataclass
class Built:
    """What :func:`~tsscan.semantic.index.build` found: per file, what another file's compiled code compiles in it
    (name -> note); the files it read besides those given (path -> text)."""

    roots: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    read: dict[str, str] = field(default_factory=dict)  # every file read besides those given
    # path -> (text, the index's analysis of it): the check of that text starts from it instead
    # of parsing the file and making its module facts again (never cached, never compared)
    analysed: dict[str, tuple[str, FileScope]] = field(default_factory=dict, compare=False, repr=False)
