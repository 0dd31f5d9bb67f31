"""The package index: functions compiled because another file's compiled code calls them are
checked where they are defined (issue 11: package-wide reachability)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tsscan.semantic.index import module_name, package_roots

FILES = {
    "pkg/__init__.py": "from .helpers import pad_to\n",
    "pkg/helpers.py": (
        "import torch\n"
        "\n"
        "def pad_to(x: torch.Tensor, n: int, *args) -> torch.Tensor:\n"
        "    return inner(x) + n\n"
        "\n"
        "def inner(x):\n"
        "    try:\n"
        "        return x\n"
        "    except Exception:\n"
        "        return x\n"
        "\n"
        "def unused_helper(x, **kw):\n"
        "    try:\n"
        "        return x\n"
        "    finally:\n"
        "        pass\n"
        "\n"
        "def third(x):\n"
        "    return x\n"
    ),
    "pkg/sub/__init__.py": "",
    "pkg/sub/model.py": (
        "import torch\n"
        "from torch import nn\n"
        "from .. import pad_to\n"
        "from ..helpers import inner as other\n"
        "from pkg import helpers\n"
        "\n"
        "\n"
        "class M(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        return pad_to(x, 2) + other(x) + helpers.third(x)\n"
    ),
}


def _tree(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_module_names_climb_packages(tmp_path):
    root = _tree(tmp_path)
    assert module_name(root / "pkg/sub/model.py") == "pkg.sub.model"
    assert module_name(root / "pkg/__init__.py") == "pkg"
    (root / "loose.py").write_text("x = 1\n")
    assert module_name(root / "loose.py") == "loose"


def test_roots_follow_relative_imports_reexports_and_module_attributes(tmp_path):
    root = _tree(tmp_path)
    trees = {str(root / rel): ast.parse(text) for rel, text in FILES.items()}
    roots = package_roots(trees)
    assert roots == {str(root / "pkg/helpers.py"): frozenset({"pad_to", "inner", "third"})}


def test_the_cli_checks_a_helper_where_it_is_defined(tmp_path):
    root = _tree(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "check", "--no-cache", "--format", "json", "pkg"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    found = {(Path(d["path"]).as_posix(), d["line"], d["code"]) for d in json.loads(proc.stdout)["diagnostics"]}
    # pad_to's *args (line 3) and inner's try (line 7) are compiled through model.py's forward;
    # unused_helper is called by no compiled code: its **kw and try are not reported
    assert found == {("pkg/helpers.py", 3, "TS201"), ("pkg/helpers.py", 7, "TS101")}
