"""``tsscan server``: the real server in a subprocess, spoken to over JSON-RPC on its stdio."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsp_client import Client
from test_flake8 import TWO_FINDINGS  # (a compiled function with TS101 and TS401)

NOT_CONFIRMED = "(not confirmed by the compiler: run tsscan --fix for that)"

TS101 = ("TS101", ((5, 4), (8, 13)))
TS401 = ("TS401", ((6, 12), (6, 20)))


def rng(d: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    r = d["range"]
    return (r["start"]["line"], r["start"]["character"]), (r["end"]["line"], r["end"]["character"])


def summary(diags: list[dict]) -> list[tuple[str, tuple]]:
    return [(d["code"], rng(d)) for d in diags]


def apply_edits(text: str, edits: list[dict]) -> str:
    """Apply LSP TextEdits (UTF-16 positions; ranges in the original text) as an editor does."""
    lines = text.splitlines(keepends=True)

    def offset(pos: dict) -> int:
        line = pos["line"]
        if line >= len(lines):
            return len(text)
        units = lines[line].encode("utf-16-le")[: 2 * pos["character"]].decode("utf-16-le")
        return sum(len(x) for x in lines[:line]) + len(units)

    spans = sorted(
        ((offset(e["range"]["start"]), offset(e["range"]["end"]), e["newText"]) for e in edits), reverse=True
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def action(uri: str, diag_range: dict, only: list[str] | None = None) -> dict:
    context: dict = {"diagnostics": []}
    if only is not None:
        context["only"] = only
    return {"textDocument": {"uri": uri}, "range": diag_range, "context": context}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    return tmp_path


@pytest.fixture
def client(project: Path):
    c = Client(project)
    c.initialize(project)
    yield c
    c.kill()


def test_diagnostics_quick_fix_fix_all_and_change(client: Client, project: Path) -> None:
    path = project / "m.py"
    path.write_text(TWO_FINDINGS)
    uri = client.open(path, TWO_FINDINGS)
    diags = client.diagnostics(uri, 1)
    assert summary(diags) == [TS101, TS401]
    assert all(d["source"] == "tsscan" for d in diags)
    assert diags[1]["message"] == "`.bool()` is not a TorchScript Tensor method; use `.to(torch.bool)`"
    assert diags[1]["codeDescription"]["href"].endswith("/rules/TS401.md")
    assert diags[0]["codeDescription"]["href"].endswith("/rules/TS101.md")

    # the same findings as `tsscan check` on the file
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "check", "--format", "json", "m.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    cli = [
        (d["code"], ((d["line"] - 1, d["column"] - 1), (d["end_line"] - 1, d["end_column"] - 1)))
        for d in json.loads(proc.stdout)["diagnostics"]
    ]
    assert cli == summary(diags)

    # on the TS401 finding: its quick fix, then "fix all"
    actions = client.request("textDocument/codeAction", action(uri, diags[1]["range"]))
    assert [(a["title"], a["kind"]) for a in actions] == [
        (f"Fix TS401: use .to(torch.bool) {NOT_CONFIRMED}", "quickfix"),
        (f"Fix all tsscan problems in this file (1 fix) {NOT_CONFIRMED}", "quickfix"),
    ]
    quick = actions[0]
    assert [d["code"] for d in quick["diagnostics"]] == ["TS401"]
    edits = quick["edit"]["changes"][uri]
    assert edits == [
        {
            "range": {"start": {"line": 6, "character": 0}, "end": {"line": 7, "character": 0}},
            "newText": "        y = x.to(torch.bool)\n",
        }
    ]
    fixed = apply_edits(TWO_FINDINGS, edits)
    assert fixed == TWO_FINDINGS.replace("x.bool()", "x.to(torch.bool)")
    # TS101 has no fix: no action on its first line (where it does not overlap TS401)
    first_line = {"start": {"line": 5, "character": 4}, "end": {"line": 5, "character": 4}}
    assert client.request("textDocument/codeAction", action(uri, first_line)) == []

    # the editor applies the fix: the change is checked from the new in-memory text
    client.change(uri, fixed, 2)
    assert summary(client.diagnostics(uri, 2)) == [TS101]
    assert path.read_text() == TWO_FINDINGS  # nothing was written to disk
    # nothing left to fix: no action at all
    assert client.request("textDocument/codeAction", action(uri, diags[1]["range"])) == []
    rc, err = client.stop()
    assert rc == 0, err
    assert "Traceback" not in err


def test_fix_all_as_source_action_applies_every_safe_fix(client: Client, project: Path) -> None:
    text = TWO_FINDINGS.replace("return y", "return x.bool() + y.bool()")
    uri = client.open(project / "m.py", text)
    codes = [d["code"] for d in client.diagnostics(uri, 1)]
    assert codes.count("TS401") == 3, codes
    nowhere = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    actions = client.request("textDocument/codeAction", action(uri, nowhere, ["source.fixAll"]))
    assert [(a["title"], a["kind"]) for a in actions] == [
        (f"Fix all tsscan problems in this file (3 fixes) {NOT_CONFIRMED}", "source.fixAll.tsscan")
    ]
    fixed = apply_edits(text, actions[0]["edit"]["changes"][uri])
    assert fixed == TWO_FINDINGS.replace("x.bool()", "x.to(torch.bool)").replace(
        "return y", "return x.to(torch.bool) + y.to(torch.bool)"
    )
    client.change(uri, fixed, 2)
    assert summary(client.diagnostics(uri, 2)) == [TS101]
    # asked for quick fixes only, away from any finding: nothing
    assert client.request("textDocument/codeAction", action(uri, nowhere, ["quickfix"])) == []


def test_syntax_error_is_a_diagnostic_not_a_crash(client: Client, project: Path) -> None:
    broken = TWO_FINDINGS.replace("def f(x: torch.Tensor)", "def f(x: torch.Tensor")
    uri = client.open(project / "m.py", broken)
    (diag,) = client.diagnostics(uri, 1)
    assert diag["code"] == "TS000"
    assert diag["message"].startswith("syntax error:")
    assert diag["range"]["start"]["line"] == 4
    # the server is still there, and checks the repaired text
    client.change(uri, TWO_FINDINGS, 2)
    assert summary(client.diagnostics(uri, 2)) == [TS101, TS401]
    rc, err = client.stop()
    assert rc == 0 and "Traceback" not in err, err


def test_positions_are_utf16_code_units(client: Client, project: Path) -> None:
    # "😋" is one code point and two UTF-16 code units: `x.bool()` starts at code point 21, UTF-16 unit 22
    text = TWO_FINDINGS.replace("y = x.bool()", 's = "😋"; y = x.bool()')
    uri = client.open(project / "m.py", text)
    diags = client.diagnostics(uri, 1)
    assert summary(diags) == [("TS101", ((5, 4), (8, 13))), ("TS401", ((6, 22), (6, 30)))]
    (quick, _) = client.request("textDocument/codeAction", action(uri, diags[1]["range"]))
    assert apply_edits(text, quick["edit"]["changes"][uri]) == text.replace("x.bool()", "x.to(torch.bool)")


def test_nearest_pyproject_is_honoured_and_reloaded(client: Client, project: Path) -> None:
    sub = project / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.tsscan]\nignore = ["TS401"]\n')
    top_uri = client.open(project / "m.py", TWO_FINDINGS)
    sub_uri = client.open(sub / "m.py", TWO_FINDINGS)
    assert summary(client.diagnostics(top_uri, 1)) == [TS101, TS401]
    assert summary(client.diagnostics(sub_uri, 1)) == [TS101]

    # the configuration changes on disk; the client says so: every open file is checked again
    (sub / "pyproject.toml").write_text(
        '[tool.tsscan]\nignore = ["TS101"]\nper-file-ignores = {"other.py" = ["TS4"]}\n'
    )
    client.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": (sub / "pyproject.toml").as_uri(), "type": 2}]}
    )
    assert summary(client.diagnostics(sub_uri)) == [TS401]
    assert summary(client.diagnostics(top_uri)) == [TS101, TS401]

    # per-file-ignores apply by path; a broken table is one TS000, not silence
    other_uri = client.open(sub / "other.py", TWO_FINDINGS)
    assert summary(client.diagnostics(other_uri, 1)) == []
    (sub / "pyproject.toml").write_text("[tool.tsscan]\nselct = ['TS1']\n")
    client.change(sub_uri, TWO_FINDINGS, 2)  # (no notification: the next check sees the file changed)
    (diag,) = client.diagnostics(sub_uri, 2)
    assert diag["code"] == "TS000"
    assert "configuration error" in diag["message"] and "selct" in diag["message"]


def test_excluded_and_plain_files_get_no_diagnostics(client: Client, project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.tsscan]\nexclude = ["legacy/"]\n')
    (project / "legacy").mkdir()
    legacy = client.open(project / "legacy" / "m.py", TWO_FINDINGS)
    assert client.diagnostics(legacy, 1) == []
    plain = client.open(
        project / "plain.py", "def f(x):\n    try:\n        return x\n    except ValueError:\n        pass\n"
    )
    assert client.diagnostics(plain, 1) == []


GUARDED_SERVER = """
import atexit, sys

