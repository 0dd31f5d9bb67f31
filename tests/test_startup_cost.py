"""What a run that has nothing to check costs: a run answered from the cache (one file, a whole
package, the package index included), a file with no compiled code, and flake8 with the plugin
on such files import neither libcst nor the rules.

Each run is the real command (``python -m tsscan`` / flake8's ``main``) in a fresh process;
the process reports which of tsscan's expensive modules ended up in ``sys.modules``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

# libcst is about 0.3 s of CPU to import; the engine and registry load the rules (libcst visitors)
HEAVY = ("libcst", "tsscan.engine", "tsscan.registry", "tsscan.rules")

PROBE = """
import json, runpy, sys
front, *args = sys.argv[1:]
sys.argv = [front, *args]
try:
    if front == "flake8":
        from flake8.main.cli import main
        rc = main(args)
    else:
        runpy.run_module("tsscan", run_name="__main__")
        rc = 0
except SystemExit as exc:
    rc = exc.code
print("PROBE " + json.dumps({"rc": rc, "modules": sorted(m for m in sys.modules if m.startswith(("libcst", "tsscan")))}))
"""

MODEL = textwrap.dedent(
    """\
    import torch
    from torch import nn

    from pkg.helpers import scale


    class Masker(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return scale(x).bool()
    """
)
HELPERS = textwrap.dedent(
    """\
    import torch


    def scale(x: torch.Tensor) -> torch.Tensor:
        return x * 2
    """
)
PLAIN = "import os\n\n\ndef f(x):\n    return os.fspath(x)\n"


def run(cwd: Path, front: str, *args: str, all_modules: bool = False) -> tuple[int, str, set[str]]:
    """(exit status, output, heavy modules imported: all of libcst's and tsscan's with
    ``all_modules``) of one real run in a fresh process."""
    env = dict(os.environ, TSSCAN_NO_PROGRESS="1")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, front, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    out, _, status = proc.stdout.rpartition("PROBE ")
    data = json.loads(status)
    heavy = {m for m in data["modules"] if all_modules or m.startswith(HEAVY)}
    return data["rc"], out, heavy


def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "model.py").write_text(MODEL)
    (pkg / "helpers.py").write_text(HELPERS)
    (pkg / "plain.py").write_text(PLAIN)
    return tmp_path


def test_warm_package_run_and_cached_file_load_nothing(tmp_path: Path) -> None:
    proj = project(tmp_path)
    rc, out, heavy = run(proj, "tsscan", "check", "pkg")
    assert rc == 1 and "TS401" in out  # the cold run does check: libcst and the rules are loaded
    assert {"libcst", "tsscan.engine", "tsscan.registry"} <= heavy

    rc2, out2, modules = run(proj, "tsscan", "check", "pkg", all_modules=True)  # warm: nothing changed
    assert (rc2, out2) == (rc, out)
    assert not {m for m in modules if m.startswith(HEAVY)}
    assert "tsscan.semantic.compiled" not in modules  # nor the scope analysis

    for _ in range(2):  # one file of the package: the first run indexes its package, then cached
        rc, out, heavy = run(proj, "tsscan", "check", "pkg/model.py")
    assert rc == 1 and "pkg/model.py:9:" in out and "TS401" in out
    assert heavy == set()

    # a change is checked again (and does load the rules)
    (proj / "pkg" / "model.py").write_text(MODEL.replace("return scale(x)", "y = x.bool()\n        return scale(y)"))
    rc, out, heavy = run(proj, "tsscan", "check", "pkg")
    assert rc == 1 and out.count("TS401") == 2
    assert "libcst" in heavy


def test_file_without_compiled_code_loads_nothing_even_uncached(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN)
    rc, out, heavy = run(tmp_path, "tsscan", "check", "--no-cache", "plain.py")
    assert rc == 0 and "All checks passed" in out
    assert heavy == set()


def test_flake8_on_cached_and_plain_files_loads_nothing(tmp_path: Path) -> None:
    proj = project(tmp_path)
    args = ("--select", "TS", "-j", "1", "--format=%(path)s:%(row)d:%(code)s", "pkg/model.py", "pkg/plain.py")
    rc, out, heavy = run(proj, "flake8", *args)
    assert rc == 1 and out.splitlines() == ["pkg/model.py:9:TS401"]
    assert "libcst" in heavy
    rc, out2, heavy = run(proj, "flake8", *args)
    assert (rc, out2) == (1, out)
    assert heavy == set()
    # a cached file is answered before the scope analysis: not even that is imported
    rc, out2, modules = run(proj, "flake8", *args[:-1], all_modules=True)
    assert (rc, out2) == (1, out)
    assert "tsscan.semantic.compiled" not in modules and "tsscan.cache" in modules
    rc, out, heavy = run(proj, "flake8", "--select", "TS", "pkg/plain.py")
    assert rc == 0 and out == ""
    assert heavy == set()


# compiled code, but nothing any rule may report in (tsscan.prefilter): no Call, Attribute, ...
QUIET = textwrap.dedent(
    """\
    from torch import nn


    class Identity(nn.Module):
        def forward(self, x):
            return x
    """
)


def test_compiled_code_no_rule_can_fire_on_loads_no_libcst(tmp_path: Path) -> None:
    (tmp_path / "quiet.py").write_text(QUIET)
    for front, args in (("tsscan", ("check", "--no-cache", "quiet.py")), ("flake8", ("--select", "TS", "quiet.py"))):
        rc, out, modules = run(tmp_path, front, *args, all_modules=True)
        assert rc == 0 and ("All checks passed" in out if front == "tsscan" else out == "")
        assert "tsscan.semantic.compiled" in modules  # the file was analysed: it has compiled code
        assert not [m for m in modules if m.startswith(("libcst", "tsscan.engine", "tsscan.rules.TS"))]
    # with a function a rule may fire on, libcst and only the rules that function may need
    (tmp_path / "quiet.py").write_text(QUIET.replace("return x", "return x.numpy()"))
    rc, out, modules = run(tmp_path, "tsscan", "check", "--no-cache", "quiet.py", all_modules=True)
    assert rc == 1 and "TS401" in out
    loaded = [m for m in modules if m.startswith("tsscan.rules.TS")]
    assert "libcst" in modules and "tsscan.rules.TS401_unsupported_tensor_method" in loaded
    assert "tsscan.rules.TS101_try_except" not in loaded and len(loaded) < 60
