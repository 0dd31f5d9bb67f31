"""The pre-commit hooks, run by the real pre-commit in throwaway git repositories.

pre-commit installs the hook repository the way users get it (a virtualenv, `pip install` of the
repository, dependencies from PyPI). The hook repository here is a fresh git repository holding
this checkout's working-tree files, so the tests check what is on disk, whatever git's state
(`try-repo` itself would take HEAD plus tracked changes, and miss new files).

`pre-commit try-repo` builds a new hook environment on every call (its store is a temporary
directory), about 20-30 s each; so one test uses it, and the others use what users write, a
`.pre-commit-config.yaml` naming the repository and a rev, with one shared PRE_COMMIT_HOME:
the environment is built once for the module.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# pre-commit builds the hook environment with pip: hatchling and libcst come from the package index
pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parent.parent
PARTS = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "tsscan", "rules", "LICENSE"]

FINDINGS = textwrap.dedent(
    """\
    import torch
    from torch import nn


    class Gate(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            try:
                y = x * 2
            except RuntimeError:
                y = x
            return y
    """
)

CLEAN = textwrap.dedent(
    """\
    import torch
    from torch import nn


    class Gate(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2
    """
)

FIXABLE = textwrap.dedent(
    """\
    import torch
    from torch import nn


    class Masker(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.bool()
    """
)


def _env(home):
    env = dict(os.environ)
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
        GIT_CONFIG_NOSYSTEM="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "VIRTUAL_ENV"):
        env.pop(var, None)
    return env


def _git(*args, cwd, env):
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.fail("git is needed for the pre-commit tests")
    base = tmp_path_factory.mktemp("precommit")
    env = _env(base / "pre-commit-home")
    repo = base / "hook-repo"
    repo.mkdir()
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *PARTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and "__pycache__" not in rel:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    _git("init", "-q", cwd=repo, env=env)
    _git("add", "-A", cwd=repo, env=env)
    _git("commit", "-q", "-m", "hook repo", cwd=repo, env=env)
    return repo, env


@pytest.fixture
def work(tmp_path, hooks):
    _, env = hooks
    _git("init", "-q", cwd=tmp_path, env=env)
    # fixes are confirmed with torch.jit.script: point the verifier at an interpreter with torch
    # (a user's project venv); the hook's own environment has no torch
    (tmp_path / "pyproject.toml").write_text(f'[tool.tsscan.verify]\npython = "{Path(sys.executable).as_posix()}"\n')
    return tmp_path


def try_repo(hooks, work, hook_id):
    repo, env = hooks
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), hook_id, "--color", "never"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc.returncode, proc.stdout + proc.stderr


def run_hook(hooks, work, hook_id):
    """`pre-commit run HOOK` with the configuration the README shows."""
    repo, env = hooks
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo.as_posix()}\n    rev: {rev}\n    hooks:\n      - id: tsscan\n      - id: tsscan-fix\n"
    )
    _git("add", ".pre-commit-config.yaml", cwd=work, env=env)
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook_id, "--color", "never"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc.returncode, proc.stdout + proc.stderr


def stage(work, hooks, **files):
    for name, text in files.items():
        (work / name).write_text(text)
    _git("add", *files, cwd=work, env=hooks[1])


def test_try_repo_staged_file_with_findings_fails(hooks, work):
    stage(work, hooks, **{"model.py": FINDINGS, "clean.py": CLEAN})
    code, out = try_repo(hooks, work, "tsscan")
    assert code == 1, out
    assert "tsscan" in out and "Failed" in out
    assert "model.py:7:9: TS101 try/except is not supported by TorchScript" in out
    assert "clean.py" not in out


def test_staged_file_with_findings_fails(hooks, work):
    stage(work, hooks, **{"model.py": FINDINGS})
    code, out = run_hook(hooks, work, "tsscan")
    assert code == 1, out
    assert "model.py:7:9: TS101" in out
    # what is committed counts, not the working tree: a fix left unstaged does not pass
    (work / "model.py").write_text(CLEAN)
    code, out = run_hook(hooks, work, "tsscan")
    assert code == 1, out
    assert (work / "model.py").read_text() == CLEAN


def test_clean_file_passes(hooks, work):
    stage(work, hooks, **{"model.py": CLEAN})
    code, out = run_hook(hooks, work, "tsscan")
    assert code == 0, out
    assert "Passed" in out


def test_exclude_in_pyproject_applies_to_the_hook(hooks, work):
    (work / "pyproject.toml").write_text('[tool.tsscan]\nexclude = ["legacy/"]\n')
    (work / "legacy").mkdir()
    stage(
        work,
        hooks,
        **{"pyproject.toml": (work / "pyproject.toml").read_text(), "legacy/old.py": FINDINGS, "model.py": CLEAN},
    )
    code, out = run_hook(hooks, work, "tsscan")
    assert code == 0, out
    stage(work, hooks, **{"model.py": FINDINGS})
    code, out = run_hook(hooks, work, "tsscan")
    assert code == 1, out
    assert "model.py:7:9: TS101" in out and "legacy" not in out
    # only excluded files staged: nothing is checked (not the whole directory)
    _git("rm", "-q", "--cached", "model.py", cwd=work, env=hooks[1])
    code, out = run_hook(hooks, work, "tsscan")
    assert code == 0, out


def test_no_python_files_staged_passes(hooks, work):
    (work / "model.py").write_text(FINDINGS)  # present but not staged
    stage(work, hooks, **{"notes.txt": "nothing to see\n"})
    for hook_id in ("tsscan", "tsscan-fix"):
        code, out = run_hook(hooks, work, hook_id)
        assert code == 0, out
        assert "(no files to check)Skipped" in out


def test_fix_hook_fixes_fails_then_passes(hooks, work):
    stage(work, hooks, **{"masker.py": FIXABLE})
    code, out = run_hook(hooks, work, "tsscan-fix")
    assert code == 1, out
    assert "files were modified by this hook" in out
    assert (work / "masker.py").read_text() == FIXABLE.replace("x.bool()", "x.to(torch.bool)")
    _git("add", "masker.py", cwd=work, env=hooks[1])
    code, out = run_hook(hooks, work, "tsscan-fix")
    assert code == 0, out
    assert "Passed" in out


def test_fix_hook_leaves_what_it_cannot_fix_and_fails(hooks, work):
    stage(work, hooks, **{"model.py": FINDINGS})
    code, out = run_hook(hooks, work, "tsscan-fix")
    assert code == 1, out
    assert "TS101" in out and "files were modified" not in out
    assert (work / "model.py").read_text() == FINDINGS


def test_each_staged_file_gets_its_own_configuration(hooks, work):
    """Two projects in one repository, both files staged: pa ignores TS101, pb does not. Each
    file is checked with its own [tool.tsscan], whatever order pre-commit passes them in."""
    for name, table in (("pa", 'ignore = ["TS101"]\n'), ("pb", "")):
        (work / name).mkdir()
        stage(work, hooks, **{f"{name}/pyproject.toml": "[tool.tsscan]\n" + table, f"{name}/model.py": FINDINGS})
    code, out = run_hook(hooks, work, "tsscan")
    assert code == 1, out
    assert "pb/model.py:7:9: TS101" in out and "pa/model.py" not in out


def test_fix_hook_says_when_it_cannot_confirm(hooks, work):
    """No verify.python and no torch in the hook's environment: nothing is applied, and the
    output says why and what to do."""
    (work / "pyproject.toml").write_text("[tool.tsscan]\n")
    stage(work, hooks, **{"pyproject.toml": "[tool.tsscan]\n", "masker.py": FIXABLE})
    code, out = run_hook(hooks, work, "tsscan-fix")
    assert code == 1, out
    assert (work / "masker.py").read_text() == FIXABLE
    assert "Fixes could not be confirmed: torch cannot be imported" in out
    assert "set [tool.tsscan.verify] python to an interpreter that has torch" in out


def test_local_fix_hook_from_the_docs(tmp_path, hooks):
    """The `repo: local` recipe of docs/pre-commit.md: tsscan from the project's own environment
    (here the test's, which has torch, so fixes are confirmed without any verify config)."""
    _, env = hooks
    # the committer's PATH does not have the venv on it; the recipe names `.venv/bin/python`
    # (here a link to the test's own venv, which has tsscan and torch)
    env = dict(
        env,
        PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != str(Path(sys.executable).parent)),
    )
    venv = Path(sys.prefix)
    if sys.prefix == sys.base_prefix:
        pytest.skip("the recipe needs a virtualenv: the tests are not running in one")
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    (tmp_path / ".gitignore").write_text(".venv\n")
    _git("init", "-q", cwd=tmp_path, env=env)
    (tmp_path / ".pre-commit-config.yaml").write_text(
        textwrap.dedent(
            """\
        repos:
          - repo: local
            hooks:
              - id: tsscan-fix
                name: tsscan --fix
                entry: .venv/bin/python -m tsscan.precommit --fix
                language: system
                types: [python]
        """
        )
    )
    (tmp_path / "masker.py").write_text(FIXABLE)
    _git("add", "-A", cwd=tmp_path, env=env)

    def run():
        proc = subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--color", "never"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        return proc.returncode, proc.stdout + proc.stderr

    code, out = run()
    assert code == 1 and "files were modified by this hook" in out, out
    assert "x.to(torch.bool)" in (tmp_path / "masker.py").read_text()
    _git("add", "masker.py", cwd=tmp_path, env=env)
    code, out = run()
    assert code == 0, out
