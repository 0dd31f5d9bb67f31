"""The generated tables of what TorchScript knows (tsscan/data/torch-X.Y.json).

* the shipped table for the installed torch is exactly what scripts/gen_knowledge.py produces
  now (so a torch upgrade or a generator change cannot leave a stale hand-edited table);
* its facts agree with the real compiler on a sample;
* the table is picked by target version (exact minor, else nearest older, else newest) and the
  target flows from --target-version / [tool.tsscan] target-version into the rules;
* checking never imports torch; the tables ship in the wheel.
"""

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tsscan.engine import Engine
from tsscan.registry import load_rules
from tsscan.semantic import knowledge as knowledge

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gen_knowledge  # noqa: E402


@pytest.fixture(scope="module")
def generated():
    return gen_knowledge.generate()


def test_shipped_table_is_what_the_generator_produces(generated):
    path = gen_knowledge.table_path(generated["torch_version"])
    assert path.is_file(), f"no table shipped for the installed torch: run scripts/gen_knowledge.py ({path})"
    assert path.read_text(encoding="utf-8") == gen_knowledge.dump(generated), (
        f"{path} is stale: regenerate it with scripts/gen_knowledge.py"
    )


def test_table_facts_match_the_compiler(generated):
    import torch

    t = generated["tensor"]
    # the oracle's appendix: 33 methods and 3 properties in 2.13
    for name in ("bool", "bfloat16", "ndimension", "nelement", "unique", "numpy", "new_tensor"):
        assert name in t["unsupported_methods"]
    assert "grad_fn" in t["unsupported_properties"]
    for name in ("float", "long", "to", "dim", "numel", "new_zeros"):
        assert name in t["methods"]
    for name in ("shape", "dtype", "T", "grad", "is_leaf"):
        assert name in t["properties"]
    # a sample, against the real compiler
    for name in sorted(t["unsupported_methods"])[:5] + ["bool"]:
        with pytest.raises(Exception, match="has no attribute or method"):
            torch.jit.CompilationUnit(f"def f(x: Tensor):\n    return x.{name}()\n")
    torch.jit.CompilationUnit("def f(x: Tensor):\n    return x.float()\n")
    assert "open" in generated["builtins"]["unsupported"]
    assert "reversed" in generated["builtins"]["opaque"] and "len" in generated["builtins"]["supported"]
    assert "isclose" in generated["math"]["unsupported"] and "sqrt" in generated["math"]["supported"]
    assert "pi" in generated["math"]["constants"]
    ones = generated["functions"]["torch.ones"]
    assert ones["kind"] == "builtin"
    assert not any(a[0] == "requires_grad" for ov in ones["overloads"] for a in ov)
    assert any(a[0] == "requires_grad" for ov in generated["functions"]["torch.tensor"]["overloads"] for a in ov)
    assert generated["functions"]["torch.Tensor"]["kind"] == "unknown-op"


def test_pick_exact_then_older_then_newest(tmp_path):
    for v in ("2.11", "2.13", "2.14"):
        (tmp_path / f"torch-{v}.json").write_text("{}")
    (tmp_path / "notes.json").write_text("{}")

    def picked(v):
        return knowledge.pick(v, tmp_path).name

    assert picked("2.13") == "torch-2.13.json"
    assert picked("2.13.1") == "torch-2.13.json"
    assert picked("2.14.1+cu130") == "torch-2.14.json"
    assert picked("2.12") == "torch-2.11.json"  # nearest older
    assert picked("2.16") == "torch-2.14.json"  # nearest older is the newest
    assert picked("2.10") == "torch-2.14.json"  # nothing older: the newest
    assert picked("1.13") == "torch-2.14.json"
    assert picked(None) == "torch-2.14.json"
    assert picked("nightly") == "torch-2.14.json"


def test_shipped_tables_load():
    tables = knowledge.available()
    assert (2, 13) in tables
    for (major, minor), path in tables.items():
        k = knowledge.load(f"{major}.{minor}")
        assert k.source == path
        assert k.torch_version.startswith(f"{major}.{minor}.")
        assert "bool" in k.unsupported_tensor_methods
        assert k.accepts_keyword("torch.ones", "requires_grad") is False
        assert k.accepts_keyword("torch.tensor", "requires_grad") is True
        assert k.accepts_keyword("torch.no_such_function", "x") is None


QR = """
import torch


@torch.jit.script
def f(x: torch.Tensor) -> torch.Tensor:
    q, r = x.qr()
    return q
"""


@pytest.mark.skipif((2, 14) not in knowledge.available(), reason="no torch 2.14 table shipped")
def test_target_version_selects_the_table(tmp_path):
    # Tensor.qr scripts in torch 2.13 but not in 2.14 (measured by the generator)
    assert "qr" not in knowledge.load("2.13").unsupported_tensor_methods
    assert "qr" in knowledge.load("2.14").unsupported_tensor_methods
    rules = load_rules()
    found = lambda v: {d.code for d in Engine(rules, v).check("f.py", QR).diagnostics}  # noqa: E731
    assert "TS401" not in found("2.13.0")
    assert "TS401" in found("2.14")
    # through the CLI: --target-version, then [tool.tsscan] target-version
    (tmp_path / "m.py").write_text(QR)
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "tsscan", *a, "m.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "TS401" in run("--target-version", "2.14").stdout
    assert "TS401" not in run("--target-version", "2.13").stdout
    (tmp_path / "pyproject.toml").write_text('[tool.tsscan]\ntarget-version = "2.14"\n')
    assert "TS401" in run().stdout


NO_TORCH = textwrap.dedent(
    """
    import sys
    from tsscan.engine import Engine
    from tsscan.registry import load_rules

    src = '''
    import math
    import random
    import numpy as np
    import torch
    from torch import nn
    from typing import List

    SCALE = 2


    class M(nn.Module):
        def forward(self, x: torch.Tensor, xs: List[int]) -> torch.Tensor:
            for v in reversed(xs):
                x = x + v
            y = torch.ones(2, requires_grad=True)
            return x.bool().to(torch.float) * SCALE + math.isclose(1.0, 2.0) + np.exp(1) + y + random.random()
    '''
    result = Engine(load_rules(), "2.13").check("m.py", src)
    codes = sorted({d.code for d in result.diagnostics})
    assert {"TS401", "TS405", "TS501", "TS506", "TS507", "TS510", "TS511"} <= set(codes), codes
    leaked = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.") or m == "numpy")
    assert not leaked, leaked
    print("ok", codes)
    """
)


def test_checking_never_imports_torch():
    out = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok")


def test_tables_ship_in_the_wheel(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("tsscan-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in knowledge.available().values():
        assert f"tsscan/data/{path.name}" in names
        data = json.loads(zipfile.ZipFile(wheel).read(f"tsscan/data/{path.name}"))
        assert data["format"] == gen_knowledge.FORMAT


def test_target_version_falls_back_to_installed_torch_then_newest_table(monkeypatch):
    from importlib.metadata import version

    from tsscan import config

    settings = config.Settings()
    assert config.target_version(settings, "2.14") == "2.14"
    settings.target_version = "2.13"
    assert config.target_version(settings) == "2.13"
    settings.target_version = None
    assert config.target_version(settings) == version("torch").split("+")[0]
    # no torch installed (e.g. a lint-only CI job): the newest shipped table
    monkeypatch.setattr(config, "installed_torch_version", lambda: None)
    newest = max(knowledge.available())
    assert config.target_version(settings) == f"{newest[0]}.{newest[1]}"
