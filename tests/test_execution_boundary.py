"""Checking never imports or runs the code it checks; only confirmation (the verify worker) does.

Every module of the project below has a visible side effect on import: it writes a marker
file. The tree also shadows ``torch``, ``numpy`` and ``libcst`` with such modules, so any
import of them with the project on ``sys.path`` (``python -m tsscan`` puts the current
directory first) would leave a marker too. See docs/safety.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SIDE_EFFECT = """import os as _os
open(_os.path.join({root!r}, "EXECUTED_" + {name!r}), "w").close()
"""

MODEL = """import torch
from torch import nn


class Head(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
"""


def project(root: Path, shadow: bool = True) -> Path:
    (root / "pyproject.toml").write_text("[tool.tsscan]\n")
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(SIDE_EFFECT.format(root=str(root), name="pkg"))
    (pkg / "model.py").write_text(SIDE_EFFECT.format(root=str(root), name="model") + MODEL)
    (root / "setup.py").write_text(SIDE_EFFECT.format(root=str(root), name="setup"))
    (root / "conftest.py").write_text(SIDE_EFFECT.format(root=str(root), name="conftest"))
    if shadow:
        for name in ("torch", "numpy", "libcst"):
            (root / f"{name}.py").write_text(SIDE_EFFECT.format(root=str(root), name=name))
    return root


def markers(root: Path):
    return sorted(p.name for p in root.glob("EXECUTED_*"))


def run(root: Path, *args: str, module: bool = False) -> subprocess.CompletedProcess:
    if module:
        cmd = [sys.executable, "-m", "tsscan", *args]
    else:  # the console script, as users and pre-commit run it: this venv's, never one on PATH
        script = Path(sys.executable).parent / "tsscan"
        assert script.is_file(), f"no tsscan console script next to {sys.executable}"
        cmd = [str(script), *args]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("module", [False, True], ids=["script", "python-m"])
def test_checking_and_fixing_without_verify_run_no_user_code(tmp_path, module):
    root = project(tmp_path)
    before = (root / "pkg" / "model.py").read_text()
    runs = [  # (arguments, exit code): 1 = findings (or, with --diff, something to change)
        (["check", "."], 1),
        (["check", "--no-cache", "--jobs", "2", "."], 1),
        (["check", "."], 1),  # answered from the cache
        (["check", "--format", "json", "--statistics", "."], 1),
        (["--diff", "--no-verify", "."], 1),
        (["rules"], 0),
        (["explain", "TS401"], 0),
    ]
    if module:  # the same code; what differs is sys.path
        runs = [(["check", "--no-cache", "--jobs", "2", "."], 1), (["--diff", "--no-verify", "."], 1)]
    for args, code in runs:
        proc = run(root, *args, module=module)
        assert proc.returncode == code, (args, proc.stdout, proc.stderr)
        assert markers(root) == [], (args, markers(root))
    assert "pkg/model.py:9:16: TS401" in run(root, "check", ".", module=module).stdout
    proc = run(root, "--fix", "--no-verify", ".", module=module)
    assert proc.returncode == 0, proc.stderr
    assert (root / "pkg" / "model.py").read_text() == before.replace("x.bool()", "x.to(torch.bool)")
    assert markers(root) == []


def test_flake8_plugin_runs_no_user_code(tmp_path):
    root = project(tmp_path, shadow=False)
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "TS", "pkg"], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert "TS401" in proc.stdout, (proc.stdout, proc.stderr)
    assert markers(root) == []


def test_checking_never_imports_torch_or_user_modules_in_process(tmp_path):
    """In one process: after a check and a --no-verify fix, neither torch nor the project's
    modules are in sys.modules."""
    root = project(tmp_path, shadow=False)
    code = (
        "import sys, io\n"
        "from tsscan.cli import main\n"
        "main(['check', '--no-cache', '--jobs', '1', '.'], io.StringIO(), io.StringIO())\n"
        "main(['--fix', '--no-verify', '.'], io.StringIO(), io.StringIO())\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'pkg', 'model', 'setup', 'conftest')]\n"
        "print(bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert markers(root) == []


def test_verification_is_where_user_code_runs(tmp_path):
    """The other side of the boundary, documented in docs/safety.md: ``--fix`` (with
    confirmation) imports the module -- in the worker process, not in tsscan."""
    root = project(tmp_path, shadow=False)
    proc = run(root, "--fix", "pkg/model.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # fixed and confirmed: nothing left
    assert "Traceback" not in proc.stderr
    assert "EXECUTED_model" in markers(root)