attempts = []

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            frame = sys._getframe(1)
            while frame is not None:  # an import statement, not importlib.util.find_spec (a lookup)
                if frame.f_code.co_name == "_find_and_load":
                    attempts.append(name)
                    raise ImportError("torch imported by the language server")
                frame = frame.f_back
        return None

sys.meta_path.insert(0, NoTorch())
atexit.register(lambda: sys.stderr.write(f"IMPORTED torch={'torch' in sys.modules} attempts={attempts}\\n"))
from tsscan.cli import main
sys.exit(main(["server"]))
"""


def test_never_imports_torch_or_user_code(project: Path) -> None:
    marker = project / "imported"
    pkg = project / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    text = (
        f"open({str(marker)!r}, 'w').close()\nimport pkg\nfrom torch import nn\n"
        + TWO_FINDINGS
        + "\n\nclass M(nn.Module):\n    def forward(self, x):\n        return x.bool()\n"
    )
    (project / "m.py").write_text(text)
    client = Client(project, [sys.executable, "-c", GUARDED_SERVER])
    try:
        client.initialize(project)
        uri = client.open(project / "m.py", text)
        diags = client.diagnostics(uri, 1)
        assert [d["code"] for d in diags] == ["TS101", "TS401", "TS401"]
        nowhere = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
        (fix_all,) = client.request("textDocument/codeAction", action(uri, nowhere, ["source"]))
        assert "2 fixes" in fix_all["title"]
        rc, err = client.stop()
    finally:
        client.kill()
    assert rc == 0, err
    assert "IMPORTED torch=False attempts=[]" in err
    assert not marker.exists()


def test_without_pygls_one_clear_line(tmp_path: Path) -> None:
    # pygls hidden: `tsscan server` says what to install, exit 2, no traceback
    hide = "import sys; sys.modules['pygls'] = None; from tsscan.cli import main; sys.exit(main(['server']))"
    proc = subprocess.run([sys.executable, "-c", hide], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "tsscan: error: the language server needs pygls and lsprotocol: pip install 'tsscan[lsp]'\n"


def test_code_actions_after_the_result_was_let_go(client: Client, project: Path) -> None:
    # the engine's result is kept for the 8 most recently checked documents: the first of ten
    # is checked again when the editor asks for its fixes
    first = client.open(project / "m0.py", TWO_FINDINGS)
    diags = client.diagnostics(first, 1)
    for i in range(1, 10):
        uri = client.open(project / f"m{i}.py", TWO_FINDINGS)
        assert summary(client.diagnostics(uri, 1)) == [TS101, TS401]
    actions = client.request("textDocument/codeAction", action(first, diags[1]["range"]))
    assert [a["title"] for a in actions][0] == f"Fix TS401: use .to(torch.bool) {NOT_CONFIRMED}"
    fixed = apply_edits(TWO_FINDINGS, actions[0]["edit"]["changes"][first])
    assert fixed == TWO_FINDINGS.replace("x.bool()", "x.to(torch.bool)")


def cli_findings(project: Path, name: str) -> list[tuple[str, tuple, str]]:
    """``tsscan check --format json`` on a file of ``project``: (code, 0-based range, message)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "check", "--no-cache", "--format", "json", name],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return [
        (d["code"], ((d["line"] - 1, d["column"] - 1), (d["end_line"] - 1, d["end_column"] - 1)), d["message"])
        for d in json.loads(proc.stdout)["diagnostics"]
    ]


