"""Bad input through the real command line: no crash, one clear line per bad file, exit 2,
every other file still checked, and ``--fix`` leaves the bad file byte-identical.

Files that *are* fixed keep their encoding, BOM, newline style and indentation: only the
fixed expression changes.

Permissions: these tests may run as root, where mode 000 does not stop a read. The
permission tests then check what is true for root (the file is read and checked) and the
read/walk failure paths are exercised with paths that really fail for root too
(``/proc/self/mem``, a directory path longer than PATH_MAX).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tsscan.cli import main

ROOT = Path(__file__).resolve().parent.parent

GOOD = b"""import torch
from torch import nn


class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
"""
GOOD_FIXED = GOOD.replace(b"x.bool()", b"x.to(torch.bool)")
GOOD_FINDING = "good.py:7:16: TS401"
FIX = ["--fix", "--no-verify"]  # confirmation by the compiler is not what these tests are about


def tree(tmp_path: Path, files: dict) -> Path:
    """A project: pyproject.toml (so the project root, and its cache, is here), good.py, files."""
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    (tmp_path / "good.py").write_bytes(GOOD)
    for name, data in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return tmp_path


def run(cwd: Path, *args: str) -> tuple[int, str, list[str]]:
    """``tsscan ARGS`` in-process, in ``cwd``: (exit code, stdout, stderr lines)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), out, err)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue().splitlines()


def run_proc(cwd: Path, *args: str, env_extra=None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "tsscan", *args], cwd=cwd, env=env, capture_output=True, timeout=timeout
    )


def assert_bad(cwd: Path, name: str, problem: str) -> None:
    """check and --fix: exit 2, one error line naming ``name`` and ``problem``, good.py still
    checked (and fixed), the bad file byte-identical after --fix."""
    bad = cwd / name
    before = bad.read_bytes() if bad.is_file() else None
    code, out, err = run(cwd, "check", ".")
    assert code == 2, (out, err)
    mine = [ln for ln in err if name in ln]
    assert len(mine) == 1, err
    assert mine[0].startswith("tsscan: error: ") and problem in mine[0], mine[0]
    assert "Traceback" not in "\n".join(err) and "internal error" not in "\n".join(err)
    assert GOOD_FINDING in out, out

    code, out, err = run(cwd, *FIX, ".")
    assert code == 2, (out, err)
    assert len([ln for ln in err if name in ln]) == 1, err
    assert (cwd / "good.py").read_bytes() == GOOD_FIXED
    if before is not None:
        assert bad.read_bytes() == before
    (cwd / "good.py").write_bytes(GOOD)


MODULE = "import torch\nfrom torch import nn\n\n\nclass M(nn.Module):\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"

