"""The verify worker's limits, end to end through ``tsscan --fix`` (real processes).

User code that hangs, or tsscan killed while user code runs: the file is not written, no
process of the run is left behind, no temporary file either. (``tests/test_fix_verify.py``
tests the same limits at the API level, with an idle worker.) Each test points TMPDIR at its
own directory, so "nothing left" is checked exactly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HANGS_ON_IMPORT = """import os, time
import torch
from torch import nn

with open(os.path.join({root!r}, "worker.pid"), "w") as f:
    f.write(str(os.getpid()))
time.sleep({sleep})


class Head(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (reaped later by init) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.2)
    return False


def setup(tmp_path: Path, sleep: int, timeout: int) -> tuple:
    root = tmp_path / "proj"
    tmp = tmp_path / "tmp"
    root.mkdir()
    tmp.mkdir()
    (root / "pyproject.toml").write_text(f"[tool.tsscan.verify]\ntimeout = {timeout}\n")
    src = HANGS_ON_IMPORT.format(root=str(root), sleep=sleep)
    (root / "slow.py").write_text(src)
    env = dict(os.environ, TMPDIR=str(tmp))
    return root, tmp, src, env


def test_user_code_that_hangs_is_killed_at_the_time_limit(tmp_path):
    root, tmp, src, env = setup(tmp_path, sleep=600, timeout=20)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "--fix", "slow.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Traceback" not in proc.stderr
    assert "timed out after 20 s" in proc.stdout + proc.stderr, (proc.stdout, proc.stderr)
    assert time.monotonic() - t0 < 400
    assert (root / "slow.py").read_text() == src  # unconfirmed: not applied
    pid = int((root / "worker.pid").read_text())
    assert wait_gone(pid, 10), "the hanging worker outlived tsscan"
    assert not list(tmp.iterdir()), list(tmp.iterdir())


def test_tsscan_killed_while_user_code_runs(tmp_path):
    root, tmp, src, env = setup(tmp_path, sleep=120, timeout=300)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsscan", "--fix", "slow.py"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not (root / "worker.pid").exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the worker never imported the file"
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    pid = int((root / "worker.pid").read_text())
    gone = wait_gone(pid, 30)
    if not gone:
        os.kill(pid, signal.SIGKILL)  # our own test's leftover, by pid
    assert gone, "the worker kept running user code after tsscan was killed"
    assert (root / "slow.py").read_text() == src
    assert not list(root.glob(".tsscan-*"))
    # the killed run could not remove its temp directory; the next run that starts a worker does
    (root / "slow.py").write_text(src.replace("time.sleep(120)", "pass"))
    subprocess.run(
        [sys.executable, "-m", "tsscan", "--fix", "slow.py"], cwd=root, env=env, capture_output=True, timeout=600
    )
    assert not list(tmp.iterdir()), list(tmp.iterdir())