def full_summary(diags: list[dict]) -> list[tuple[str, tuple, str]]:
    return [(d["code"], rng(d), d["message"]) for d in diags]


TWO_FUNCTIONS = TWO_FINDINGS + textwrap.dedent(
    """\


    @torch.jit.script
    def g(x: torch.Tensor) -> torch.Tensor:
        return x + 1
    """
)


def test_a_change_rechecks_the_functions_it_touched(client: Client, project: Path) -> None:
    # f keeps its findings (moved down by the lines added above it); g is checked again
    path = project / "m.py"
    uri = client.open(path, TWO_FUNCTIONS)
    assert summary(client.diagnostics(uri, 1)) == [TS101, TS401]
    edited = TWO_FUNCTIONS.replace("import torch\n", "import torch\n# one\n# two\n").replace(
        "return x + 1", "z = x.bool()\n    return x + 1"
    )
    client.change(uri, edited, 2)
    quick = client.diagnostics(uri, 2)
    path.write_text(edited)
    assert full_summary(quick) == cli_findings(project, "m.py")
    assert summary(quick) == [
        ("TS101", ((7, 4), (10, 13))),
        ("TS401", ((8, 12), (8, 20))),
        ("TS401", ((16, 8), (16, 16))),
    ]
    # the quick fixes of a quickly checked text: the server checks it in full first
    actions = client.request("textDocument/codeAction", action(uri, quick[2]["range"]))
    assert actions[0]["title"] == f"Fix TS401: use .to(torch.bool) {NOT_CONFIRMED}"
    assert apply_edits(edited, actions[0]["edit"]["changes"][uri]) == edited.replace(
        "z = x.bool()", "z = x.to(torch.bool)"
    )


