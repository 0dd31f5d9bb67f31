"""`tsscan --fix` on realistic modules (issue 12): only compiler-confirmed fixes are written, a
behaviour change is never written, classes whose constructor needs arguments are built.

The CLI runs as users run it (``sys.executable -m tsscan``), with the real torch in its worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


def _src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def tsscan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tsscan", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


PARTIAL = _src("""
    import torch
    from torch import nn


    class Partial(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(4)])
            self.n_active = 2

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for i in range(self.n_active):
                x = self.blocks[i](x)
            return x
""")


def test_behaviour_changing_fix_is_reverted_under_unsafe_fixes(tmp_path):
    """`range(self.n_active)` over 2 of 4 blocks -> `enumerate(self.blocks)` scripts but runs
    all 4: the compiler's outputs differ from eager, so the file is left alone and the exit
    code says a problem remains."""
    path = tmp_path / "partial.py"
    path.write_text(PARTIAL, encoding="utf-8")
    r = tsscan("--fix", "--unsafe-fixes", "partial.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == PARTIAL, r.stdout
    assert r.returncode == 1, r.stdout + r.stderr
    assert "TS310 fix reverted: scripted Partial behaves differently from the original" in r.stdout
    assert "fixed, confirmed" not in r.stdout
    r = tsscan("--fix", "--unsafe-fixes", "--format", "json", "partial.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == PARTIAL
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    assert [(o["code"], o["status"], o["written"]) for o in outcomes] == [("TS310", "reverted", False)]
    assert "behaves differently" in outcomes[0]["reason"]
