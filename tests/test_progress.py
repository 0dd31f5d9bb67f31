"""Progress is shown on a terminal (a real pseudo-terminal here), never in pipes or CI."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
from tsscan.progress import Progress
with Progress(total=3, delay=0, interval=0) as p:
    for name in ["a.py", "b.py", "c.py"]:
        p(name)
print("report")
"""


def _run(env_extra, tty):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TSSCAN_NO_PROGRESS", "TERM")}
    env["TERM"] = "xterm"
    env.update(env_extra)
    if not tty:
        proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, timeout=60)
        return proc.stderr.decode()
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    assert proc.stdout.read() == b"report\n"
    return b"".join(chunks).decode()


def test_progress_on_a_terminal():
    shown = _run({}, tty=True)
    assert "[1/3] a.py" in shown and "[2/3] b.py" in shown
    # the last thing written erases the line
    assert shown.rstrip("\r").endswith(" ")


@pytest.mark.parametrize("env", [{}, {"CI": "true"}])
def test_no_progress_in_pipes(env):
    assert _run(env, tty=False) == ""


@pytest.mark.parametrize("env", [{"CI": "true"}, {"TSSCAN_NO_PROGRESS": "1"}, {"TERM": "dumb"}])
def test_no_progress_when_disabled(env):
    assert _run(env, tty=True) == ""


def test_for_run_erases_after_the_last_file(monkeypatch):
    from io import StringIO

    # this test is about drawing on a terminal: CI's own CI=true would switch progress off
    for var in ("CI", "TSSCAN_NO_PROGRESS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm")

    from tsscan.progress import Progress, for_run

    assert for_run(10, StringIO()) is None  # not a terminal

    class Tty(StringIO):
        def isatty(self):
            return True

    out = Tty()
    p = Progress(total=3, stream=out, delay=0, interval=0)
    p("a.py")
    p("b.py")
    assert "[2/3] b.py" in out.getvalue()
    p("c.py")
    assert out.getvalue().endswith("\r") and "c.py" not in out.getvalue()
    assert out.getvalue().split("\r")[-2].strip() == ""


def test_short_runs_show_nothing_and_redraws_are_throttled():
    from io import StringIO

    from tsscan.progress import Progress

    class Clock:
        t = 0.0

        def __call__(self):
            return self.t

    clock, out = Clock(), StringIO()
    p = Progress(total=100, stream=out, enabled=True, delay=0.5, interval=0.1, clock=clock)
    for i in range(10):  # within the first half second: nothing
        clock.t = i * 0.01
        p(f"f{i}.py")
    assert out.getvalue() == ""
    clock.t = 0.6
    p("g.py")
    clock.t = 0.65  # too soon after the last redraw
    p("h.py")
    assert "[11/100] g.py" in out.getvalue() and "h.py" not in out.getvalue()
    clock.t = 0.8
    p("i.py")
    assert "[13/100] i.py" in out.getvalue()
    p.close()
    assert out.getvalue().endswith("\r")
    assert p.done == 13