CALLER_CALLEE = textwrap.dedent(
    """\
    import torch


    @torch.jit.script
    def g(x: torch.Tensor) -> torch.Tensor:
        return f(x, 1, 2)


    def f(x: torch.Tensor) -> torch.Tensor:
        return x
    """
)


def test_a_quick_check_is_followed_by_a_full_one(client: Client, project: Path) -> None:
    # g's finding names the line of f: a line added between them leaves g's text as it was, so
    # the quick check keeps g's finding with the old line in its message; the full check that
    # follows (the document left alone for a moment) publishes the right one
    path = project / "m.py"
    uri = client.open(path, CALLER_CALLEE)
    (diag,) = client.diagnostics(uri, 1)
    assert diag["code"] == "TS411" and "`f` (line 9)" in diag["message"]
    edited = CALLER_CALLEE.replace("\n\ndef f", "\n\n# a comment\ndef f")
    client.change(uri, edited, 2)
    (quick,) = client.diagnostics(uri, 2)
    assert "`f` (line 9)" in quick["message"]  # kept from the first check
    (full,) = client.wait_for(
        "textDocument/publishDiagnostics", lambda p: p["uri"] == uri and p.get("version") == 2, timeout=60
    )["diagnostics"]
    assert "`f` (line 10)" in full["message"]
    path.write_text(edited)
    assert full_summary([full]) == cli_findings(project, "m.py")


def test_file_level_noqa_silences_the_file_as_tsscan_check_does(client: Client, project: Path) -> None:
    text = "# flake8: noqa\n" + TWO_FINDINGS
    (project / "m.py").write_text(text)
    uri = client.open(project / "m.py", text)
    assert client.diagnostics(uri, 1) == [] == cli_findings(project, "m.py")


# --------------------------------------------------------------------------- a chain of edits
# The language server re-parses only the top-level statements an edit touched
# (tsscan/semantic/reparse.py), keeps what is derived from the others on their nodes, and
# re-checks only the functions a change touched (a quick check, followed by a full one). Pinned
# here: after every edit of a realistic chain, the diagnostics the server ends up publishing for
# that version are those of a fresh ``tsscan check`` of the same text.
EDITED_MODEL = (Path(__file__).parent / "data" / "edited_model.py").read_text(encoding="utf-8")

