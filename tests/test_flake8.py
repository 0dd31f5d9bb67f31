"""The flake8 plugin, run through the real flake8 command line."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
FMT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"

TWO_FINDINGS = textwrap.dedent(
    """\
    import torch


    @torch.jit.script
    def f(x: torch.Tensor) -> torch.Tensor:
        try:
            y = x.bool()
        except RuntimeError:
            y = x
        return y
    """
)


def flake8(*args, cwd=ROOT):
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", f"--format={FMT}", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    rows = []
    for line in proc.stdout.splitlines():
        path, row, col, code, text = line.split("|", 4)
        rows.append((path, int(row), int(col), code, text))
    assert proc.returncode == (1 if rows else 0), proc.stderr  # flake8: 1 exactly when it reports
    return proc, rows


def tsscan_json(*args, cwd=ROOT):
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "check", "--format", "json", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc = json.loads(proc.stdout)
    assert proc.returncode == (1 if doc["diagnostics"] else 0), proc.stderr
    return doc


def _fixture_files():
    return sorted(str(p.relative_to(ROOT)) for p in FIXTURES.rglob("*.py"))


def test_parity_with_tsscan_on_every_fixture():
    files = _fixture_files()
    assert files
    _, rows = flake8("--isolated", "--select", "TS", *files)
    from_flake8 = sorted((p, r, c, code, re.sub(r"^\[\*\] ", "", text)) for p, r, c, code, text in rows)
    doc = tsscan_json(*files)
    assert not doc["errors"]
    from_tsscan = sorted((d["path"], d["line"], d["column"], d["code"], d["message"]) for d in doc["diagnostics"])
    assert from_flake8 == from_tsscan
    # every fixture was looked at by flake8 (a file with no finding simply has no row)
    assert {r[0] for r in from_tsscan} <= set(files)


def test_parity_on_odd_encodings_and_newlines(tmp_path):
    """What flake8 hands the plugin (its own decoding, BOM stripped, universal newlines) gives
    the same positions as tsscan reading the bytes itself."""
    body = TWO_FINDINGS.replace("y = x.bool()", 's = "é—"; y = x.bool()')
    (tmp_path / "bom_crlf.py").write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode("utf-8"))
    (tmp_path / "latin1.py").write_bytes(("# -*- coding: latin-1 -*-\n" + body.replace("—", "")).encode("latin-1"))
    (tmp_path / "tabs.py").write_text(body.replace("    ", "\t"))
    files = ["bom_crlf.py", "latin1.py", "tabs.py"]
    _, rows = flake8("--isolated", "--select", "TS", *files, cwd=tmp_path)
    doc = tsscan_json(*files, cwd=tmp_path)
    assert not doc["errors"]
    assert sorted((p, r, c, code) for p, r, c, code, _ in rows) == sorted(
        (d["path"], d["line"], d["column"], d["code"]) for d in doc["diagnostics"]
    )
    assert len(rows) == 6


def test_fixable_findings_are_marked(tmp_path):
    (tmp_path / "m.py").write_text(TWO_FINDINGS)
    _, rows = flake8("--isolated", "--select", "TS", "m.py", cwd=tmp_path)
    texts = {code: text for _, _, _, code, text in rows}
    assert texts["TS401"].startswith("[*] ")
    assert not texts["TS101"].startswith("[*]")


def test_flake8_columns_are_tsscans(tmp_path):
    (tmp_path / "m.py").write_text(TWO_FINDINGS)
    _, rows = flake8("--isolated", "--select", "TS", "m.py", cwd=tmp_path)
    assert sorted((r, c, code) for _, r, c, code, _ in rows) == [(6, 5, "TS101"), (7, 13, "TS401")]


def test_select_and_extend_ignore(tmp_path):
    (tmp_path / "m.py").write_text(TWO_FINDINGS)
    _, rows = flake8("--isolated", "--select", "TS4", "m.py", cwd=tmp_path)
    assert [r[3] for r in rows] == ["TS401"]
    proc, rows = flake8("--isolated", "--select", "TS", "--extend-ignore", "TS401", "m.py", cwd=tmp_path)
    assert [r[3] for r in rows] == ["TS101"]
    # not selected at all: flake8's default selection includes the plugin's TS prefix
    _, rows = flake8("--isolated", "m.py", cwd=tmp_path)
    assert {"TS101", "TS401"} <= {r[3] for r in rows}


def test_per_file_ignores_and_noqa(tmp_path):
    (tmp_path / "a.py").write_text(TWO_FINDINGS)
    (tmp_path / "b.py").write_text(TWO_FINDINGS.replace("y = x.bool()", "y = x.bool()  # noqa: TS401"))
    (tmp_path / "c.py").write_text(TWO_FINDINGS.replace("    try:", "    try:  # noqa"))
    _, rows = flake8(
        "--isolated",
        "--select",
        "TS",
        "--per-file-ignores",
        "a.py:TS1",
        "a.py",
        "b.py",
        "c.py",
        cwd=tmp_path,
    )
    assert sorted((p, code) for p, _, _, code, _ in rows) == [
        ("a.py", "TS401"),
        ("b.py", "TS101"),
        ("c.py", "TS401"),
    ]


CUSTOM_RULE = textwrap.dedent(
    '''\
    import libcst as cst
    from tsscan.rule import Rule


    class NoPrint(Rule):
        """`print` in compiled code (a test rule for torch 2.14 only)."""

        code = "TS950"
        name = "no-print-old-torch"
        message = "print() before torch 2"
        fails_in = ">=2.14"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "print":
                self.report(node)
    '''
)

PRINTS = textwrap.dedent(
    """\
    import torch


    @torch.jit.script
    def f(x: torch.Tensor) -> torch.Tensor:
        print(x)
        return x
    """
)


def test_plugin_options_from_flake8_config(tmp_path):
    (tmp_path / "myrules").mkdir()
    (tmp_path / "myrules" / "no_print.py").write_text(CUSTOM_RULE)
    (tmp_path / "m.py").write_text(PRINTS)
    # the rule is for torch 2.14: with the default target (the installed torch, 2.13) it does not run
    (tmp_path / "setup.cfg").write_text("[flake8]\ntsscan-rule-dirs = myrules\n")
    _, rows = flake8("--select", "TS", "m.py", cwd=tmp_path)
    assert rows == []
    (tmp_path / "setup.cfg").write_text("[flake8]\ntsscan-rule-dirs = myrules\ntsscan-target-version = 2.14\n")
    _, rows = flake8("--select", "TS", "m.py", cwd=tmp_path)
    assert [(r, c, code) for _, r, c, code, _ in rows] == [(6, 5, "TS950")]
    # the same on the command line; in several worker processes (each parses the options)
    for i in range(4):
        (tmp_path / f"m{i}.py").write_text(PRINTS)
    (tmp_path / "setup.cfg").unlink()
    _, rows = flake8(
        "--isolated",
        "--select",
        "TS",
        "--jobs",
        "2",
        "--tsscan-rule-dirs",
        "myrules",
        "--tsscan-target-version",
        "2.14",
        ".",
        cwd=tmp_path,
    )
    assert sorted(p for p, *_ in rows) == ["./m.py", "./m0.py", "./m1.py", "./m2.py", "./m3.py"]


def test_pyproject_settings_apply_and_bad_ones_are_reported(tmp_path):
    (tmp_path / "myrules").mkdir()
    (tmp_path / "myrules" / "no_print.py").write_text(CUSTOM_RULE)
    (tmp_path / "m.py").write_text(PRINTS)
    (tmp_path / "pyproject.toml").write_text('[tool.tsscan]\nrule-dirs = ["myrules"]\ntarget-version = "2.14"\n')
    _, rows = flake8("--isolated", "--select", "TS", "m.py", cwd=tmp_path)
    assert [(r, code) for _, r, _, code, _ in rows] == [(6, "TS950")]
    (tmp_path / "pyproject.toml").write_text('[tool.tsscan]\nselekt = ["TS"]\n')
    _, rows = flake8("--isolated", "--select", "TS", "m.py", cwd=tmp_path)
    assert [(r, code) for _, r, _, code, _ in rows] == [(1, "TS000")]
    assert "selekt" in rows[0][4]


def test_options_are_listed_in_help():
    proc = subprocess.run([sys.executable, "-m", "flake8", "--help"], capture_output=True, text=True, timeout=120)
    assert "--tsscan-target-version" in proc.stdout
    assert "--tsscan-rule-dirs" in proc.stdout


BROKEN_RULE = textwrap.dedent(
    """\
    import libcst as cst
    from tsscan.rule import Rule


    class Broken(Rule):
        \"\"\"A rule with a bug (raises on every return).\"\"\"

        code = "TS951"
        name = "broken"
        message = "never reported"

        def visit_Return(self, node: cst.Return) -> None:
            raise ValueError("rule bug")
    """
)


def test_files_tsscan_cannot_check_do_not_crash_flake8(tmp_path):
    (tmp_path / "myrules").mkdir()
    (tmp_path / "myrules" / "broken.py").write_text(BROKEN_RULE)
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "ok.py").write_text(TWO_FINDINGS)
    proc, rows = flake8(
        "--isolated",
        "--select",
        "TS,E999",
        "--tsscan-rule-dirs",
        "myrules",
        "broken.py",
        "ok.py",
        cwd=tmp_path,
    )
    by_file = {}
    for p, r, _c, code, text in rows:
        by_file.setdefault(p, []).append((r, code, text))
    # flake8 reports what Python cannot parse itself and runs no plugin on it
    assert [code for _, code, _ in by_file["broken.py"]] == ["E999"]
    # a function tsscan could not finish checking is reported as TS000 on line 1
    assert by_file["ok.py"][0][:2] == (1, "TS000")
    assert "rule bug" in by_file["ok.py"][0][2]
    # rules that cannot be loaded: one TS000 per file, no traceback
    (tmp_path / "myrules" / "broken.py").write_text("raise ImportError('nope')\n")
    _, rows = flake8("--isolated", "--select", "TS", "--tsscan-rule-dirs", "myrules", "ok.py", cwd=tmp_path)
    assert [(r, code) for _, r, _, code, _ in rows] == [(1, "TS000")]
    assert "cannot load" in rows[0][4]


def test_plugin_module_does_not_import_torch():
    code = (
        "import sys, tsscan.flake8 as f\n"
        "p = f.Plugin(None, 'fixtures/yolo_head.py', open('fixtures/yolo_head.py').readlines())\n"
        "f.Plugin.parse_options(type('O', (), {})())\n"
        "list(p.run())\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