BAD_FILES = {
    "syntax_error": (b"def f(:\n    pass\n", "syntax error at line 1"),
    "unclosed_bracket": (MODULE.encode() + b"        return (x\n", "syntax error"),
    # libcst accepts more than Python does (assignment to a call): Python's verdict wins
    "libcst_accepts_ast_rejects": (
        MODULE.encode() + b"        f() = 1\n        return x\n",
        "cannot assign to function call",
    ),
    # Python accepts a form feed before an indented block's first line; libcst does not
    # (with a fixable class after it: a file that is partly unreadable is not rewritten at all)
    "ast_accepts_libcst_rejects": (
        MODULE.encode() + b"        if True:\n\x0c            y = x\n        return x.bool()\n\n\n"
        b"class N(nn.Module):\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return x.bool()\n",
        "libcst cannot parse M.forward (line 6)",
    ),
    "binary": (bytes(range(256)) * 8, "binary file"),
    "undeclared_latin1": (b'x = "caf\xe9"\n', "encoding"),
    "unknown_encoding": (b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding: klingon"),
    "declared_utf8_but_latin1": (
        b"# coding: utf-8\nx = 'caf\xe9'\n",
        "cannot decode as utf-8: line 2: invalid continuation byte",
    ),
    "python2_print": (b'print "hello"\n', "Missing parentheses in call to 'print'"),
    "python2_except": (b"try:\n    pass\nexcept ValueError, e:\n    pass\n", "syntax error"),
    "python2_backticks_octal": (b"x = `1`\ny = 0777\n", "syntax error"),
    "deeply_nested": (
        MODULE.encode() + b"        y = " + b"+".join([b"x"] * 1500) + b"\n        return y.bool()\n",
        "nested too deeply",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file(tmp_path, case):
    data, problem = BAD_FILES[case]
    cwd = tree(tmp_path, {"bad.py": data})
    assert_bad(cwd, "bad.py", problem)


def test_python_312_syntax(tmp_path):
    src = b"type Pair = tuple[int, int]\n\n\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n\n\nclass Box[T]:\n    pass\n"
    cwd = tree(tmp_path, {"new.py": src})
    if sys.version_info < (3, 12):
        assert_bad(cwd, "new.py", "syntax error at line 1, column 6: invalid syntax (Python 3.12+ syntax")
    else:  # the running Python parses it: an ordinary file with nothing compiled
        code, out, err = run(cwd, "check", ".")
        assert code == 1 and GOOD_FINDING in out and not err


def test_empty_and_bom_only_files_are_clean(tmp_path):
    cwd = tree(tmp_path, {"empty.py": b"", "bom.py": b"\xef\xbb\xbf", "blank.py": b"\n\n\r\n"})
    (cwd / "good.py").unlink()
    code, out, err = run(cwd, "check", ".")
    assert (code, err) == (0, []), (out, err)
    code, out, err = run(cwd, *FIX, ".")
    assert code == 0 and not err
    assert (cwd / "empty.py").read_bytes() == b"" and (cwd / "bom.py").read_bytes() == b"\xef\xbb\xbf"


# ------------------------------------------------------------------ fixed files keep their bytes
def _fixed_only_at_the_finding(before: bytes, after: bytes, old: bytes, new: bytes) -> None:
    assert after != before
    assert after == before.replace(old, new), (before, after)


PRESERVE = {
    "latin1_declared": b"# -*- coding: latin-1 -*-\n"
    + GOOD.replace(b"import torch\n", b"import torch\n# caf\xe9 cr\xe8me\n", 1),
    "utf8_bom_crlf": b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n"),
    "crlf": GOOD.replace(b"\n", b"\r\n"),
    "cr_only": GOOD.replace(b"\n", b"\r") + b"\r    def other(self):\r        return 1\r",
    "mixed_newlines": b"import torch\nfrom torch import nn\r\n\n\nclass M(nn.Module):\r\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        y = x + 1\r\n        return x.bool()\n",
    "tabs": GOOD.replace(b"        return", b"\t\treturn").replace(b"    def", b"\tdef"),
    "two_space_indent": GOOD.replace(b"        return", b"    return").replace(b"    def", b"  def")
    + b"\n  def other(self) -> int:\n    return 1\n",
    "no_final_newline": GOOD.rstrip(b"\n"),
    "form_feed_and_line_separator_before": GOOD.replace(
        b"import torch\n", b"import torch\n# page\x0cbreak\nS = '\xe2\x80\xa8'\n", 1
    ),
    "non_ascii_utf8": GOOD.replace(b"        return", "        # größe ✓\n        return".encode()),
}


@pytest.mark.parametrize("case", sorted(PRESERVE))
def test_fix_preserves_encoding_newlines_indentation(tmp_path, case):
    data = PRESERVE[case]
    cwd = tree(tmp_path, {"f.py": data})
    code, out, err = run(cwd, "check", "f.py")
    assert code == 1 and "f.py:" in out and "TS401" in out and not err, (out, err)
    code, out, err = run(cwd, *FIX, "f.py")
    assert code == 0 and not err, (out, err)
    _fixed_only_at_the_finding(data, (cwd / "f.py").read_bytes(), b"x.bool()", b"x.to(torch.bool)")
    # fixing again changes nothing
    run(cwd, *FIX, "f.py")
    _fixed_only_at_the_finding(data, (cwd / "f.py").read_bytes(), b"x.bool()", b"x.to(torch.bool)")


def test_line_numbers_after_form_feed_and_u2028(tmp_path):
    cwd = tree(tmp_path, {"f.py": PRESERVE["form_feed_and_line_separator_before"]})
    code, out, err = run(cwd, "check", "f.py")
    assert "f.py:9:16: TS401" in out, out


def test_ten_megabyte_file(tmp_path):
    line = b"# generated: " + b"x" * 86 + b"\n"
    data = GOOD + line * (10 * 1024 * 1024 // len(line))
    assert len(data) > 10 * 1024 * 1024
    cwd = tree(tmp_path, {"big.py": data})
    code, out, err = run(cwd, "check", "big.py")
    assert code == 1 and "big.py:7:16: TS401" in out and not err
    code, out, err = run(cwd, *FIX, "big.py")
    assert code == 0 and not err
    _fixed_only_at_the_finding(data, (cwd / "big.py").read_bytes(), b"x.bool()", b"x.to(torch.bool)")


def test_over_the_size_limit(tmp_path):
    from tsscan.files import MAX_BYTES

    data = GOOD + b"#" * MAX_BYTES
    cwd = tree(tmp_path, {"huge.py": data})
    assert_bad(cwd, "huge.py", "file too large")


# ------------------------------------------------------------------ paths
def test_missing_path(tmp_path):
    cwd = tree(tmp_path, {})
    code, out, err = run(cwd, "check", "good.py", "nope.py", "gone/")
    assert code == 2 and GOOD_FINDING in out
    assert sum("nope.py: no such file or directory" in ln for ln in err) == 1
    assert sum("gone/: no such file or directory" in ln for ln in err) == 1


def test_symlink_loops(tmp_path):
    cwd = tree(tmp_path, {})
    os.symlink("loop_b.py", cwd / "loop_a.py")
    os.symlink("loop_a.py", cwd / "loop_b.py")
    os.symlink("dir_b", cwd / "dir_a")
    os.symlink("dir_a", cwd / "dir_b")
    (cwd / "sub").mkdir()
    os.symlink("..", cwd / "sub" / "up")  # a directory cycle: symlinked directories are not walked
    code, out, err = run(cwd, "check", ".")
    assert code == 2 and GOOD_FINDING in out
    assert [ln for ln in err if "loop_a.py" in ln] == [
        "tsscan: error: ./loop_a.py: cannot read: too many levels of symbolic links"
    ]
    assert len([ln for ln in err if "loop_b.py" in ln]) == 1
    assert not [ln for ln in err if "dir_" in ln or "up" in ln]  # not walked, not errors
    code, out, err = run(cwd, "check", "dir_a", "good.py")  # named explicitly
    assert code == 2 and GOOD_FINDING in out
    assert len(err) == 1 and "dir_a: cannot read: too many levels of symbolic links" in err[0]


def test_symlinked_file_is_fixed_through_the_link(tmp_path):
    cwd = tree(tmp_path, {})
    (cwd / "real").mkdir()
    (cwd / "good.py").rename(cwd / "real" / "model.py")
    os.symlink("real/model.py", cwd / "link.py")
    code, out, err = run(cwd, *FIX, "link.py")
    assert code == 0 and not err
    assert os.path.islink(cwd / "link.py")
    assert (cwd / "real" / "model.py").read_bytes() == GOOD_FIXED


def test_fifo_named_py_does_not_hang(tmp_path):
    cwd = tree(tmp_path, {})
    os.mkfifo(cwd / "pipe.py")
    proc = run_proc(cwd, "check", ".", timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and GOOD_FINDING in proc.stdout.decode()
    assert "pipe.py: not a regular file" in err


def test_non_utf8_file_name(tmp_path):
    cwd = tree(tmp_path, {})
    name = os.fsencode(str(cwd)) + b"/mod\xff\xfe.py"
    with open(name, "wb") as f:
        f.write(GOOD)
    # strict UTF-8 output (PYTHONIOENCODING) must not crash on the undecodable name
    for env in ({}, {"PYTHONIOENCODING": "utf-8"}, {"PYTHONIOENCODING": "ascii"}):
        proc = run_proc(cwd, "check", ".", env_extra=env)
        assert proc.returncode == 1, proc.stderr
        assert b"Traceback" not in proc.stderr
        assert proc.stdout.count(b"TS401") == 2
    proc = run_proc(cwd, "check", ".", "-o", "report.txt")
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    proc = run_proc(cwd, *FIX, ".")
    assert proc.returncode == 0, proc.stderr
    with open(name, "rb") as f:
        assert f.read() == GOOD_FIXED


# ------------------------------------------------------------------ permissions
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def test_unreadable_file(tmp_path):
    cwd = tree(tmp_path, {"secret.py": GOOD})
    os.chmod(cwd / "secret.py", 0)
    try:
        if IS_ROOT:
            # root reads it anyway: it is simply checked (and fixed) like any other file
            code, out, err = run(cwd, "check", ".")
            assert code == 1 and "secret.py:7:16: TS401" in out and not err
        else:
            assert_bad(cwd, "secret.py", "cannot read: permission denied")
    finally:
        os.chmod(cwd / "secret.py", 0o644)


def test_unreadable_directory(tmp_path):
    cwd = tree(tmp_path, {"locked/inner.py": GOOD})
    os.chmod(cwd / "locked", 0)
    try:
        code, out, err = run(cwd, "check", ".")
        if IS_ROOT:
            assert code == 1 and "inner.py:7:16: TS401" in out and not err
        else:
            assert code == 2 and GOOD_FINDING in out
            assert len([ln for ln in err if "locked" in ln]) == 1
    finally:
        os.chmod(cwd / "locked", 0o755)


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_read_error_that_fails_even_for_root(tmp_path):
    cwd = tree(tmp_path, {})
    os.symlink("/proc/self/mem", cwd / "mem.py")  # reading offset 0 of one's own memory: EIO
    code, out, err = run(cwd, "check", ".")
    assert code == 2 and GOOD_FINDING in out
    assert [ln for ln in err if "mem.py" in ln] == ["tsscan: error: ./mem.py: cannot read: input/output error"]


def test_directory_walk_error_that_fails_even_for_root(tmp_path):
    """A directory whose path is longer than PATH_MAX cannot be listed, by anyone."""
    cwd = tree(tmp_path, {})
    fd = os.open(cwd, os.O_RDONLY)
    depth = 0
    try:
        while len(str(cwd)) + depth * 201 < 4200:
            os.mkdir("d" * 200, dir_fd=fd)
            new = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, depth = new, depth + 1
        leaf = os.open("deep.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, GOOD)
        os.close(leaf)
    finally:
        os.close(fd)
    code, out, err = run(cwd, "check", ".")
    assert code == 2 and GOOD_FINDING in out, (out, err)
    assert len(err) == 1 and "file name too long" in err[0], err


# ------------------------------------------------------------------ changed or deleted before the write
EDITOR_RULE = '''
import os
from tsscan.rule import Rule


class EditorSaves(Rule):
    """Test rule: plays an editor that saves (or deletes) the file while tsscan works on it."""

    code = "TS990"
    name = "editor-saves"
    message = "test rule"

    def on_function(self):
        path = self.ctx.path
        marker = path + ".done"
        if "victim" not in path or os.path.exists(marker):
            return
        open(marker, "w").close()
        if "deleted" in path:
            os.unlink(path)
        else:
            with open(path, "a") as f:
                f.write("# the user's new line\\n")
'''


@pytest.mark.parametrize("what", ["changed", "deleted"])
def test_file_changed_or_deleted_between_check_and_write(tmp_path, what):
    cwd = tree(tmp_path, {f"victim_{what}.py": GOOD, "rules/TS990_editor.py": EDITOR_RULE.encode()})
    (cwd / "pyproject.toml").write_text('[tool.tsscan]\nrule-dirs = ["rules"]\n')
    code, out, err = run(cwd, *FIX, "--no-cache", ".")
    assert code == 2, (out, err)
    victim = cwd / f"victim_{what}.py"
    mine = [ln for ln in err if victim.name in ln]
    assert len(mine) == 1, err
    if what == "changed":
        assert "changed on disk while being fixed; not written" in mine[0]
        assert victim.read_bytes() == GOOD + b"# the user's new line\n"  # the user's save wins
    else:
        assert "no such file or directory" in mine[0]
        assert not victim.exists()  # not resurrected
    assert (cwd / "good.py").read_bytes() == GOOD_FIXED
    assert not list(cwd.glob(".tsscan-*.tmp"))


def test_write_atomic_refuses_a_changed_file(tmp_path):
    from tsscan.files import read_source, write_atomic

    p = tmp_path / "m.py"
    p.write_bytes(GOOD)
    src = read_source(str(p))
    p.write_bytes(GOOD + b"# edited\n")
    assert write_atomic(src, GOOD_FIXED.decode()) is False
    assert p.read_bytes() == GOOD + b"# edited\n"
    p.write_bytes(GOOD)
    mode = 0o640
    os.chmod(p, mode)
    assert write_atomic(src, GOOD_FIXED.decode()) is True
    assert p.read_bytes() == GOOD_FIXED and (os.stat(p).st_mode & 0o777) == mode
    assert not list(tmp_path.glob(".tsscan-*"))


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs the patch program")
def test_diff_applies_and_equals_fix(tmp_path):
    """``--diff`` output, applied with ``patch``, gives exactly what ``--fix`` writes: also for
    a file without a final newline, CRLF, tabs, and a form feed."""
    names = ["no_final_newline", "crlf", "tabs", "form_feed_and_line_separator_before", "mixed_newlines"]
    files = {f"{n}.py": PRESERVE[n] for n in names}
    (tmp_path / "d").mkdir()
    (tmp_path / "f").mkdir()
    diffed, fixed = tree(tmp_path / "d", files), tree(tmp_path / "f", files)
    code, out, err = run(diffed, "--diff", "--no-verify", ".")
    assert code == 1, err
    proc = subprocess.run(
        ["patch", "-p1", "--forward", "--silent"], input=out.encode(), cwd=diffed, capture_output=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run(fixed, *FIX, ".")
    for n in names + ["good"]:
        assert (diffed / f"{n}.py").read_bytes() == (fixed / f"{n}.py").read_bytes(), n
