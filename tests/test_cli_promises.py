"""Every promise of docs/cli.md and docs/configuration.md, one table row each, through the real
CLI (``sys.executable -m tsscan``) on a real project in a temporary directory.

Each row: the files of the project (a ``pyproject.toml`` among them, or none), the arguments,
and the exact (exit code, findings as ``path:line CODE``) expected. Rows whose promise is broken
today and fixed by issue 13 are strict xfails: they turn red (XPASS) the day it is fixed, so
the mark is removed then.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# TS101 on line 7, TS401 on lines 8, 11, 12, 13, 14, 15 (the noqa comments decide which remain)
MODEL = """\
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            y = x.bool()
        except Exception:
            y = x
        a = x.bool()  # noqa: TS401
        b = x.bool()  # noqa: TS4
        c = x.bool()  # noqa: TS1
        d = x.bool()  # noqa:TS402,TS401
        e = x.bool()  # noqa
        return y + c
"""
BOTH = ["m.py:7 TS101", "m.py:8 TS401", "m.py:13 TS401"]


def _toml(table: str) -> str:
    return "[tool.tsscan]\n" + table + "\n"


def run(tmp_path: Path, files: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TSSCAN_NO_PROGRESS")}
    return subprocess.run(
        [sys.executable, "-m", "tsscan", *args, "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def findings(stdout: str) -> list[str]:
    """``path:line CODE`` of each finding line of the text format."""
    out = []
    for line in stdout.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit() and parts[3].startswith(" TS"):
            out.append(f"{parts[0].removeprefix('./')}:{parts[1]} {parts[3].split()[0]}")
    return out


# (id, files, args, exit code, findings)
ROWS = [
    # --- # noqa (docs/cli.md "Suppressing a finding")
    ("noqa-codes-are-prefixes", {"m.py": MODEL}, ["check", "m.py"], 1, BOTH),
    # --- select / ignore / extend (docs/cli.md options; docs/configuration.md select)
    ("select-prefix", {"m.py": MODEL}, ["check", "m.py", "--select", "TS1"], 1, ["m.py:7 TS101"]),
    ("select-list", {"m.py": MODEL}, ["check", "m.py", "--select", "TS101,TS401"], 1, BOTH),
    ("ignore-prefix", {"m.py": MODEL}, ["check", "m.py", "--ignore", "TS4"], 1, ["m.py:7 TS101"]),
    ("ignore-all", {"m.py": MODEL}, ["check", "m.py", "--ignore", "TS"], 0, []),
    (
        "longer-select-beats-ignore",
        {"m.py": MODEL},
        ["check", "m.py", "--select", "TS4", "--ignore", "TS"],
        1,
        BOTH[1:],
    ),
    (
        "longer-ignore-beats-select",
        {"m.py": MODEL},
        ["check", "m.py", "--select", "TS", "--ignore", "TS401"],
        1,
        ["m.py:7 TS101"],
    ),
    (
        "extend-select-longest-wins",
        {"m.py": MODEL},
        ["check", "m.py", "--select", "TS", "--ignore", "TS4", "--extend-select", "TS401"],
        1,
        BOTH,
    ),
    ("extend-ignore", {"m.py": MODEL}, ["check", "m.py", "--extend-ignore", "TS101"], 1, BOTH[1:]),
    # the documented example: select TS, ignore TS2, extend-select TS210 checks TS210 only of TS2xx
    (
        "config-select-ignore",
        {"m.py": MODEL, "pyproject.toml": _toml('select = ["TS"]\nignore = ["TS4"]')},
        ["check", "m.py"],
        1,
        ["m.py:7 TS101"],
    ),
    (
        "config-extend-select",
        {"m.py": MODEL, "pyproject.toml": _toml('select = ["TS"]\nignore = ["TS4"]\nextend-select = ["TS401"]')},
        ["check", "m.py"],
        1,
        BOTH,
    ),
    (
        "config-extend-ignore",
        {"m.py": MODEL, "pyproject.toml": _toml('extend-ignore = ["TS1"]')},
        ["check", "m.py"],
        1,
        BOTH[1:],
    ),
    (
        "cli-select-replaces-config-select",
        {"m.py": MODEL, "pyproject.toml": _toml('select = ["TS1"]')},
        ["check", "m.py", "--select", "TS4"],
        1,
        BOTH[1:],
    ),
    (
        "cli-ignore-replaces-config-ignore",
        {"m.py": MODEL, "pyproject.toml": _toml('ignore = ["TS1"]')},
        ["check", "m.py", "--ignore", "TS4"],
        1,
        ["m.py:7 TS101"],
    ),
    (
        "cli-extend-ignore-adds-to-config",
        {"m.py": MODEL, "pyproject.toml": _toml('ignore = ["TS1"]')},
        ["check", "m.py", "--extend-ignore", "TS4"],
        0,
        [],
    ),
    # --- per-file-ignores: a glob on the path relative to pyproject.toml, or the file name
    (
        "per-file-ignores-path",
        {"m.py": MODEL, "pyproject.toml": _toml('per-file-ignores = {"m.py" = ["TS1"]}')},
        ["check", "m.py"],
        1,
        BOTH[1:],
    ),
    (
        "per-file-ignores-glob",
        {"pkg/m.py": MODEL, "m.py": MODEL, "pyproject.toml": _toml('per-file-ignores = {"pkg/*" = ["TS"]}')},
        ["check", "."],
        1,
        BOTH,
    ),
    (
        "per-file-ignores-file-name",
        {"pkg/sub/m.py": MODEL, "pyproject.toml": _toml('per-file-ignores = {"m.py" = ["TS4"]}')},
        ["check", "pkg"],
        1,
        ["pkg/sub/m.py:7 TS101"],
    ),
    (
        "per-file-ignores-other-file",
        {"m.py": MODEL, "pyproject.toml": _toml('per-file-ignores = {"other.py" = ["TS"]}')},
        ["check", "m.py"],
        1,
        BOTH,
    ),
    # --- exclude: skipped when walking, checked when named
    (
        "exclude-walk",
        {"m.py": MODEL, "legacy/m.py": MODEL, "pyproject.toml": _toml('exclude = ["legacy/"]')},
        ["check", "."],
        1,
        BOTH,
    ),
    (
        "exclude-named-file-is-checked",
        {"legacy/m.py": MODEL, "pyproject.toml": _toml('exclude = ["legacy/"]')},
        ["check", "legacy/m.py"],
        1,
        ["legacy/m.py:7 TS101", "legacy/m.py:8 TS401", "legacy/m.py:13 TS401"],
    ),
    # --- --config names the pyproject.toml to read
    (
        "config-option",
        {"m.py": MODEL, "other.toml": _toml('ignore = ["TS4"]'), "pyproject.toml": _toml('ignore = ["TS1"]')},
        ["check", "m.py", "--config", "other.toml"],
        1,
        ["m.py:7 TS101"],
    ),
    # --- exit codes
    ("exit-zero", {"m.py": MODEL}, ["check", "m.py", "--exit-zero"], 0, BOTH),
    ("clean-file", {"m.py": "x = 1\n"}, ["check", "m.py"], 0, []),
    ("unparsable-file", {"m.py": "def f(:\n"}, ["check", "m.py"], 2, []),
    ("missing-path", {}, ["check", "nowhere.py"], 2, []),
    ("unknown-key", {"m.py": MODEL, "pyproject.toml": _toml("selct = []")}, ["check", "m.py"], 2, []),
    ("unknown-option", {"m.py": MODEL}, ["check", "m.py", "--selekt", "TS1"], 2, []),
    # --- promises issue 13 made true (strict xfails until it landed)
    pytest.param("unknown-selector", {"m.py": MODEL}, ["check", "m.py", "--select", "XYZ"], 2, []),
    pytest.param(
        "unknown-selector-config",
        {"m.py": MODEL, "pyproject.toml": _toml('select = ["BOGUS"]')},
        ["check", "m.py"],
        2,
        [],
    ),
    pytest.param(
        "unknown-verify-key",
        {"m.py": MODEL, "pyproject.toml": _toml("[tool.tsscan.verify]\npyton = 'python3'")},
        ["check", "m.py"],
        2,
        [],
    ),
    # each file gets the configuration nearest to it, whatever the order of the paths
    pytest.param(
        "per-file-configuration",
        {"pa/m.py": MODEL, "pb/m.py": MODEL, "pb/pyproject.toml": _toml('ignore = ["TS"]')},
        ["check", "pa/m.py", "pb/m.py"],
        1,
        ["pa/m.py:7 TS101", "pa/m.py:8 TS401", "pa/m.py:13 TS401"],
    ),
    pytest.param(
        "per-file-configuration-other-order",
        {"pa/m.py": MODEL, "pb/m.py": MODEL, "pb/pyproject.toml": _toml('ignore = ["TS"]')},
        ["check", "pb/m.py", "pa/m.py"],
        1,
        ["pa/m.py:7 TS101", "pa/m.py:8 TS401", "pa/m.py:13 TS401"],
    ),
]


def _row_id(row) -> str:
    return row.values[0] if hasattr(row, "values") else row[0]


@pytest.mark.parametrize("name,files,args,code,expected", ROWS, ids=[_row_id(r) for r in ROWS])
def test_cli_promise(tmp_path, name, files, args, code, expected):
    proc = run(tmp_path, files, *args)
    assert (proc.returncode, findings(proc.stdout)) == (code, expected), proc.stdout + proc.stderr
    if code == 2:  # a clear error line on stderr, never a traceback
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("tsscan: error: "), proc.stderr


def test_statistics_counts_per_code(tmp_path):
    proc = run(tmp_path, {"m.py": MODEL}, "check", "m.py", "--statistics")
    assert proc.returncode == 1
    counts = [ln.split()[:3] for ln in proc.stdout.splitlines() if ln.split()[:1] and ln.split()[0].isdigit()]
    assert counts == [["1", "TS101", "try-except"], ["2", "TS401", "unsupported-tensor-method"]]


def test_output_file_holds_the_report(tmp_path):
    proc = run(tmp_path, {"m.py": MODEL}, "check", "m.py", "-o", "report.txt")
    assert proc.returncode == 1
    assert findings((tmp_path / "report.txt").read_text()) == BOTH
    assert findings(proc.stdout) == []


def test_the_same_findings_from_any_working_directory(tmp_path):
    """Relative paths in [tool.tsscan] are relative to the pyproject.toml, not to the cwd."""
    files = {"proj/pkg/m.py": MODEL, "proj/pyproject.toml": _toml('per-file-ignores = {"pkg/*" = ["TS4"]}')}
    proc = run(tmp_path, files, "check", "proj/pkg/m.py")
    assert (proc.returncode, findings(proc.stdout)) == (1, ["proj/pkg/m.py:7 TS101"])
