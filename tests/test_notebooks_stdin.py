"""Notebooks and stdin through the real CLI: a notebook's code cells are checked with
cell-relative positions and never rewritten; ``tsscan check - --stdin-filename PATH`` checks what
it reads as PATH (with PATH's configuration), and ``--fix`` on stdin prints the fixed text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOOD = """import torch
from torch import nn


class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
"""


def tsscan(cwd: Path, *args: str, stdin: bytes = b""):
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", *args], cwd=cwd, input=stdin, capture_output=True, timeout=300
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def notebook(path: Path) -> bytes:
    code = [
        ["%matplotlib inline\n", "import torch\n", "from torch import nn\n"],
        [
            "class M(nn.Module):\n",
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n",
            "        return x.bool()\n",
        ],
        "m = torch.jit.script(M())\n!ls",
        ["%%time\n", "this is not python\n"],
    ]
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# A model\n"]}]
    cells += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c} for c in code]
    data = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
    path.write_bytes(data)
    return data


def test_notebook_cells_are_checked_with_cell_positions(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    notebook(tmp_path / "nb.ipynb")
    code, out, err = tsscan(tmp_path, "nb.ipynb")
    assert code == 1, err
    assert out.splitlines()[0].startswith("nb.ipynb:cell 2:3:16: TS401 ")
    doc = json.loads(tsscan(tmp_path, "--format", "json", "nb.ipynb")[1])
    d = doc["diagnostics"][0]
    assert (d["cell"], d["line"], d["column"]) == (2, 3, 16)
    # a directory walk picks notebooks up too
    code, out, _ = tsscan(tmp_path, ".")
    assert "nb.ipynb:cell 2:3:16: TS401" in out


def test_fix_never_writes_a_notebook(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    before = notebook(tmp_path / "nb.ipynb")
    code, out, err = tsscan(tmp_path, "--fix", "--no-verify", "nb.ipynb")
    assert code == 1 and (tmp_path / "nb.ipynb").read_bytes() == before
    assert "nb.ipynb: notebooks are checked, not fixed" in out
    code, out, _ = tsscan(tmp_path, "--add-noqa", "nb.ipynb")
    assert (tmp_path / "nb.ipynb").read_bytes() == before


def test_a_broken_notebook_is_one_error_and_the_rest_is_checked(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "good.py").write_text(GOOD)
    code, out, err = tsscan(tmp_path, "bad.ipynb", "good.py")
    assert code == 2 and "good.py:7:16: TS401" in out
    assert err.splitlines() == [err.splitlines()[0]] and "bad.ipynb: not a notebook: invalid JSON" in err
    assert "Traceback" not in err


def test_stdin_is_checked_as_the_named_file(tmp_path):
    (tmp_path / "pa").mkdir()
    (tmp_path / "pa" / "pyproject.toml").write_text('[tool.tsscan]\nignore = ["TS401"]\n')
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    code, out, _ = tsscan(tmp_path, "-", "--stdin-filename", "models/m.py", stdin=GOOD.encode())
    assert code == 1 and "models/m.py:7:16: TS401" in out
    code, out, _ = tsscan(tmp_path, "--stdin-filename", "pa/m.py", stdin=GOOD.encode())  # its config
    assert code == 0, out
    code, out, _ = tsscan(tmp_path, "-", stdin=b"def f(:\n")
    assert code == 2


def test_fix_on_stdin_prints_the_fixed_text(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    code, out, err = tsscan(tmp_path, "--fix", "--no-verify", "-", "--stdin-filename", "m.py", stdin=GOOD.encode())
    assert out == GOOD.replace("x.bool()", "x.to(torch.bool)")
    assert "(1 fixed, 0 remaining)" in err and code == 0
    assert not (tmp_path / "m.py").exists()