# (old, new): each replaces exactly one occurrence in the text left by the edits before it
EDIT_CHAIN: list[tuple[str, str]] = [
    # typing in compiled code, a statement at a time (with the syntax errors on the way)
    ("        B, N, C = x.shape\n", "        B, N, C = x.shape\n        y = x.bo\n"),
    ("        y = x.bo\n", "        y = x.bool(\n"),
    ("        y = x.bool(\n", "        y = x.bool()\n"),
    ("        y = x.bool()\n", ""),
    ("            x = layer(x)\n", "            x = layer(x)\n            keep = [v for v in sizes if v > 0]\n"),
    # __init__ changes what the attributes are (the configuration findings of forward)
    ("        self.gate = nn.Linear(dim, dim) if gated else None\n", "        self.gate = nn.Linear(dim, dim)\n"),
    ("        self.gate = nn.Linear(dim, dim)\n", "        self.gate = nn.Linear(dim, dim) if gated else None\n"),
    ("gated: bool = False", "gated: bool = True"),
    ("            self.qkv = None\n", "            pass\n"),
    ("            pass\n", "            self.qkv = None\n"),
    ("        self.history = []\n", "        self.history: List[torch.Tensor] = []\n"),
    # imports and module constants
    ("import torch.nn.functional as F\n", ""),
    ("import torch.nn as nn\n", "import torch.nn as nn\nfrom torch.nn import functional as F\n"),
    ("SCALE = 2\n", "SCALE = 2.5\n"),
    ("USE_BIAS = True\n", "USE_BIAS = True\nDIMS: List[int] = [1, 2]\n"),
    ("    return x * factor\n", "    return x * factor * DIMS[0]\n"),
    # lines added and removed between statements: everything below moves
    ("class Trunk(nn.Module):\n", "# --- the trunk ---\n\n\nclass Trunk(nn.Module):\n"),
    ("# --- the trunk ---\n\n\n", ""),
    ('"""A model file', '"""A model file (edited)'),
    # compiled code appears and disappears
    (
        "        return out\n\n    @torch.jit.export",
        "        self.predict(x)\n        return out\n\n    @torch.jit.export",
    ),
    ("    def predict(self, x, top=5):\n", "    def predict(self, x, top=5:\n"),
    ("    def predict(self, x, top=5:\n", "    def predict(self, x, top: int = 5):\n"),
    (
        "def build(",
        "@torch.jit.script\ndef clip(x: torch.Tensor) -> torch.Tensor:\n    return x.bool()\n\n\ndef build(",
    ),
    ("    @torch.jit.export\n", "    @torch.jit.unused\n"),
    # a class deleted, a helper renamed under its callers, a method edited in a base of the file
    ("class Decoder(nn.Module):", "class Decoder(Trunk):"),
    ("def make_norm(dim: int)", "def make_norm2(dim: int)"),
    ("def make_norm2(dim: int)", "def make_norm(dim: int)"),
    (
        "        x = (attn @ v).transpose(1, 2).reshape(B, N, C)\n",
        "        x = (attn @ v).transpose(1, 2)\n        x = x.reshape(\n            B, N, C\n        )\n",
    ),
    (
        "    def forward(self, x: torch.Tensor, sizes: List[int]) -> torch.Tensor:\n        for layer in self.layers:\n            x = layer(x)\n",
        "    def forward(self, x: torch.Tensor, sizes: List[int]) -> torch.Tensor:\n",
    ),
    ("        self.dropout = dropout\n", "        self.dropout = dropout\n        self.extra = None\n"),
    ("        return self.attn(x)\n", "        if self.extra:\n            x = x + 1\n        return self.attn(x)\n"),
    ("\n\nclass Decoder(Trunk):", "\n\nclass Decoder2(Trunk):"),
    ("    model.eval()\n", "    model.eval()\n    model.trunk.extra = 1\n"),
]


def settled(client: Client, uri: str, version: int) -> list[dict]:
    """The diagnostics the server ends up publishing for ``version``: its first publication (a
    quick check, maybe), then a code-action request, which checks the document in full first if
    the last check was a quick one (the full check a quick one is followed by anyway): the last
    publication for that version before the answer."""
    diagnostics = client.diagnostics(uri, version)
    client.request(
        "textDocument/codeAction",
        action(uri, {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}),
    )
    for _, msg in client.notifications:
        params = msg["params"]
        if (
            msg["method"] == "textDocument/publishDiagnostics"
            and params["uri"] == uri
            and params.get("version") == version
        ):
            diagnostics = params["diagnostics"]
    client.notifications.clear()
    return diagnostics


def fresh_check(path: Path) -> list[tuple[str, tuple, str]]:
    """``tsscan check --no-cache --format json`` of ``path``, in this process (a new engine run:
    nothing of the server's)."""
    import io

    from tsscan.cli import main

    out, err = io.StringIO(), io.StringIO()
    main(["check", "--no-cache", "--format", "json", str(path)], out=out, err=err)
    return [
        (d["code"], ((d["line"] - 1, d["column"] - 1), (d["end_line"] - 1, d["end_column"] - 1)), d["message"])
        for d in json.loads(out.getvalue())["diagnostics"]
    ]


