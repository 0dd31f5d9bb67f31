"""The built-in rules are found from a regular wheel install and from an editable install,
each in a fresh virtual environment.

Self-contained: the new venv sees no package of the base Python (no system site-packages);
its dependencies (libcst, torch) and build dependencies (hatchling, editables: the test extra)
come from the venv running the tests, through a ``.pth`` line naming that venv's
site-packages. Lines of a ``.pth`` file only extend ``sys.path``: the ``.pth`` files there
(the editable install of this checkout) are not run, so the new venv's own tsscan is the one
tested. No network is needed."""

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tsscan.registry import load_rules

ROOT = Path(__file__).resolve().parent.parent
MODEL = """
import torch
from torch import nn


class M(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return x + 1
        except RuntimeError:
            return x
"""


def _venv(path: Path) -> Path:
    venv.EnvBuilder(system_site_packages=False, with_pip=True).create(path)
    bin_dir = path / "bin"
    site = _run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], path)
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site.stdout.strip(), "tsscan_test_venv.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    paths = _run([str(bin_dir / "python"), "-c", "import sys; print(repr(sys.path))"], path)
    base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"]
    assert base not in eval(paths.stdout), "the base Python's site-packages leaked in"
    return bin_dir


def _run(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def _check_installed(bin_dir: Path, work: Path, expect_origin: str):
    (work / "model.py").write_text(MODEL)
    codes = {r.code for r in load_rules()}
    listed = _run([str(bin_dir / "tsscan"), "rules", "--format", "json"], work)
    assert listed.returncode == 0, listed.stderr
    listed_codes = {r["code"] for r in json.loads(listed.stdout)}
    # every built-in rule, plus the TS9xx codes that only --verify reports
    assert codes <= listed_codes and all(c.startswith("TS9") for c in listed_codes - codes)
    where = _run(
        [str(bin_dir / "python"), "-c", "import tsscan.rules; print(tsscan.rules.__path__[0])"],
        work,
    )
    assert expect_origin in where.stdout, where.stdout
    checked = _run([str(bin_dir / "tsscan"), "check", "model.py"], work)
    assert checked.returncode == 1 and "TS101" in checked.stdout, checked.stdout + checked.stderr


@pytest.mark.slow
def test_rules_ship_in_the_wheel(tmp_path):
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)],
        tmp_path,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(dist.glob("tsscan-*.whl"))
    bin_dir = _venv(tmp_path / "venv")
    inst = _run([str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], tmp_path)
    assert inst.returncode == 0, inst.stderr
    work = tmp_path / "work"
    work.mkdir()
    _check_installed(bin_dir, work, str(tmp_path / "venv"))


@pytest.mark.slow
def test_rules_found_from_editable_install(tmp_path):
    bin_dir = _venv(tmp_path / "venv")
    inst = _run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q", "-e", str(ROOT)],
        tmp_path,
    )
    assert inst.returncode == 0, inst.stderr
    work = tmp_path / "work"
    work.mkdir()
    _check_installed(bin_dir, work, str(ROOT / "tsscan" / "rules"))
