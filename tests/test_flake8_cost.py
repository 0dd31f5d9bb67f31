"""What the flake8 plugin costs: nothing loaded for files without compiled code or when no TS
code is selected, and the content-keyed cache of ``tsscan check`` for files seen before.

Each run is the real flake8 in a fresh process; the process reports which of tsscan's expensive
imports (libcst, the engine) it made."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

COMPILED = textwrap.dedent(
    """\
    import torch


    @torch.jit.script
    def f(x: torch.Tensor) -> torch.Tensor:
        return x.bool()
    """
)
PLAIN = "import os\n\n\ndef f(x):\n    try:\n        return os.fspath(x)\n    except TypeError:\n        return x\n"

RUN = """
import json, sys
from flake8.main.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "libcst": "libcst" in sys.modules, "engine": "tsscan.engine" in sys.modules}))
"""


def flake8(cwd: Path, *args: str) -> tuple[list[str], dict]:
    proc = subprocess.run(
        [sys.executable, "-c", RUN, "--format=%(row)d:%(col)d:%(code)s", "-j", "1", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    *rows, status = proc.stdout.splitlines()
    return rows, json.loads(status)


def test_file_without_compiled_code_loads_nothing(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN)
    rows, status = flake8(tmp_path, "--select", "TS", "plain.py")
    assert rows == []
    assert not status["libcst"] and not status["engine"]
    assert not (tmp_path / ".tsscan_cache").exists()


def test_second_run_is_answered_from_the_cache(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    (tmp_path / "m.py").write_text(COMPILED)
    first, status = flake8(tmp_path, "--select", "TS", "m.py")
    assert first == ["6:12:TS401"]
    assert status["libcst"] and status["engine"]
    assert list((tmp_path / ".tsscan_cache").rglob("*.json"))  # written when the process ended

    again, status = flake8(tmp_path, "--select", "TS", "m.py")
    assert again == first
    assert not status["libcst"] and not status["engine"]

    # a change to the file is a miss: checked again, new findings
    (tmp_path / "m.py").write_text(COMPILED.replace("return x.bool()", "y = x.bool()\n    return y.bool()"))
    changed, status = flake8(tmp_path, "--select", "TS", "m.py")
    assert changed == ["6:9:TS401", "7:12:TS401"]
    assert status["engine"]
    # flake8's own noqa still applies to a cached result
    (tmp_path / "m.py").write_text(COMPILED.replace("return x.bool()", "return x.bool()  # noqa: TS401"))
    flake8(tmp_path, "--select", "TS", "m.py")
    quiet, _ = flake8(tmp_path, "--select", "TS", "m.py")
    assert quiet == []


def test_no_ts_code_selected_runs_nothing(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(COMPILED)
    rows, status = flake8(tmp_path, "--select", "E,F", "m.py")
    assert rows == []
    assert not status["libcst"] and not status["engine"]
    assert not (tmp_path / ".tsscan_cache").exists()
    # the same file with TS selected (extend-select) does get checked
    rows, status = flake8(tmp_path, "--select", "E,F", "--extend-select", "TS4", "m.py")
    assert rows == ["6:12:TS401"]
