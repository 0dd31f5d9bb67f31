"""Writes are atomic (tsscan/files.py ``write_atomic``): a new file renamed over the old one, so a
reader sees the old bytes or the new ones, never a mix, and a failure part-way leaves the old
file exactly as it was.

Failures are injected where a real one happens (``fsync`` on a full disk, ``rename`` refused):
the only patched functions are the OS calls, never tsscan's own code.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tsscan.files import FileError, read_source, write_atomic

OLD = b"import torch\r\n\r\n# caf\xc3\xa9\r\nx = 1\r\n"
NEW = "import torch\r\n\r\n# café\r\nx = 2\r\n"


def _file(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(OLD)
    os.chmod(path, 0o640)
    return path


def test_the_write_replaces_the_inode_and_keeps_the_mode(tmp_path):
    path = _file(tmp_path)
    before = os.stat(path)
    assert write_atomic(read_source(str(path)), NEW) is True
    after = os.stat(path)
    assert path.read_bytes() == NEW.encode()
    assert after.st_ino != before.st_ino  # a new file was renamed over it, not written in place
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_failure_before_the_rename_leaves_the_old_file_byte_identical(tmp_path, monkeypatch, where):
    path = _file(tmp_path)
    inode = os.stat(path).st_ino
    source = read_source(str(path))

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(FileError, match="^cannot write: no space left on device$"):
        write_atomic(source, NEW)
    monkeypatch.undo()
    assert path.read_bytes() == OLD
    assert os.stat(path).st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]  # no temporary file left


def test_fix_through_the_cli_replaces_the_inode(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "import torch\n\n\n@torch.jit.script\ndef f(x: torch.Tensor) -> torch.Tensor:\n    return x.bool()\n"
    )
    inode = os.stat(path).st_ino
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "--fix", "--no-verify", "--no-cache", "m.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.read_text().endswith("    return x.to(torch.bool)\n")
    assert os.stat(path).st_ino != inode
