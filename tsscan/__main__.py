import os
import sys

# ``python -m tsscan`` puts the current directory first on sys.path, so a project file named
# like a module tsscan imports (libcst.py, tokenize.py ...) would run. Checking runs no user
# code (docs/safety.md): drop that entry, as ``python -m pip`` does.
if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)

from tsscan.cli import main  # noqa: E402

sys.exit(main())
