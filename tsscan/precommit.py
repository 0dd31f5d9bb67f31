"""Entry point of the pre-commit hooks (``python -m tsscan.precommit [check options] FILE...``).

pre-commit passes the staged files by name, and ``tsscan check`` checks every file it is given
by name. The hooks run ``tsscan check --force-exclude`` (ruff's option, for the same reason):
the files a directory walk would skip (each file's own ``[tool.tsscan] exclude`` and the
built-in excludes such as ``.venv/`` or ``build/``) are skipped, so that ``exclude`` means the
same in the hook as on the command line. Each file gets its own configuration. With no file
left it exits 0 without checking anything.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from tsscan.cli import main as cli_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "check":
        argv = argv[1:]
    if "--force-exclude" not in argv:
        argv = ["--force-exclude", *argv]
    return cli_main(["check", *argv])


if __name__ == "__main__":
    raise SystemExit(main())
