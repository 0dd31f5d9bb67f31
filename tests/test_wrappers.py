"""Decorated compiled functions resolve global names in the outermost wrapper's module
(tsscan.semantic.wrappers, TS250/TS251): torch's decorators from the knowledge table, and
functools.wraps decorators defined in another file of the package, through the package index.
Every expectation is checked against the real compiler: a class is reported exactly when
``torch.jit.script`` rejects it, with the name tsscan reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tsscan.semantic import knowledge

UTILS = """\
import functools
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    import math


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def with_precision(dtype=None):
    def deco(fwd):
        @functools.wraps(fwd)
        def inner(*args, **kwargs):
            return fwd(*args, **kwargs)

        return inner

    return deco


def patch_forward(cls):
    original = cls.forward

    @functools.wraps(original)
    def forward(self, *args, **kwargs):
        return original(self, *args, **kwargs)

    cls.forward = forward
    return cls
"""

MODEL = """\
import math

import torch
from torch import nn

from .utils import patch_forward, traced, with_precision
from . import utils


def double(x):
    return x * 2


class ReadsTorch(nn.Module):
    @traced
    def forward(self, x):
        return torch.relu(x) + len(x.shape)


class ReadsMath(nn.Module):
    @with_precision(dtype=torch.float32)
    def forward(self, x):
        return x * math.pi


class ReadsHelper(nn.Module):
    @utils.traced
    def forward(self, x):
        return double(x)


@patch_forward
class Patched(nn.Module):
    def forward(self, x):
        return nn.functional.relu(x)


class NoGrad(nn.Module):
    @torch.no_grad()
    @traced
    def forward(self, x):
        return torch.relu(x)


class Autocast(nn.Module):
    @torch.autocast("cpu")
    def forward(self, x):
        return torch.relu(x) * math.pi
"""


def _package(tmp_path: Path) -> Path:
    pkg = tmp_path / "wpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "utils.py").write_text(UTILS)
    (pkg / "model.py").write_text(MODEL)
    return tmp_path


def _compiler_says(root: Path) -> dict[str, str]:
    """class -> the compiler's first line for each class of wpkg.model ("ok" when it scripts)."""
    code = (
        "import json, sys, torch, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import wpkg.model as m\n"
        "out = {}\n"
        "for name in ('ReadsTorch', 'ReadsMath', 'ReadsHelper', 'Patched', 'NoGrad', 'Autocast'):\n"
        "    try:\n"
        "        torch.jit.script(getattr(m, name)())\n"
        "        out[name] = 'ok'\n"
        "    except Exception as e:\n"
        "        out[name] = str(e).strip().splitlines()[0]\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_package_wrappers_are_reported_where_the_compiler_fails(tmp_path):
    root = _package(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "check", "--no-cache", "--select", "TS250,TS251", "--format", "json", "wpkg"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    found = {(Path(d["path"]).as_posix(), d["line"], d["code"]) for d in json.loads(proc.stdout)["diagnostics"]}
    messages = {d["line"]: d["message"] for d in json.loads(proc.stdout)["diagnostics"]}
    # ReadsMath (math is imported only for type checkers in utils.py), ReadsHelper, Patched
    # (nn), NoGrad (torch.utils._contextlib has no torch); torch itself is in utils.py, and
    # torch.autocast wraps in torch.amp.autocast_mode, which has torch but not math
    assert found == {
        ("wpkg/model.py", 23, "TS250"),
        ("wpkg/model.py", 29, "TS250"),
        ("wpkg/model.py", 35, "TS250"),
        ("wpkg/model.py", 42, "TS250"),
        ("wpkg/model.py", 48, "TS250"),
    }
    assert "`wpkg.utils` (wpkg/utils.py:21)" in messages[23] and "`math`" in messages[23]
    assert "`double`" in messages[29] and "`wpkg.utils` (wpkg/utils.py:12)" in messages[29]
    assert "`nn`" in messages[35] and "wpkg/utils.py:33" in messages[35]
    assert "`torch.utils._contextlib`" in messages[42]
    assert "`math`" in messages[48] and "`torch.amp.autocast_mode`" in messages[48]
    said = _compiler_says(root)
    assert said["ReadsTorch"] == "ok"
    expected = {
        "ReadsMath": "math",
        "ReadsHelper": "double",
        "Patched": "nn",
        "NoGrad": "torch",
        "Autocast": "math",
    }
    for cls, name in expected.items():
        assert f"undefined value {name}" in said[cls], (cls, said[cls])


@pytest.mark.parametrize(
    ("decorator", "scripts"),
    [("torch.no_grad()", False), ("torch.inference_mode()", False), ("torch.autocast('cpu')", True)],
)
def test_the_table_names_the_module_the_compiler_resolves_in(tmp_path, decorator, scripts):
    import torch

    table = knowledge.load(torch.__version__).raw_decorators
    key = decorator.split("(")[0] + "()"
    has_torch = table["modules"][table["wrap"][key]["module"]].get("torch") == "torch"
    assert has_torch == scripts
    mod = tmp_path / "deco_case.py"
    mod.write_text(
        f"import torch\n\n\nclass A(torch.nn.Module):\n    @{decorator}\n    def forward(self, x):\n        return torch.relu(x)\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import deco_case

        if scripts:
            torch.jit.script(deco_case.A())
        else:
            with pytest.raises(Exception, match="undefined value torch"):
                torch.jit.script(deco_case.A())
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("deco_case", None)
