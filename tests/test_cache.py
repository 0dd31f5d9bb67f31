""".tsscan_cache: used when nothing changed, ignored when anything that matters changed,
harmless when broken or unwritable."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tsscan import __version__
from tsscan.cache import CACHE_DIR, Cache, _package_bytes, fingerprint
from tsscan.cli import main
from tsscan.diagnostic import Diagnostic

MODEL = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Masker(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            print("masking")
            return x.bool()
    """
)

USER_RULE = textwrap.dedent(
    '''
    import libcst as cst
    from tsscan.rule import Rule


    class NoPrint(Rule):
        """print() in compiled code (a test rule)."""

        code = "TS990"
        name = "test-print"
        message = "MESSAGE"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "print":
                self.report(node)
    '''
)


class Out:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s


def run(proj, *args):
    out, err = Out(), Out()
    rc = main(["--config", str(proj / "pyproject.toml"), *args, str(proj / "model.py")], out, err)
    return rc, out.text, err.text


def run_in_new_process(proj, *args):
    """For a changed rule file: a process loads its rules once."""
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "--config", str(proj / "pyproject.toml"), *args, str(proj / "model.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TSSCAN_NO_PROGRESS="1"),
    )
    return proc.returncode, proc.stdout, proc.stderr


def project(tmp_path, table="", rule_message="print v1"):
    (tmp_path / "pyproject.toml").write_text(f'[tool.tsscan]\nrule-dirs = ["myrules"]\n{table}')
    (tmp_path / "myrules").mkdir(exist_ok=True)
    (tmp_path / "myrules" / "ts990.py").write_text(USER_RULE.replace("MESSAGE", rule_message))
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


def cache_files(proj):
    return sorted((proj / CACHE_DIR / __version__).glob("*.json"))


def tamper(proj, new_message):
    """Rewrite the messages stored in the cache: seeing them proves the cache was read."""
    (path,) = cache_files(proj)
    tamper_all(proj, new_message)


def tamper_all(proj, new_message):
    for path in cache_files(proj):
        data = json.loads(path.read_text())
        for entry in data["entries"].values():
            for d in entry[1]:
                d["message"] = new_message
        path.write_text(json.dumps(data))


def _heads(out: str) -> list[str]:
    """``path:line:col: CODE`` of each finding line."""
    return [m.group(0) for m in re.finditer(r"^\S+:\d+:\d+: TS\d{3}", out, re.M)]


def test_second_run_is_answered_from_the_cache(tmp_path):
    proj = project(tmp_path)
    rc, out, _ = run(proj)
    assert rc == 1 and "TS401" in out and "print v1" in out
    tamper(proj, "FROM THE CACHE")
    rc, out2, _ = run(proj)
    assert rc == 1 and out2.count("FROM THE CACHE") == 2
    assert _heads(out2) == _heads(out) and len(_heads(out)) == 2  # paths, lines, columns, codes kept
    assert (proj / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (proj / CACHE_DIR / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_no_cache_neither_reads_nor_writes(tmp_path):
    proj = project(tmp_path)
    run(proj, "--no-cache")
    assert not (proj / CACHE_DIR).exists()
    run(proj)
    tamper(proj, "FROM THE CACHE")
    rc, out, _ = run(proj, "--no-cache")
    assert rc == 1 and "FROM THE CACHE" not in out and "print v1" in out


def test_a_changed_file_is_checked_again(tmp_path):
    proj = project(tmp_path)
    run(proj)
    tamper(proj, "FROM THE CACHE")
    (proj / "model.py").write_text(MODEL.replace("x.bool()", "x.to(torch.bool)"))
    rc, out, _ = run(proj)
    assert "FROM THE CACHE" not in out and "TS401" not in out and "TS990" in out


def test_a_changed_rule_file_config_or_target_is_a_fresh_cache(tmp_path):
    proj = project(tmp_path)
    run(proj)
    tamper(proj, "FROM THE CACHE")
    # the rule's code changed
    project(tmp_path, rule_message="print v2")
    rc, out, _ = run_in_new_process(proj)
    assert "FROM THE CACHE" not in out and "print v2" in out
    tamper_all(proj, "FROM THE CACHE")
    # the configuration changed
    project(tmp_path, table='ignore = ["TS401"]\n', rule_message="print v2")
    rc, out, _ = run_in_new_process(proj)
    assert "TS401" not in out and "print v2" in out
    tamper_all(proj, "FROM THE CACHE")
    # the target torch version changed
    rc, out, _ = run_in_new_process(proj, "--target-version", "2.14")
    assert "print v2" in out
    assert len(cache_files(proj)) == 4
    # the command line's selection
    rc, out, _ = run_in_new_process(proj, "--select", "TS990")
    assert "TS401" not in out and "print v2" in out


def test_fingerprint_covers_rules_options_and_versions(tmp_path):
    base = fingerprint([], ["TS"], [], "2.13")
    assert fingerprint([], ["TS"], [], "2.13") == base
    assert fingerprint([], ["TS"], ["TS4"], "2.13") != base
    assert fingerprint([], ["TS1"], [], "2.13") != base
    assert fingerprint([], ["TS"], [], "2.14") != base
    d = tmp_path / "rules"
    d.mkdir()
    (d / "_helper.py").write_text("X = 1\n")
    with_dir = fingerprint([d], ["TS"], [], "2.13")
    assert with_dir != base
    (d / "_helper.py").write_text("X = 2\n")  # rules import their helper modules
    assert fingerprint([d], ["TS"], [], "2.13") != with_dir
    # the built-in rules are tsscan's own code: a change to one changes the fingerprint
    assert b"rules/TS101_try_except.py" in set(_package_bytes())


def test_a_corrupt_cache_is_ignored_and_rewritten(tmp_path):
    proj = project(tmp_path)
    rc, out, _ = run(proj)
    (path,) = cache_files(proj)
    for garbage in (b"\x00\xffnot json", b'{"entries": [1, 2]}', b'{"entries": {"x": 5}}', b""):
        path.write_bytes(garbage)
        assert run(proj) == (rc, out, "")
        json.loads(path.read_text())
    data = json.loads(path.read_text())
    for entry in data["entries"].values():
        entry[1] = [{"no such field": 1}]
    path.write_text(json.dumps(data))
    assert run(proj) == (rc, out, "")


def test_an_unwritable_cache_is_not_an_error(tmp_path):
    proj = project(tmp_path)
    (proj / CACHE_DIR).write_text("a file where the directory should be\n")
    rc, out, err = run(proj)
    assert rc == 1 and "TS401" in out and err == ""
    assert run(proj) == (rc, out, err)


def test_concurrent_runs_merge_their_entries(tmp_path):
    a, b = Cache(tmp_path, "f" * 32), Cache(tmp_path, "f" * 32)
    d = Diagnostic("x.py", 1, 1, "TS401", "m")
    for name in ("x.py", "y.py"):
        (tmp_path / name).write_text("")
    a.put(str(tmp_path / "x.py"), "k1", [d], [])
    b.put(str(tmp_path / "y.py"), "k2", [], ["e"])
    a.save()
    b.save()
    c = Cache(tmp_path, "f" * 32)
    assert c.get(str(tmp_path / "x.py"), "k1") == ([Diagnostic(str(tmp_path / "x.py"), 1, 1, "TS401", "m")], [])
    assert c.get(str(tmp_path / "y.py"), "k2") == ([], ["e"])
    assert c.get(str(tmp_path / "y.py"), "other") is None
    assert not list(Path(tmp_path, CACHE_DIR, __version__).glob(".tmp-*"))
