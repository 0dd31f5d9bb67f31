"""Output formats: text, json, sarif (validated against the SARIF 2.1.0 schema), github."""

import io
import json
import os
import re
import textwrap
from pathlib import Path

import jsonschema
import pytest

from tsscan.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

SOURCE = textwrap.dedent(
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


def run(*argv, cwd=None):
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        code = main(list(argv), out, err)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(SOURCE)
    (tmp_path / "pkg" / "clean.py").write_text("import torch\n\n\ndef f(x):\n    return x\n")
    (tmp_path / "pkg" / "bad,name%.py").write_text(SOURCE)
    (tmp_path / "pkg" / "broken.py").write_text("def f(:\n")
    return tmp_path


# --------------------------------------------------------------------------- text
def _rule(code):
    from tsscan.registry import load_rules

    return next(r for r in load_rules() if r.code == code)


def test_text(project):
    code, out, _ = run("pkg/m.py", "pkg/clean.py", cwd=project)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0] == f"pkg/m.py:6:5: TS101 {_rule('TS101').message}"
    assert re.fullmatch(r"pkg/m\.py:7:13: TS401 \[\*\] .*bool.*", lines[1])
    assert lines[2] == "Found 2 problems in 2 files. 1 fixable with `tsscan --fix`."


def test_text_clean_and_statistics(project):
    code, out, _ = run("pkg/clean.py", cwd=project)
    assert (code, out) == (0, "All checks passed (1 file).\n")
    code, out, _ = run("--statistics", "pkg/m.py", cwd=project)
    assert f"     1  TS101  {_rule('TS101').name}\n" in out
    assert f"     1  TS401  {_rule('TS401').name}\n" in out


def test_exit_zero_and_output_file(project):
    code, out, _ = run("--exit-zero", "--format", "json", "-o", "report.json", "pkg/m.py", cwd=project)
    assert code == 0 and out == ""
    doc = json.loads((project / "report.json").read_text())
    assert [d["code"] for d in doc["diagnostics"]] == ["TS101", "TS401"]


# --------------------------------------------------------------------------- json
def test_json_fields_are_the_documented_ones(project):
    code, out, _ = run("--format", "json", "pkg", cwd=project)
    assert code == 2  # broken.py cannot be parsed; the others are still checked
    doc = json.loads(out)
    assert set(doc) == {"version", "files", "diagnostics", "errors", "fixed", "fixes", "torch"}
    d = doc["diagnostics"][-1]
    assert {k: v for k, v in d.items() if k not in ("message", "fix")} == {
        "path": "pkg/m.py",
        "line": 7,
        "column": 13,
        "end_line": 7,
        "end_column": 21,
        "code": "TS401",
        "name": _rule("TS401").name,
    }
    assert "bool" in d["message"]
    assert set(d["fix"]) == {"safety", "description"} and d["fix"]["safety"] == "safe"
    assert doc["diagnostics"][0]["fix"] is None  # TS101 has no fix
    assert doc["errors"] == [{"path": "pkg/broken.py", "message": doc["errors"][0]["message"]}]
    assert "syntax error" in doc["errors"][0]["message"]
    documented = (ROOT / "docs" / "output-formats.md").read_text()
    for key in list(doc) + list(d) + ["safety", "description"]:
        assert f"`{key}`" in documented, key


# --------------------------------------------------------------------------- sarif
def _validate(doc):
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    errors = sorted(cls(SCHEMA, format_checker=cls.FORMAT_CHECKER).iter_errors(doc), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


def test_sarif_validates_against_the_schema(project):
    code, out, _ = run("--format", "sarif", "pkg", cwd=project)
    assert code == 2
    doc = json.loads(out)
    _validate(doc)
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert {"TS101", "TS401"} <= {r["id"] for r in rules}
    for r in rules:
        assert r["help"]["text"] and r["help"]["markdown"].startswith(f"# {r['id']} ")
        assert r["helpUri"].endswith(f"/rules/{r['id']}.md")
    results = run_["results"]
    assert len(results) == 4
    by_uri = {}
    for res in results:
        loc = res["locations"][0]["physicalLocation"]
        by_uri.setdefault(loc["artifactLocation"]["uri"], []).append(
            (res["ruleId"], loc["region"]["startLine"], loc["region"]["startColumn"])
        )
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    assert by_uri["pkg/m.py"] == [("TS101", 6, 5), ("TS401", 7, 13)]
    assert "pkg/bad%2Cname%25.py" in by_uri
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    assert run_["invocations"][0]["executionSuccessful"] is False


def test_sarif_on_every_fixture_and_clean_run_validates():
    files = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "fixtures").rglob("*.py"))]
    code, out, _ = run("--format", "sarif", *files, cwd=ROOT)
    assert code == 1  # the fixture models have findings
    _validate(json.loads(out))
    code, out, _ = run("--format", "sarif", "tsscan/report.py", cwd=ROOT)
    assert code == 0
    doc = json.loads(out)
    _validate(doc)
    assert doc["runs"][0]["results"] == []


def test_sarif_rule_pages_exist():
    from tsscan.config import toml_parser
    from tsscan.report import docs_url

    base = docs_url()
    documentation = toml_parser().loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Documentation"]
    assert base == documentation.rstrip("/")  # [project.urls], not a file:// path of this machine
    assert base.endswith("/docs")  # the pages it links to are docs/rules/*.md of the repository
    assert (ROOT / "docs" / "rules" / "index.md").is_file() and (ROOT / "docs" / "rules" / "TS101.md").is_file()


# --------------------------------------------------------------------------- github
def test_github_annotations(project):
    code, out, _ = run("--format", "github", "pkg", cwd=project)
    assert code == 2
    lines = out.splitlines()
    assert f"::error file=pkg/m.py,line=6,col=5,endLine=9,endColumn=14,title=TS101::{_rule('TS101').message}" in lines
    assert any(
        line.startswith("::error file=pkg/m.py,line=7,col=13,endLine=7,endColumn=21,title=TS401::") for line in lines
    )
    # property values escape , and %; messages escape % and newlines
    assert any(line.startswith("::error file=pkg/bad%2Cname%25.py,line=6,") for line in lines)
    broken = [line for line in lines if "broken.py" in line]
    assert broken and broken[0].startswith("::error file=pkg/broken.py,title=tsscan::syntax error")
    assert all(line.startswith("::error ") for line in lines)
