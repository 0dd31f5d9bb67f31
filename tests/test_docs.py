"""Rule pages are generated from the rules; `tsscan rules` and `tsscan explain`."""

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tsscan.cli import main
from tsscan.docs import documented_rules, generated_pages, render_section, rule_page

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_rule_pages_match_the_rules(tmp_path, rules):
    """Fails when a rule changed and `python -m tsscan.docs` was not run (or a page was edited)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan.docs", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    fresh = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.md")}
    committed = {p.name: p.read_text(encoding="utf-8") for p in (DOCS / "rules").glob("*.md")}
    stale = sorted(n for n in committed.keys() | fresh.keys() if committed.get(n) != fresh.get(n))
    assert not stale, f"docs/rules out of date ({', '.join(stale)}): run `python -m tsscan.docs`"
    assert set(fresh) == {f"{r.code}.md" for r in documented_rules()} | {"index.md"}


def test_every_rule_page_has_the_sections():
    for r in documented_rules():
        page = rule_page(r)
        assert page.startswith(f"# {r.code} {r.name}\n"), r.code
        for heading in ("## What it does", "## Why is this bad", "## Fix", "## Torch versions"):
            assert heading in page, (r.code, heading)
        assert r.fails_in in page
        # fenced code blocks are balanced
        assert page.count("```") % 2 == 0, r.code


def test_index_links_every_page(rules):
    pages = generated_pages(rules)
    index = pages["index.md"]
    for r in rules:
        assert f"[{r.code}]({r.code}.md)" in index
    links = re.findall(r"\]\((TS\d{3})\.md\)", index)
    assert len(links) == len(set(links)) == len(rules)


def test_render_section_fences_code_and_keeps_prose():
    assert render_section("mask = x.bool()") == "```python\nmask = x.bool()\n```\n"
    prose = "Use `x.to(torch.bool)` instead, which keeps NaN."
    assert render_section(prose) == prose + "\n"
    mixed = "Either:\n\n    y = x.to(torch.bool)\n\n    z = y\n\nor keep it eager."
    assert render_section(mixed) == ("Either:\n\n```python\ny = x.to(torch.bool)\n\nz = y\n```\n\nor keep it eager.\n")


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_rules_command_lists_every_rule():
    rules = documented_rules()
    code, out, _ = _run("rules")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["code", "name", "fix", "torch", "versions"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {r.code for r in rules}
    for r in rules:
        assert rows[r.code][1] == r.name
        assert rows[r.code][2] == (r.fix_safety or "-")
        assert " ".join(rows[r.code][3:]) == r.fails_in


def test_rules_command_json():
    import json

    rules = documented_rules()
    code, out, _ = _run("rules", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert [d["code"] for d in doc] == [r.code for r in rules]
    assert {"code", "name", "message", "fix", "fails_in", "level"} <= set(doc[0])


def test_explain_prints_the_rule_page(rules):
    code, out, _ = _run("explain", "TS101")
    assert code == 0
    assert out == rule_page(next(r for r in rules if r.code == "TS101"))
    name = next(r.name for r in rules if r.code == "TS101")
    code, out2, _ = _run("explain", name)  # by name, and case-insensitive code
    assert (code, out2) == (0, out)
    code, out3, _ = _run("explain", "ts101")
    assert (code, out3) == (0, out)


def test_explain_unknown_rule():
    code, out, err = _run("explain", "TS999")
    assert code == 2 and out == ""
    assert "no rule 'TS999'" in err


def test_explain_from_the_command_line():
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "explain", "TS401"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("# TS401 ")


# --------------------------------------------------------------------------- examples in the docs
EXAMPLES = DOCS / "examples"
SKIP = ("--fix", "--diff", "--verify", "explain-error")


def _shown_commands(skip=SKIP):
    """``$ tsscan ...`` / ``$ flake8 ...`` lines in ```text blocks of the README and the guide,
    with the output shown under them (up to a line ``...``)."""
    out = []
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```text\n(.*?)```", text, flags=re.S):
            current = None
            for line in block.splitlines():
                if line.startswith("$ "):
                    current = [page.name, line[2:], []]
                    out.append(current)
                elif current is not None:
                    current[2].append(line)
    return [
        (page, cmd, shown)
        for page, cmd, shown in out
        if cmd.split()[0] in ("tsscan", "flake8") and not any(s in cmd.split() for s in skip)
    ]


def test_docs_show_commands():
    shown = _shown_commands()
    assert len(shown) >= 6
    assert {page for page, _, _ in shown} >= {"README.md", "cli.md", "flake8.md", "output-formats.md"}


def test_output_shown_in_the_docs_is_real():
    import shlex

    for page, cmd, shown in _shown_commands():
        argv = shlex.split(cmd)
        argv = [sys.executable, "-m", argv[0]] + argv[1:]
        proc = subprocess.run(argv, cwd=EXAMPLES, capture_output=True, text=True, timeout=300)
        actual = proc.stdout.splitlines()
        while shown and shown[-1] == "":
            shown = shown[:-1]
        if "..." in shown:
            shown = shown[: shown.index("...")]
            actual = actual[: len(shown)]
        assert actual == shown, f"{page}: `{cmd}` prints something else now"


def test_relative_links_resolve():
    pages = [ROOT / "README.md", *DOCS.rglob("*.md")]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"`[^`\n]*`", "", text)  # code spans: `self.layers[i](x)` is no link
        for target in re.findall(r"\[[^\]\n]+\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


# ---------------------------------------------------------------- --fix / --diff examples
_TIMES = re.compile(r"\d+\.\d+ s\b")


def _split_streams(shown: list[str], out: str, err: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """The lines shown in a doc block that belong to stdout and to stderr (a terminal interleaves
    them; pipes do not), next to the real ones; timings normalised."""
    out_lines = [_TIMES.sub("N s", ln) for ln in out.splitlines()]
    err_lines = [_TIMES.sub("N s", ln) for ln in err.splitlines()]
    shown = [_TIMES.sub("N s", ln) for ln in shown]
    shown_out = [ln for ln in shown if ln in out_lines]
    shown_err = [ln for ln in shown if ln not in out_lines]
    return shown_out, out_lines, shown_err, err_lines


def _fixing_commands():
    shown = _shown_commands(skip=("explain-error",))
    return [(page, cmd, out) for page, cmd, out in shown if {"--fix", "--diff"} & set(cmd.split())]


def test_docs_show_fix_and_diff():
    assert [(page, cmd) for page, cmd, _ in _fixing_commands()] == [
        ("cli.md", "tsscan --diff models/"),
        ("cli.md", "tsscan --fix models/"),
    ]


@pytest.mark.parametrize("page,cmd,shown", _fixing_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_fix_and_diff_output_shown_in_the_docs_is_real(tmp_path, page, cmd, shown):
    import shlex

    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work)
    argv = shlex.split(cmd)
    proc = subprocess.run(
        [sys.executable, "-m", *argv, "--no-cache"], cwd=work, capture_output=True, text=True, timeout=600
    )
    while shown and shown[-1] == "":
        shown = shown[:-1]
    shown_out, out, shown_err, err = _split_streams(shown, proc.stdout, proc.stderr)
    assert (shown_out, shown_err) == (out, err), f"{page}: `{cmd}` prints something else now"
    # --diff: 1 when there is a diff; --fix: 1 while findings remain
    assert proc.returncode == (1 if "--fix" in argv or proc.stdout else 0)


def test_readme_fix_example_is_real(tmp_path):
    """The README's `tsscan --fix --unsafe-fixes fixtures/fix/yolo_detect.py` block (its first and last lines;
    `...` stands for the others) and the file it writes."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```text\n(.*?)```", readme, flags=re.S) if "fixed, confirmed" in b)
    head, _, tail = block.strip("\n").partition("\n...\n")
    fix_dir = tmp_path / "fixtures" / "fix"
    fix_dir.mkdir(parents=True)
    for name in ("yolo_detect.py", "pyproject.toml"):
        shutil.copy(ROOT / "fixtures" / "fix" / name, fix_dir / name)
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "--fix", "--unsafe-fixes", "--no-cache", "fixtures/fix/yolo_detect.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    real = [_TIMES.sub("N s", ln) for ln in (proc.stderr + proc.stdout).splitlines()]
    shown_head = [_TIMES.sub("N s", ln) for ln in head.splitlines()]
    shown_tail = [_TIMES.sub("N s", ln) for ln in tail.splitlines()]
    assert real[: len(shown_head)] == shown_head
    assert real[-len(shown_tail) :] == shown_tail
    assert (fix_dir / "yolo_detect.py").read_text() == (ROOT / "fixtures" / "fix" / "yolo_detect.fixed.py").read_text()
