"""tsscan.runner: the same findings as the engine, in the same order, whatever the number of
worker processes; no torch, and no libcst where it is not needed."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tsscan.engine import InputError
from tsscan.files import read_source
from tsscan.report import RunSummary
from tsscan.runner import Configs, EngineSpec, Options, check_file, check_many, check_paths, cpu_count, workers_for

ROOT = Path(__file__).resolve().parent.parent
ORACLE = Path(os.environ.get("TSSCAN_ORACLE", Path(__file__).resolve().parents[2] / "shared" / "oracle")) / "scannable"

MODEL = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Masker(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.bool()
    """
)
PLAIN = "def add(a, b):\n    return a + b\n"


def corpus():
    files = sorted((ROOT / "fixtures").rglob("*.py"))
    if ORACLE.is_dir():
        files += sorted(ORACLE.glob("*.py"))
    return files


@pytest.fixture(scope="module")
def spec():
    return EngineSpec((), "2.13.0")


def _engine_outcome(engine, path, text):
    try:
        result = engine.check(str(path), text)
    except InputError as exc:
        return [], [str(exc)]
    return result.diagnostics, result.errors


def test_check_file_agrees_with_the_engine(spec, engine):
    files = corpus()
    assert len(files) > 20
    for path in files:
        text = read_source(str(path)).text
        outcome = check_file(spec, str(path), text)
        assert (outcome.diagnostics, outcome.errors) == _engine_outcome(engine, path, text), path


def test_worker_processes_change_nothing(spec, engine):
    jobs = [(spec, str(p), read_source(str(p)).text, ()) for p in corpus()]
    serial = check_many(jobs, workers=1)
    pooled = check_many(jobs, workers=2)
    assert [o.path for o in pooled] == [j[1] for j in jobs]  # the order of the jobs
    assert [(o.diagnostics, o.errors) for o in pooled] == [(o.diagnostics, o.errors) for o in serial]
    assert any(o.diagnostics for o in serial)


def test_syntax_errors_are_reported_as_the_engine_words_them(spec, engine):
    text = "class A(nn.Module):\n    def forward(self, x):\n        return x +\n"
    outcome = check_file(spec, "bad.py", text)
    assert outcome.errors == _engine_outcome(engine, "bad.py", text)[1]
    assert outcome.errors and outcome.errors[0].startswith("syntax error at line 3")


def test_little_work_stays_in_this_process():
    spec = EngineSpec((), "2.13.0")
    small = [(spec, "a.py", PLAIN, ())] * 3
    assert workers_for(small) == 1
    many = [(spec, f"m{i}.py", "x = 1\n" * 20000, ()) for i in range(16)]
    assert workers_for(many) == min(cpu_count(), 16)  # enough work: one process per core
    assert workers_for(many, 1) == 1
    assert workers_for(small, 8) == 3


def _project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for i in range(6):
        (pkg / f"model{i}.py").write_text(MODEL)
        (pkg / f"plain{i}.py").write_text(PLAIN)
    (pkg / "broken.py").write_text("def f(:\n")
    return tmp_path


def test_check_paths_fills_the_summary_in_file_order(tmp_path):
    proj = _project(tmp_path)
    configs = Configs(Options(target_version="2.13.0"), [str(proj / "pkg")])
    summaries = []
    for workers in (1, 2):
        summary = RunSummary()
        check_paths([str(proj / "pkg")], configs, summary, workers, use_cache=False)
        summaries.append(summary)
    one, two = summaries
    assert one.files == two.files == 13
    assert one.diagnostics == two.diagnostics
    assert [d.path for d in one.diagnostics] == sorted(d.path for d in one.diagnostics)
    assert [d.code for d in one.diagnostics] == ["TS401"] * 6
    assert one.errors == two.errors
    assert len(one.errors) == 1 and one.errors[0].startswith(str(proj / "pkg" / "broken.py") + ": syntax error")
    assert not (proj / ".tsscan_cache").exists()


# --------------------------------------------------------------------------- imports
GUARD = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch imported while checking")
        return None

sys.meta_path.insert(0, NoTorch())  # forked workers inherit it
from tsscan.cli import main
rc = main(sys.argv[1:])
print("RC", rc, "torch" in sys.modules, "libcst" in sys.modules)
"""


def _run(args, cwd):
    env = dict(os.environ, TSSCAN_NO_PROGRESS="1")
    proc = subprocess.run(
        [sys.executable, "-c", GUARD, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert "torch imported" not in proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1].split()
    return int(last[1]), last[2] == "True", last[3] == "True", proc


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_checking_never_imports_torch(tmp_path, jobs):
    proj = _project(tmp_path)
    fixtures = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", fixtures)
    rc, torch_imported, _, proc = _run(["--no-cache", "-j", jobs, "pkg", "fixtures"], proj)
    assert rc == 2, proc.stderr  # broken.py
    assert "TS401" in proc.stdout
    assert not torch_imported


def test_no_libcst_for_files_without_compiled_code_nor_from_the_cache(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    (tmp_path / "plain.py").write_text(PLAIN)
    rc, _, libcst_imported, proc = _run(["plain.py"], tmp_path)
    assert rc == 0 and not libcst_imported, proc.stdout + proc.stderr
    (tmp_path / "model.py").write_text(MODEL)
    rc, _, libcst_imported, proc = _run(["model.py", "plain.py"], tmp_path)
    assert rc == 1 and libcst_imported and "TS401" in proc.stdout
    rc, _, libcst_imported, proc = _run(["model.py", "plain.py"], tmp_path)  # from the cache
    assert rc == 1 and not libcst_imported and "TS401" in proc.stdout
