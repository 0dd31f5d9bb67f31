"""The parent side of the worker process: start it, talk JSON lines, enforce time and memory.

The worker itself is :mod:`tsscan.verify.torch_worker`, run by path with the configured
interpreter; it is the only code of tsscan that imports torch or runs user code.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_MEMORY_MB = 6144


class WorkerUnavailable(Exception):
    """The worker cannot answer (torch missing, timed out, killed): the message says why."""


_PREFIX = "tsscan-verify-"


def _remove_stale_dirs() -> None:
    """Temp directories of earlier runs whose tsscan was killed before it could clean up."""
    base = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith(_PREFIX)]
    except OSError:
        return
    for name in names:
        d = os.path.join(base, name)
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            continue
        if pid <= 0 or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # its tsscan still runs
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


class Worker:
    """One worker process (:mod:`tsscan.verify.torch_worker`); restarted after a timeout or a crash."""

    def __init__(
        self, memory_mb: int = DEFAULT_MEMORY_MB, cwd: str | None = None, python: Sequence[str] | None = None
    ) -> None:
        self.memory_mb = memory_mb
        self.cwd = cwd
        self.python = list(python) if python else [sys.executable]
        self.proc: subprocess.Popen | None = None
        _remove_stale_dirs()
        self.tmpdir = tempfile.mkdtemp(prefix=_PREFIX)
        with open(os.path.join(self.tmpdir, "owner.pid"), "w") as f:
            f.write(str(os.getpid()))
        self.status: dict[str, Any] | None = None
        self.starts = 0
        self.import_seconds = 0.0
        self._buf = b""
        atexit.register(self.close)

    # -- process
    def _start(self) -> None:
        env = dict(os.environ)
        env.pop("PYTHONSTARTUP", None)
        worker = str(Path(__file__).resolve().parent / "torch_worker.py")
        log = open(os.path.join(self.tmpdir, f"worker{self.starts}.log"), "wb")
        try:
            if not shutil.which(self.python[0]) and not os.path.isfile(self.python[0]):
                raise WorkerUnavailable(f"python interpreter not found: {self.python[0]}")
            self.proc = subprocess.Popen(
                # run by path: the worker needs only the stdlib (and torch), not tsscan
                self.python + [worker, str(self.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=self.cwd or None,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise WorkerUnavailable(f"cannot start {self.python[0]}: {exc.strerror or exc}") from None
        finally:
            log.close()
        self.starts += 1
        self._buf = b""

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the worker's own session: it and its children
        except (ProcessLookupError, PermissionError, OSError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for f in (proc.stdin, proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass

    def _log_tail(self) -> str:
        path = os.path.join(self.tmpdir, f"worker{self.starts - 1}.log")
        try:
            with open(path, "rb") as f:
                data = f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [ln for ln in data.splitlines() if ln.strip()]
        return lines[-1].strip() if lines else ""

    def _exchange(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            tail = self._log_tail()
            self._kill()
            raise WorkerUnavailable("the verification worker exited" + (f": {tail}" if tail else "")) from None
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._kill()
                    raise WorkerUnavailable(f"timed out after {timeout:g} s (set [tool.tsscan.verify] timeout)")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    code = proc.wait()
                    tail = self._log_tail()
                    self._kill()
                    why = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
                    if code in (-signal.SIGKILL, -signal.SIGSEGV) or "MemoryError" in tail:
                        why += f" (memory limit {self.memory_mb} MiB?)"
                    raise WorkerUnavailable(f"the verification worker died ({why})" + (f": {tail}" if tail else ""))
                self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line.decode("utf-8"))

    def hello(self, timeout: float = 300.0) -> dict[str, Any]:
        """Start the worker and import torch (once); cached."""
        if self.status is None or (self.status.get("ok") and self.proc is None):
            t0 = time.monotonic()
            try:
                self.status = self._exchange({"op": "hello"}, timeout)
            except WorkerUnavailable as exc:
                self.status = {"ok": False, "reason": f"torch could not be loaded: {exc}"}
            self.import_seconds += time.monotonic() - t0
        return self.status

    def request(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        status = self.hello()
        if not status.get("ok"):
            raise WorkerUnavailable(status.get("reason", "torch is not usable"))
        answer = self._exchange(request, timeout)
        if not answer.get("ok"):
            raise WorkerUnavailable(answer.get("reason", "the worker failed"))
        return answer["result"]

    def close(self) -> None:
        if self.proc is not None:
            proc = self.proc
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._kill()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