def test_a_chain_of_edits_ends_with_the_findings_of_a_fresh_check(client: Client, project: Path) -> None:
    path = project / "model.py"
    text = EDITED_MODEL
    uri = client.open(path, text)
    path.write_text(text)
    assert full_summary(settled(client, uri, 1)) == fresh_check(path)
    seen_codes = set()
    for version, (old, new) in enumerate(EDIT_CHAIN, start=2):
        assert text.count(old) == 1, f"edit {version}: {old!r} is not in the text once"
        text = text.replace(old, new)
        client.change(uri, text, version)
        got = settled(client, uri, version)
        try:
            ast.parse(text)
        except SyntaxError:
            assert [d["code"] for d in got] == ["TS000"], f"edit {version}"
            continue
        path.write_text(text)
        assert full_summary(got) == fresh_check(path), f"edit {version}: {old!r} -> {new!r}"
        seen_codes |= {d["code"] for d in got}
    # the chain went through configuration, list, indexing and method findings
    assert {"TS321", "TS401", "TS103", "TS310", "TS301"} <= seen_codes


def test_reparse_gives_the_tree_of_a_whole_parse() -> None:
    from tsscan.files import split_lines
    from tsscan.semantic.reparse import reparse, same_tree

    text = tree_text = EDITED_MODEL
    tree = ast.parse(text)
    reused = 0
    for old, new in EDIT_CHAIN:
        assert text.count(old) == 1
        text = text.replace(old, new)
        try:
            whole = ast.parse(text)
        except SyntaxError:
            whole = None
        got = reparse(tree, split_lines(tree_text), split_lines(text), "m.py")
        if got is not None:
            reused += 1
            assert whole is not None and same_tree(got, whole), (old, new)
            tree, tree_text = got, text
        elif whole is not None:
            tree, tree_text = whole, text
    assert reused >= len(EDIT_CHAIN) // 2


def test_reparse_on_random_line_edits_of_real_files() -> None:
    # lines inserted (statements, headers, ``else:``, odd indentation), deleted, replaced and
    # duplicated in tsscan's own modules: each tree reparse gives is the whole parse's
    import random

    from tsscan.files import split_lines
    from tsscan.semantic.reparse import reparse, same_tree

    pieces = ["    x = 1\n", "\n", "# c\n", "def f():\n", "    return 2\n", "class Z:\n", "@dec\n", "x = (\n", ")\n"]
    pieces += ["    '''\n", "else:\n", "elif x:\n", "    else:\n", "  x = 2\n", "    def g(self):\n", "\tx = 1\n"]
    pieces += ["        return 1\n", "    @property\n", "        if a:\n", "            pass\n", "import os\n"]
    rnd = random.Random(14)
    files = sorted((Path(__file__).resolve().parent.parent / "tsscan" / "semantic").glob("*.py"))
    # the modules long enough for the shortcut to apply often (below MIN_LINES it never does):
    # how many small modules there are does not change the count below
    files = [f for f in files if len(f.read_text(encoding="utf-8").splitlines()) >= 120]
    reused = 0
    for path in rnd.sample(files, 12):
        text = path.read_text(encoding="utf-8")
        tree, lines = ast.parse(text), split_lines(text)
        for _ in range(30):
            new = list(lines)
            i = rnd.randrange(len(new) + 1)
            kind = rnd.randrange(4)
            if kind == 0:
                new[i:i] = rnd.sample(pieces, rnd.randint(1, 2))
            elif kind == 1:
                del new[i : i + rnd.randint(1, 4)]
            elif kind == 2 and i < len(new):
                new[i] = rnd.choice(pieces)
            else:
                new[i:i] = new[max(0, i - 3) : i]
            try:
                whole = ast.parse("".join(new))
            except SyntaxError:
                whole = None
            got = reparse(tree, lines, new, "m.py")
            if got is not None:
                reused += 1
                assert whole is not None and same_tree(got, whole), (path.name, kind, i)
            if got is not None or whole is not None:
                tree, lines = got or whole, new
    assert reused > 100
