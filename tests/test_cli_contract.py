"""The command line's contract, through the real CLI (``sys.executable -m tsscan``): every
malformed input -- option, selector, torch version, configuration key or value, output path --
is one line on stderr and exit 2, never a traceback, never 0 or 1; the files a bad
configuration does not govern are still checked; a bad option writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """import torch
from torch import nn


class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
"""
FINDING = "good.py:7:16: TS401"


def tsscan(cwd: Path, *args: str, stdin: bytes | None = None, env: dict | None = None):
    env = dict({k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}, **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", *args], cwd=cwd, input=stdin, capture_output=True, timeout=300, env=env
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def project(tmp_path: Path, pyproject: str = "[tool.tsscan]\n") -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "good.py").write_text(GOOD)
    return tmp_path


def assert_one_error(code: int, out: str, err: str, expected: str) -> None:
    assert code == 2, (code, out, err)
    assert "Traceback" not in err + out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tsscan: error: ") and expected in lines[0], lines[0]


# (test id, [tool.tsscan] text, arguments, what the one error line says)
BAD = [
    ("select-unknown", "", ["--select", "XYZ"], "unknown rule selector 'XYZ'"),
    ("select-unknown-prefix", "", ["--select", "TS8"], "unknown rule selector 'TS8'"),
    ("ignore-unknown", "", ["--ignore", "TS999"], "unknown rule selector 'TS999'"),
    ("extend-select-unknown", "", ["--extend-select", "BOGUS"], "--extend-select"),
    ("extend-ignore-unknown", "", ["--extend-ignore", "TS99"], "--extend-ignore"),
    ("config-select", 'select = ["BOGUS"]\n', [], "select: unknown rule selector 'BOGUS'"),
    ("config-ignore", 'ignore = ["TS77"]\n', [], "ignore: unknown rule selector 'TS77'"),
    ("config-extend-select", 'extend-select = ["X1"]\n', [], "extend-select"),
    ("config-per-file-ignores", 'per-file-ignores = {"a.py" = ["TS0000"]}\n', [], "per-file-ignores"),
    ("config-select-type", "select = 3\n", [], "select must be a list of codes"),
    ("config-unknown-key", 'selectt = ["TS"]\n', [], "unknown [tool.tsscan] keys: selectt"),
    ("verify-unknown-key", '[tool.tsscan.verify]\npyton = "x"\n', [], "unknown keys: pyton"),
    ("verify-timeout", '[tool.tsscan.verify]\ntimeout = "x"\n', [], "timeout must be a positive number"),
    ("verify-memory", "[tool.tsscan.verify]\nmemory-mb = -1\n", [], "memory-mb must be a positive integer"),
    ("verify-factories", "[tool.tsscan.verify]\nfactories = 3\n", [], "factories must be a table"),
    ("verify-python-diff", '[tool.tsscan.verify]\npython = "no/such/python"\n', ["--diff"], "no such executable"),
    ("verify-python-fix", '[tool.tsscan.verify]\npython = "no/such/python"\n', ["--fix"], "no such executable"),
    ("verify-not-table", 'verify = "x"\n', [], "[tool.tsscan.verify] must be a table"),
    ("target-banana", "", ["--target-version", "banana"], "'banana' is not a torch version"),
    ("target-old", "", ["--target-version", "0.4"], "torch 0.4 is not supported"),
    ("target-unknown-minor", "", ["--target-version", "2.12"], "knowledge tables for torch 2.13, 2.14"),
    ("config-target-banana", 'target-version = "banana"\n', [], "target-version: 'banana' is not a torch version"),
    ("config-target-old", 'target-version = "0.4"\n', [], "torch 0.4 is not supported"),
    ("config-target-float", "target-version = 2.13\n", [], "is not a torch version"),
    ("output-dir", "", ["-o", "/nonexistent/dir/x"], "no such directory"),
    ("output-is-dir", "", ["-o", "."], "is a directory"),
    ("format", "", ["--format", "bogus"], "invalid choice: 'bogus'"),
    ("jobs", "", ["--jobs", "0"], "--jobs must be at least 1"),
    ("jobs-type", "", ["--jobs", "x"], "invalid int value"),
    ("unknown-option", "", ["--selectt", "TS"], "unrecognized arguments"),
    ("stdin-and-paths", "", ["-", "good.py"], "cannot be combined"),
    ("noqa-and-fix", "", ["--add-noqa", "--fix"], "cannot be combined"),
    ("toml", "select = [\n", [], "pyproject.toml"),
]


@pytest.mark.parametrize("pyproject,args,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_malformed_input_is_one_line_and_exit_2(tmp_path, pyproject, args, expected):
    head, _, verify = pyproject.partition("[tool.tsscan.verify]")
    text = "[tool.tsscan]\n" + head + (f"[tool.tsscan.verify]{verify}" if verify else "")
    cwd = project(tmp_path, text)
    before = (cwd / "good.py").read_bytes()
    paths = [] if "-" in args else ["good.py"]
    code, out, err = tsscan(cwd, *args, *paths, "--fix" if args == [] else "--no-cache", stdin=b"")
    assert_one_error(code, out, err, expected)
    assert (cwd / "good.py").read_bytes() == before  # nothing written
    assert not (cwd / ".tsscan_cache").exists() or args == []


def test_a_bad_configuration_stops_only_its_own_files(tmp_path):
    """pa/ is fine, pb/'s [tool.tsscan] has a typo: pa's file is checked (and fixed), pb's is
    not touched, one line says why, exit 2; in either order of the paths."""
    for name, table in (("pa", ""), ("pb", 'selct = ["TS"]\n')):
        (tmp_path / name).mkdir()
        project(tmp_path / name, "[tool.tsscan]\n" + table)
    for order in (["pa", "pb"], ["pb", "pa"]):
        code, out, err = tsscan(tmp_path, *order)
        assert_one_error(code, out, err, "unknown [tool.tsscan] keys: selct")
        assert "pa/good.py:7:16: TS401" in out and "pb/good.py" not in out
    code, out, err = tsscan(tmp_path, "--fix", "--no-verify", "pa", "pb")
    assert_one_error(code, out, err, "selct")
    assert "x.to(torch.bool)" in (tmp_path / "pa" / "good.py").read_text()
    assert (tmp_path / "pb" / "good.py").read_text() == GOOD


def test_selectors_that_name_rules_pass(tmp_path):
    cwd = project(tmp_path, '[tool.tsscan]\nselect = ["TS4"]\nignore = ["TS9", "TS000"]\n')
    for args in (["--select", "TS401"], ["--select", "TS"], ["--extend-ignore", "TS1"], ["--select", "ts401"]):
        code, out, err = tsscan(cwd, *args, "good.py")
        assert code == 1 and FINDING in out and err == "", (args, err)
    code, out, _ = tsscan(cwd, "--ignore", "TS401", "good.py")
    assert code == 0 and "All checks passed" in out


def test_a_custom_rule_code_is_a_known_selector(tmp_path):
    rules = tmp_path / "my_rules"
    rules.mkdir()
    (rules / "no_sum.py").write_text(
        "from tsscan.rule import Rule\n\n\nclass NoSum(Rule):\n"
        '    code = "TS951"\n    name = "no-sum"\n    message = "no sum"\n    fails_in = ">=1.0"\n'
        '    """No `sum`.\n\n    ## What it does\n    Flags sum.\n    """\n'
    )
    cwd = project(tmp_path, '[tool.tsscan]\nrule-dirs = ["my_rules"]\nextend-select = ["TS951"]\n')
    code, out, err = tsscan(cwd, "--select", "TS95", "good.py")
    assert "unknown rule selector" not in err


