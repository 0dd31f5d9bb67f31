"""A minimal LSP client for the tests and the benchmark: JSON-RPC with Content-Length framing
over the stdio of a real ``tsscan server`` process."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

SERVER = [sys.executable, "-m", "tsscan", "server"]


def read_message(stream: BinaryIO) -> dict | None:
    """One JSON-RPC message, or None at the end of the stream."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    assert length is not None, "a message without Content-Length"
    return json.loads(stream.read(length).decode("utf-8"))


class Client:
    def __init__(self, cwd: Path, command: Sequence[str] = SERVER, env: dict | None = None) -> None:
        self.proc = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.messages: queue.Queue[tuple[float, dict | None]] = queue.Queue()
        self.notifications: list[tuple[float, dict]] = []
        self.next_id = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            msg = read_message(self.proc.stdout)
            self.messages.put((time.perf_counter(), msg))
            if msg is None:
                return
            if "method" in msg and "id" in msg:  # a request from the server: accept it
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})

    def _send(self, msg: dict) -> None:
        body = json.dumps(msg).encode("utf-8")
        with self.lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> float:
        t = time.perf_counter()
        self._send({"jsonrpc": "2.0", "method": method, "params": params})
        return t

    def _next(self, deadline: float) -> dict:
        try:
            at, msg = self.messages.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            raise AssertionError("no answer from the server in time: " + self.stderr_so_far()) from None
        if msg is None:
            raise AssertionError("the server closed its output: " + self.stderr_so_far())
        if "method" in msg and "id" not in msg:
            self.notifications.append((at, msg))
        return msg

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        self.next_id += 1
        rid = self.next_id
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next(deadline)
            if msg.get("id") == rid and "method" not in msg:
                assert "error" not in msg, msg["error"]
                return msg.get("result")

    def wait_for(self, method: str, match: Callable[[dict], bool] = lambda p: True, timeout: float = 60) -> dict:
        """The params of the first ``method`` notification matching ``match`` not yet taken."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (_, msg) in enumerate(self.notifications):
                if msg["method"] == method and match(msg["params"]):
                    del self.notifications[i]
                    return msg["params"]
            self._next(deadline)

    def wait_timed(self, method: str, match: Callable[[dict], bool] = lambda p: True, timeout: float = 60):
        """Like :meth:`wait_for`, with the time the notification arrived."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (at, msg) in enumerate(self.notifications):
                if msg["method"] == method and match(msg["params"]):
                    del self.notifications[i]
                    return at, msg["params"]
            self._next(deadline)

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 60) -> list[dict]:
        params = self.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and (version is None or p.get("version") == version),
            timeout,
        )
        return params["diagnostics"]

    def initialize(self, root: Path, capabilities: dict | None = None) -> dict:
        result = self.request(
            "initialize",
            {"processId": None, "rootUri": root.as_uri(), "capabilities": capabilities or {}},
        )
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}},
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> float:
        return self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def stop(self) -> tuple[int, str]:
        """shutdown, exit; the exit code and what the server wrote on stderr."""
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            rc = self.proc.wait(timeout=30)
            err = self.stderr_so_far()
        finally:
            self.kill()
        return rc, err

    def stderr_so_far(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(server still running)"
        return self.proc.stderr.read().decode("utf-8", "replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
