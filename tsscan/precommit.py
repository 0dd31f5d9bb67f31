"""Entry point of the pre-commit hooks (``python -m tsscan.precommit [check options] FILE...``).

pre-commit passes the staged files by name, and ``tsscan check`` checks every file it is given
by name. This runs ``tsscan check`` on those files minus the ones it would skip while walking a
directory (``[tool.tsscan] exclude`` and the built-in excludes such as ``.venv/`` or
``build/``), so that ``exclude`` means the same in the hook as on the command line.
With no file left it exits 0 without checking anything.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def kept_paths(paths: Sequence[str], config: str | None = None) -> list[str]:
    """``paths`` without those a directory walk would exclude."""
    from tsscan.config import load_settings
    from tsscan.files import DEFAULT_EXCLUDE, _excluded, _rel

    settings = load_settings(list(paths[:1]), config)
    patterns = list(DEFAULT_EXCLUDE) + list(settings.exclude)
    return [p for p in paths if not _excluded(_rel(settings.root, p), patterns)]


def main(argv: Sequence[str] | None = None) -> int:
    from tsscan.cli import EXIT_ERROR, build_parser
    from tsscan.cli import main as cli_main
    from tsscan.config import ConfigError

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "check":
        argv = argv[1:]
    try:
        args, _ = build_parser().parse_known_args(argv)
    except SystemExit as exc:
        return EXIT_ERROR if exc.code else 0
    if not args.paths:
        return cli_main(["check", *argv])
    try:
        kept = set(kept_paths(args.paths, args.config))
    except ConfigError as exc:
        sys.stderr.write(f"tsscan: error: {exc}\n")
        return EXIT_ERROR
    if not kept:
        return 0
    dropped = set(args.paths) - kept
    return cli_main(["check", *[a for a in argv if a not in dropped]])


if __name__ == "__main__":
    raise SystemExit(main())