# --------------------------------------------------------------------------- per-file configuration
def _two_projects(tmp_path: Path) -> Path:
    """pa ignores TS401, pb checks it; both have the same file."""
    for name, table in (("pa", 'ignore = ["TS401"]\n'), ("pb", "")):
        (tmp_path / name).mkdir()
        project(tmp_path / name, "[tool.tsscan]\n" + table)
    return tmp_path


def test_each_file_gets_its_nearest_configuration_in_any_order(tmp_path):
    cwd = _two_projects(tmp_path)
    code1, out1, _ = tsscan(cwd, "pa/good.py", "pb/good.py")
    code2, out2, _ = tsscan(cwd, "pb/good.py", "pa/good.py")
    assert code1 == code2 == 1
    for out in (out1, out2):
        assert "pb/good.py:7:16: TS401" in out and "pa/good.py" not in out
    # a second run from the cache (one cache per project root) says the same
    assert tsscan(cwd, "pa/good.py", "pb/good.py")[1] == out1
    assert (cwd / "pa" / ".tsscan_cache").is_dir() and (cwd / "pb" / ".tsscan_cache").is_dir()


def test_a_pyproject_without_the_table_is_skipped_as_ruff_does(tmp_path):
    project(tmp_path, '[tool.tsscan]\nignore = ["TS401"]\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text("[project]\nname = 'sub'\n")
    (sub / "good.py").write_text(GOOD)
    code, out, _ = tsscan(tmp_path, "sub/good.py")
    assert code == 0, out


def test_config_option_applies_to_every_file(tmp_path):
    cwd = _two_projects(tmp_path)
    code, out, _ = tsscan(cwd, "--config", "pa/pyproject.toml", "pa", "pb")
    assert code == 0 and "All checks passed (2 files)" in out


def test_cache_keys_follow_the_configuration(tmp_path):
    """Changing a file's [tool.tsscan] changes its result at once, cache or not."""
    cwd = project(tmp_path)
    assert tsscan(cwd, "good.py")[0] == 1
    (cwd / "pyproject.toml").write_text('[tool.tsscan]\nignore = ["TS401"]\n')
    assert tsscan(cwd, "good.py")[0] == 0
    (cwd / "pyproject.toml").write_text("[tool.tsscan]\n")
    assert tsscan(cwd, "good.py")[0] == 1


# --------------------------------------------------------------------------- torch version
def test_the_torch_version_is_said(tmp_path):
    cwd = project(tmp_path, '[tool.tsscan]\ntarget-version = "2.14"\n')
    code, out, err = tsscan(cwd, "--verbose", "good.py")
    assert "checking against torch 2.14 (knowledge table torch-2.14; from target-version in" in err
    code, out, _ = tsscan(cwd, "--format", "json", "--target-version", "2.13.1", "good.py")
    doc = json.loads(out)
    assert doc["torch"] == [{"target_version": "2.13.1", "knowledge_table": "2.13", "source": "--target-version"}]
    code, out, _ = tsscan(cwd, "--format", "sarif", "good.py")
    props = json.loads(out)["runs"][0]["properties"]
    assert props["torch"][0]["knowledge_table"] == "2.14"


# --------------------------------------------------------------------------- what ruff users expect
def test_help_lists_every_command(tmp_path):
    code, out, _ = tsscan(tmp_path, "--help")
    assert code == 0
    for command in ("check", "rules", "explain", "explain-error"):
        assert command in out


def test_exclude_on_the_command_line(tmp_path):
    cwd = project(tmp_path)
    (cwd / "gen").mkdir()
    (cwd / "gen" / "m.py").write_text(GOOD)
    code, out, _ = tsscan(cwd, "--exclude", "gen", ".")
    assert "gen/m.py" not in out and FINDING in out
    code, out, _ = tsscan(cwd, "--extend-exclude", "good.py", ".")
    assert "gen/m.py" in out and "good.py:7" not in out.replace("gen/m.py", "")
    # a file named on the command line is checked anyway, unless --force-exclude
    assert FINDING in tsscan(cwd, "--exclude", "good.py", "good.py")[1]
    code, out, _ = tsscan(cwd, "--exclude", "good.py", "--force-exclude", "good.py")
    assert code == 0 and "All checks passed (0 files)" in out


def test_show_source_and_colour(tmp_path):
    cwd = project(tmp_path)
    _, out, _ = tsscan(cwd, "--show-source", "good.py")
    lines = out.splitlines()
    i = lines.index(next(ln for ln in lines if ln.startswith(FINDING)))
    assert lines[i + 2] == "7 |         return x.bool()"
    assert lines[i + 3] == "  |                ^^^^^^^^"
    assert "\033[" not in out  # a pipe: no colour
    _, out, _ = tsscan(cwd, "good.py", env={"FORCE_COLOR": "1"})
    assert "\033[31mTS401\033[0m" in out
    _, out, _ = tsscan(cwd, "good.py", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\033[" not in out


def test_exit_non_zero_on_fix(tmp_path):
    cwd = project(tmp_path)
    code, out, err = tsscan(cwd, "--fix", "--no-verify", "--exit-non-zero-on-fix", "good.py")
    assert code == 1, out + err
    assert "Found 1 problem in 1 file (1 fixed, 0 remaining)." in out
    code, out, _ = tsscan(cwd, "--fix", "--no-verify", "--exit-non-zero-on-fix", "good.py")
    assert code == 0


def test_add_noqa(tmp_path):
    cwd = project(tmp_path)
    (cwd / "two.py").write_text(
        GOOD.replace("return x.bool()", "y = x.bool()  # noqa: TS101\n        return y")
        + '\n\nS = """\n'
        + "x.bool()\n"
        + '"""\n'
    )
    code, out, err = tsscan(cwd, "--add-noqa", ".")
    assert code == 0 and "Added 2 noqa directives." in out, out + err
    assert "return x.bool()  # noqa: TS401\n" in (cwd / "good.py").read_text()
    assert "y = x.bool()  # noqa: TS101, TS401\n" in (cwd / "two.py").read_text()
    code, out, _ = tsscan(cwd, ".")
    assert code == 0 and "All checks passed (2 files)" in out


# --------------------------------------------------------------------------- output a user can trust
FIXES = """import torch
from torch import nn


class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            y = x.bool()
        except RuntimeError:
            y = x.bool()
        return y.long()
"""


def test_fix_report_adds_up_and_is_not_shaped_like_findings(tmp_path):
    cwd = project(tmp_path)
    (cwd / "good.py").write_text(FIXES)
    code, out, err = tsscan(cwd, "--fix", "--no-verify", "--format", "json", "good.py")
    doc = json.loads(out)
    fixed = [f for f in doc["fixes"] if f["applied"]]
    assert len(fixed) == len(doc["fixed"]) >= 2
    assert {f["status"] for f in fixed} == {"applied"}  # --no-verify: not confirmed
    left = doc["diagnostics"]
    assert [d["code"] for d in left] == ["TS101"]
    text = (cwd / "good.py").read_text().splitlines()
    for f in fixed:  # a fix's line is in the file as written, like the findings' lines
        assert "to(torch." in text[f["line"] - 1], f
    (cwd / "good.py").write_text(FIXES)
    code, out, err = tsscan(cwd, "--fix", "--no-verify", "good.py")
    n = len(fixed)
    assert f"Found {n + 1} problems in 1 file ({n} fixed, 1 remaining)." in out
    assert "not applied" not in out  # TS101 has no fix: there was nothing to apply
    import re

    finding = re.compile(r"^\S+:\d+:\d+: TS\d{3}")
    assert [ln for ln in out.splitlines() if finding.match(ln)] == [ln for ln in out.splitlines() if "TS101" in ln]


def test_check_verify_does_not_talk_about_fixes(tmp_path):
    cwd = project(tmp_path, '[tool.tsscan]\n[tool.tsscan.verify]\npython = "' + sys.executable + '"\n')
    code, out, err = tsscan(cwd, "--verify", "good.py")
    assert code == 1 and "not applied" not in out and "fixable with `tsscan --fix`" in out, out + err


# --------------------------------------------------------------------------- suppressions
NOQA = """import torch
from torch import nn


class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x.bool()  # noqa
        b = x.bool()  # noqa: TS401
        c = x.bool()  # noqa: TS101
        d = x.bool()  # noqa:TS4
        e = x.bool()  #noqa
        return a + b + c + d + e
"""


def _flake8(cwd: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "TS", *args, "m.py"], cwd=cwd, capture_output=True, text=True
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return sorted(":".join(ln.split(":")[:3]) + " " + ln.split()[1] for ln in proc.stdout.splitlines())


def _cli(cwd: Path) -> list[str]:
    _, out, _ = tsscan(cwd, "--no-cache", "m.py")
    return sorted(
        ":".join(ln.split(":")[:3]) + " " + ln.split()[1] for ln in out.splitlines() if ln.startswith("m.py:")
    )


def test_noqa_means_the_same_to_flake8_and_the_cli(tmp_path):
    cwd = project(tmp_path)
    (cwd / "m.py").write_text(NOQA)
    cli = _cli(cwd)
    # the lines flake8 does not silence: line 9 (its noqa names another code) and line 11
    # (flake8 needs a space after the hash)
    assert sorted(int(c.split(":")[1]) for c in cli) == [9, 11]
    assert _flake8(cwd) == cli
    # --disable-noqa: flake8 shows every finding, the coded ones too
    assert sorted(int(c.split(":")[1]) for c in _flake8(cwd, "--disable-noqa")) == [7, 8, 9, 10, 11]


def test_file_level_flake8_noqa(tmp_path):
    cwd = project(tmp_path)
    (cwd / "m.py").write_text("# flake8: noqa\n" + NOQA)
    assert _cli(cwd) == [] and _flake8(cwd) == []
    code, out, _ = tsscan(cwd, "--fix", "--no-verify", "m.py")
    assert code == 0 and (cwd / "m.py").read_text() == "# flake8: noqa\n" + NOQA  # exempt: not fixed
    # only at the start of a line, as flake8 reads it
    (cwd / "m.py").write_text(NOQA.replace("import torch\n", "import torch  # flake8: noqa\n", 1))
    assert len(_cli(cwd)) == 2 and _flake8(cwd) == _cli(cwd)
