"""`tsscan --fix` confirmed by the real compiler (tsscan/fix/, tsscan/verify/).

Everything here runs the installed torch in tsscan's worker process (or, for the fixture
models, in this process too): no mocks. CLI runs go through ``tsscan.cli.main`` in-process;
the worker is a real subprocess either way.
"""

import io
import os
import re
import shutil
import sys
import textwrap
import time
from pathlib import Path

import pytest
from harness import EAGER_RAISES

from tsscan.cli import main
from tsscan.config import Settings
from tsscan.engine import Engine
from tsscan.fix.fixer import fix_file
from tsscan.registry import load_rules
from tsscan.rule import SAFE, UNSAFE, version_matches
from tsscan.verify import Verifier

ROOT = Path(__file__).resolve().parent.parent
FIX_FIXTURES = ROOT / "fixtures" / "fix"
RULES = load_rules()
FIXED = [(r, i, ex) for r in RULES for i, ex in enumerate(r.invalid) if ex.fixed is not None]


def _src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def run_cli(*args, cwd=None):
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        code = main(list(args), out, err)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    v = Verifier(Settings(root=root))
    assert v.available() is None, v.available()
    yield v
    tmpdir = v.worker.tmpdir
    v.close()
    assert not os.path.exists(tmpdir)


@pytest.fixture(scope="module")
def engine():
    return Engine(RULES, "2.13.0")


# --------------------------------------------------------------------------- every rule fix
@pytest.mark.parametrize("item", FIXED, ids=lambda it: f"{it[0].code}-{it[1]}")
def test_every_fix_is_confirmed_by_the_compiler(item, verifier, tmp_path):
    """The rewrite (exactly the example's `fixed`) and its confirmation: scripted by
    torch.jit.script (level 2) and, with the example's inputs, same outputs (level 3)."""
    rule, i, ex = item
    # a rule for a later torch (TS430: >=2.14) runs at that version; its fix is still confirmed
    # by the installed torch
    target = "2.13.0" if version_matches("2.13.0", rule.fails_in) else "2.14.0"
    only = Engine(RULES, target, select=[rule.code])
    safeties = (SAFE,) if ex.fix == SAFE else (SAFE, UNSAFE)
    path = tmp_path / "example.py"
    path.write_text(_src(ex.code), encoding="utf-8")
    verifier.inputs = {}
    if ex.inputs:
        import ast

        names = [n.name for n in ast.parse(_src(ex.code)).body if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
        verifier.inputs = {name: ex.inputs for name in names}
    checks = verifier.checks
    ff = fix_file(only, str(path), _src(ex.code), safeties, verifier=verifier)
    if (rule.code, i) in EAGER_RAISES:
        # the eager original raises on every input and the fix makes it work: that is a change of
        # behaviour, and a change of behaviour is never written (docs/fixing.md)
        assert ff.new_text == _src(ex.code) and not ff.applied
        assert [r.status for r in ff.dropped] == ["reverted"] and "behaves differently" in ff.dropped[0].reason
        return
    assert ff.new_text == _src(ex.fixed)
    assert ff.applied and not ff.dropped, [r.note() for r in ff.dropped]
    assert verifier.checks > checks, "the worker was never asked"
    assert verifier.worker.proc is not None and verifier.worker.proc.poll() is None
    # every fixed example has inputs: level 3
    assert [(rec.status, rec.level) for rec in ff.applied] == [("confirmed", 3)] * len(ff.applied)


# --------------------------------------------------------------------------- broken fixes
BROKEN_RULES = '''
import libcst as cst
from tsscan.rule import SAFE, Fix, Rule


class FastSigmoid(Rule):
    """Rewrites torch.sigmoid(x) into a method the compiler does not know (a broken fix)."""

    code = "TS898"
    name = "fast-sigmoid"
    message = "use the fast sigmoid"
    fix_safety = SAFE

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualname(node.func) == "torch.sigmoid" and len(node.args) == 1:
            new = cst.parse_expression(f"({cst.Module([]).code_for_node(node.args[0].value)}).sigmoid_fast()")
            self.report(node, fix=Fix(replacements=[(node, new)]))


class DropAbs(Rule):
    """Rewrites x.abs() into x: scripts, but changes the outputs (a wrong fix)."""

    code = "TS899"
    name = "drop-abs"
    message = "abs is not needed"
    fix_safety = SAFE

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        if isinstance(f, cst.Attribute) and f.attr.value == "abs" and not node.args:
            self.report(node, fix=Fix(replacements=[(node, f.value)]))
'''

BROKEN_MODEL = """
import torch
from torch import nn


class Gate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(x)
        mask = x.bool()
        return g * mask.float()


class Magnitude(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs() * 2


class LateGate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = x.bool()
        g = torch.sigmoid(x)
        return g * mask.float()
"""


def _broken_project(tmp_path: Path) -> Path:
    (tmp_path / "myrules").mkdir()
    (tmp_path / "myrules" / "broken.py").write_text(BROKEN_RULES, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.tsscan]\nrule-dirs = ["myrules"]\n', encoding="utf-8")
    model = tmp_path / "model.py"
    model.write_text(_src(BROKEN_MODEL), encoding="utf-8")
    return model


def test_broken_fixes_are_reverted_with_the_compilers_message(tmp_path):
    model = _broken_project(tmp_path)
    code, out, err = run_cli("--fix", "model.py", cwd=tmp_path)
    text = model.read_text(encoding="utf-8")
    # the compiler rejects sigmoid_fast: reverted, with torch's own words
    assert "torch.sigmoid(x)" in text and "sigmoid_fast" not in text
    assert "TS898 fix reverted: torch.jit.script rejects it" in out
    assert "sigmoid_fast" in out.split("TS898 fix reverted", 1)[1].splitlines()[0]
    # x.abs() -> x scripts but changes negative inputs: reverted as a behaviour change
    assert "x.abs() * 2" in text
    assert "TS899 fix reverted: scripted Magnitude behaves differently" in out
    # the good fix in the same function stays, re-confirmed without the reverted one
    assert text.count("mask = x.to(torch.bool)") == 2  # in Gate and in LateGate
    assert out.count("TS401 fixed, confirmed (level 3") == 2
    assert out.count("TS898 fix reverted") == 2
    assert code == 1  # TS898/TS899 still reported


def test_diff_prints_and_writes_nothing(tmp_path):
    model = _broken_project(tmp_path)
    before = model.read_bytes()
    code, out, err = run_cli("--diff", "model.py", cwd=tmp_path)
    assert code == 1
    assert model.read_bytes() == before
    assert out.startswith("--- a/model.py\n+++ b/model.py\n")
    assert "+        mask = x.to(torch.bool)" in out
    assert "sigmoid_fast" not in out  # what --fix would write: the reverted fix is not in it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tsscan-")]


# --------------------------------------------------------------------------- fixture models
FIXTURE_NAMES = sorted(p.stem for p in FIX_FIXTURES.glob("*.py") if not p.name.endswith(".fixed.py"))


def test_fixture_models_fix_through_the_cli_idempotent(tmp_path):
    """`tsscan --fix --unsafe-fixes` on the fixture models gives the expected files, every fix
    confirmed (the fixtures' YOLO heads need TS303's class-attribute move, an unsafe fix); a
    second --fix changes nothing, and --diff then has nothing to say."""
    for p in FIX_FIXTURES.iterdir():
        if not p.is_file():
            continue  # e.g. a .tsscan_cache left by running tsscan there by hand
        shutil.copy(p, tmp_path / p.name)
        if p.name.endswith(".fixed.py"):
            (tmp_path / p.name).unlink()
    t0 = time.monotonic()
    code, out, err = run_cli("--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    first = time.monotonic() - t0
    assert code == 0, out + err
    for name in FIXTURE_NAMES:
        got = (tmp_path / f"{name}.py").read_text(encoding="utf-8")
        assert got == (FIX_FIXTURES / f"{name}.fixed.py").read_text(encoding="utf-8"), name
    assert "reverted" not in out and "unverified" not in out
    assert out.count("fixed, confirmed (level 3") == out.count("fixed, confirmed"), out
    assert "in one worker process" in out
    snapshot = {p.name: p.read_bytes() for p in tmp_path.glob("*.py")}
    code, out2, _ = run_cli("--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    assert code == 0 and "fixed" not in out2.replace("fixed 0", "")
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.py")} == snapshot
    code, out3, _ = run_cli("--diff", "--unsafe-fixes", ".", cwd=tmp_path)
    assert code == 0 and out3 == ""
    print(f"fixture models: --fix took {first:.1f} s")


def _load(path: Path, name: str, eager: bool):
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    real = torch.jit.script
    if eager:
        torch.jit.script = lambda obj, *a, **k: obj
    try:
        spec.loader.exec_module(mod)
    finally:
        torch.jit.script = real
        sys.modules.pop(name, None)
    return mod


def _targets(mod):
    """(name, eager-buildable object, inputs) for each module class / scripted function."""
    import torch

    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover
        import tomli as tomllib
    cfg = tomllib.loads((FIX_FIXTURES / "pyproject.toml").read_text())["tool"]["tsscan"]["verify"]
    stem = Path(mod.__file__).name.split(".")[0]
    out = []
    for name, obj in vars(mod).items():
        if getattr(obj, "__module__", None) != mod.__name__ and not isinstance(obj, torch.jit.ScriptFunction):
            continue
        key = f"{stem}.py:{name}"
        if isinstance(obj, type) and issubclass(obj, torch.nn.Module):
            torch.manual_seed(0)
            if key in cfg.get("factories", {}):
                inst, inputs = getattr(mod, cfg["factories"][key].split(":")[1])()
            else:
                inst = obj()
                inputs = eval(cfg["inputs"][key], {"torch": torch})
            out.append((name, inst.eval(), inputs))
        elif callable(obj) and not isinstance(obj, type) and name in ("box_area", "box_iou", "encode_deltas"):
            gen = torch.Generator().manual_seed(3)
            boxes = torch.rand(6, 4, generator=gen).cumsum(1)  # x0 < y0 < x1 < y1: valid boxes
            other = torch.rand(5, 4, generator=gen).cumsum(1)
            inputs = {
                "box_area": [(boxes,), (torch.zeros(0, 4),)],
                "box_iou": [(boxes, other), (other, boxes)],
                "encode_deltas": [(boxes, boxes + 0.5), (boxes * 2, boxes)],
            }[name]
            out.append((name, obj, inputs))
    return out


def _clone(a):
    """A fresh copy of an input: tensors cloned, lists of tensors copied element-wise."""
    if isinstance(a, list):
        return [_clone(v) for v in a]
    return a.clone() if hasattr(a, "clone") else a


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_model_fails_then_scripts_with_the_same_outputs(name, tmp_path):
    """The real compiler: the original does not script; the .fixed.py does, and the scripted
    fixed model gives the eager original's outputs on random inputs."""
    import torch
    from harness import quiet, same

    original = FIX_FIXTURES / f"{name}.py"
    fixed = FIX_FIXTURES / f"{name}.fixed.py"
    with quiet():
        try:
            mod = _load(original, f"fx_orig_{name}", eager=False)  # @torch.jit.script at import
            for _, obj, _ in _targets(mod):
                torch.jit.script(obj)
        except (RuntimeError, torch.jit.frontend.FrontendError) as exc:  # what the compiler raises
            message = str(exc)
        else:
            raise AssertionError(f"{name}.py scripts")
    # it fails where tsscan says: a line the compiler names lies inside a finding
    named = {int(n) for n in re.findall(rf'File "[^"]*{re.escape(original.name)}", line (\d+)', message)}
    text = original.read_text(encoding="utf-8")
    found = Engine(RULES, "2.13.0").check(str(original), text).diagnostics
    flagged = {n for d in found for n in range(d.line, max(d.line, d.end_line) + 1)}
    assert named & flagged, (named, flagged, message)
    with quiet():
        eager = {n: (o, i) for n, o, i in _targets(_load(original, f"fx_eager_{name}", eager=True))}
        fixed_mod = _load(fixed, f"fx_fixed_{name}", eager=False)
        compared = 0
        for tname, obj, _ in _targets(fixed_mod):
            scripted = obj if isinstance(obj, torch.jit.ScriptFunction) else torch.jit.script(obj)
            e_obj, inputs = eager[tname]
            if isinstance(e_obj, torch.nn.Module):
                scripted.load_state_dict(e_obj.state_dict())
            for args in inputs:
                torch.manual_seed(1)
                want = e_obj(*[_clone(a) for a in args])
                torch.manual_seed(1)
                got = scripted(*[_clone(a) for a in args])
                assert same(want, got), (tname, args)
                compared += 1
        assert compared


# --------------------------------------------------------------------------- unverified
UNBUILDABLE = _src("""
    import torch
    from torch import nn


    class Head(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.fc = nn.Linear(cfg["in_dim"], cfg["classes"])
            self.stats = {}

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            if features.ndimension() > 2:  # TS401
                features = features.flatten(1)
            self.stats["mean"] = float(features.mean())  # TS301
            return self.fc(features)
""")


def test_class_that_cannot_be_built_is_unverified_and_not_applied(tmp_path, engine):
    """No default, no factory, and no derived argument builds it (``cfg`` must be a dict)."""
    path = tmp_path / "head.py"
    path.write_text(UNBUILDABLE, encoding="utf-8")
    with Verifier(Settings(root=tmp_path)) as v:  # no factory configured
        ff = fix_file(engine, str(path), UNBUILDABLE, verifier=v)
        assert ff.new_text == UNBUILDABLE and not ff.applied
        assert {r.diagnostic.code for r in ff.dropped} == {"TS401", "TS301"}
        for r in ff.dropped:
            assert r.status == "unverified"
            assert "Head cannot be built" in r.reason and "missing 1 required positional argument" in r.reason
            assert "derived set A: cfg=32 raised TypeError" in r.reason
            assert '[tool.tsscan.verify] factories = {"head.py:Head" = "module:function"}' in r.reason
        kept = fix_file(engine, str(path), UNBUILDABLE, verifier=v, keep_unverified=True)
    assert "features.dim() > 2" in kept.new_text and "self.stats" in kept.new_text
    assert kept.new_text != UNBUILDABLE and all(r.status == "unverified" for r in kept.applied)


def test_class_with_required_arguments_is_built_from_derived_arguments(tmp_path, engine):
    """MLPHead(in_dim, hidden, num_classes) without its factory: built from arguments derived
    from the parameter names and annotations, then confirmed at level 3 on inputs shaped by
    its first Linear."""
    src = (FIX_FIXTURES / "mlp_head.py").read_text(encoding="utf-8")
    path = tmp_path / "mlp_head.py"
    path.write_text(src, encoding="utf-8")
    with Verifier(Settings(root=tmp_path)) as v:
        ff = fix_file(engine, str(path), src, verifier=v)
    assert ff.new_text == (FIX_FIXTURES / "mlp_head.fixed.py").read_text(encoding="utf-8")
    assert {(r.diagnostic.code, r.status, r.level) for r in ff.applied} == {
        ("TS401", "confirmed", 3),
        ("TS301", "confirmed", 3),
    }
    for r in ff.applied:
        assert r.built_by == "MLPHead: derived set A: in_dim=32, hidden=[32, 32], num_classes=10", r.built_by
        assert r.inputs.startswith("MLPHead: random inputs of shape [2, 32]"), r.inputs


CONFIGURED = textwrap.dedent("""
    from dataclasses import dataclass
    from typing import List, Tuple

    import torch
    from torch import nn


    @dataclass
    class StemCfg:
        channels: int
        strides: Tuple[int, ...] = (1, 1)


    class Stem(nn.Module):
        def __init__(self, cfg: StemCfg, schedule: List[Tuple[int, ...]]):
            super().__init__()
            self.conv = nn.Conv2d(3, cfg.channels, 3, padding=1)
            self.steps = len(schedule[0])

        def forward(self, x):
            if x.ndimension() == 3:  # TS401
                x = x.unsqueeze(0)
            return self.conv(x) * self.steps
""")


def test_class_taking_a_dataclass_config_and_nested_lists_is_built_from_their_structure(tmp_path, engine):
    """``cfg: StemCfg`` (a dataclass with a required field) and ``List[Tuple[int, ...]]``: the
    verifier builds the config from its defaults and derives the rest of the structure (a list
    of int pairs, not a list of ints), then confirms the fix at level 3."""
    path = tmp_path / "stem.py"
    path.write_text(CONFIGURED, encoding="utf-8")
    with Verifier(Settings(root=tmp_path)) as v:
        ff = fix_file(engine, str(path), CONFIGURED, verifier=v)
    assert "x.dim() == 3" in ff.new_text
    (r,) = ff.applied
    assert (r.diagnostic.code, r.status, r.level) == ("TS401", "confirmed", 3), r.reason
    assert r.built_by.startswith("Stem: derived set A: cfg=StemCfg(channels=32"), r.built_by
    assert "schedule=[(32, 32), (32, 32)]" in r.built_by, r.built_by


def test_cli_keep_unverified_and_no_verify(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n", encoding="utf-8")
    path = tmp_path / "head.py"
    path.write_text(UNBUILDABLE, encoding="utf-8")
    code, out, _ = run_cli("--fix", "head.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == UNBUILDABLE
    assert "fix not applied (unverified; --keep-unverified applies it)" in out and code == 1
    code, out, _ = run_cli("--fix", "--keep-unverified", "head.py", cwd=tmp_path)
    fixed = path.read_text(encoding="utf-8")
    assert fixed != UNBUILDABLE and code == 0
    path.write_text(UNBUILDABLE, encoding="utf-8")
    code, out, _ = run_cli("--fix", "--no-verify", "head.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == fixed and "not verified: --no-verify" in out
    assert "worker" not in out


def test_without_torch_fixes_are_unverified_not_a_crash(tmp_path, engine):
    """An interpreter that cannot import torch (python -S: no site-packages)."""
    src = (FIX_FIXTURES / "anchor_decoder.py").read_text(encoding="utf-8")
    path = tmp_path / "anchor_decoder.py"
    path.write_text(src, encoding="utf-8")
    with Verifier(Settings(root=tmp_path, verify={"python": [sys.executable, "-S"]})) as v:
        reason = v.available()
        assert reason and "torch cannot be imported" in reason and "ModuleNotFoundError" in reason
        ff = fix_file(engine, str(path), src, verifier=v)
    assert ff.new_text == src and not ff.applied and ff.dropped
    assert all(r.status == "unverified" and "torch cannot be imported" in r.reason for r in ff.dropped)
    with Verifier(Settings(root=tmp_path, verify={"python": str(tmp_path / "no-such-python")})) as v:
        ff = fix_file(engine, str(path), src, verifier=v, keep_unverified=True)
    assert ff.new_text != src and all("not found" in r.reason for r in ff.applied)


# --------------------------------------------------------------------------- sandbox limits
HANGS = """
import time

import torch
from torch import nn


class Slow(nn.Module):
    def __init__(self):
        super().__init__()
        time.sleep(600)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
"""

GREEDY = """
import torch
from torch import nn


class Greedy(nn.Module):
    def __init__(self):
        super().__init__()
        self.buf = bytearray(8 * 1024 ** 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.bool()
"""


def test_time_limit_kills_the_worker_and_cleans_up(tmp_path, engine):
    path = tmp_path / "slow.py"
    path.write_text(_src(HANGS), encoding="utf-8")
    with Verifier(Settings(root=tmp_path, verify={"timeout": 5})) as v:
        assert v.available() is None
        t0 = time.monotonic()
        ff = fix_file(engine, str(path), _src(HANGS), verifier=v)
        assert time.monotonic() - t0 < 60
        assert ff.new_text == _src(HANGS)
        assert ff.dropped and all("timed out after 5 s" in r.reason for r in ff.dropped)
        tmpdir = v.worker.tmpdir
        # the next file gets a fresh worker
        ok = tmp_path / "ok.py"
        ok.write_text(_src(BROKEN_MODEL).replace("torch.sigmoid(x)", "x.sigmoid()"), encoding="utf-8")
        ff2 = fix_file(engine, str(ok), ok.read_text(), verifier=v)
        assert ff2.applied and all(r.status == "confirmed" for r in ff2.applied)
        assert v.worker.starts == 2
    assert not os.path.exists(tmpdir)


def test_memory_limit_applies_to_user_code(tmp_path, engine):
    path = tmp_path / "greedy.py"
    path.write_text(_src(GREEDY), encoding="utf-8")
    with Verifier(Settings(root=tmp_path, verify={"memory-mb": 3072})) as v:
        ff = fix_file(engine, str(path), _src(GREEDY), verifier=v)
    assert not ff.applied and ff.dropped
    assert "Greedy() raised MemoryError" in ff.dropped[0].reason


# --------------------------------------------------------------------------- packages
def test_relative_imports_work_from_the_temporary_copy(tmp_path, engine):
    pkg = tmp_path / "pkg"
    (pkg / "nets").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "nets" / "__init__.py").write_text("from .model import Net\n", encoding="utf-8")
    (pkg / "layers.py").write_text(
        _src("""
        import torch
        from torch import nn


        class Scale(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * 3
    """),
        encoding="utf-8",
    )
    src = _src("""
        import torch
        from torch import nn

        from ..layers import Scale


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = Scale()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.scale(x).bool()
    """)
    path = pkg / "nets" / "model.py"
    path.write_text(src, encoding="utf-8")
    with Verifier(Settings(root=tmp_path)) as v:
        ff = fix_file(engine, str(path), src, verifier=v)
    assert [(r.status, r.level) for r in ff.applied] == [("confirmed", 3)], [r.note() for r in ff.applied + ff.dropped]
    assert "self.scale(x).to(torch.bool)" in ff.new_text


# --------------------------------------------------------------------------- --verify / explain-error
UNCOVERED = """
import torch
from torch import nn


class Odd(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pair = [x, x]
        return pair[:, 0]


class Tried(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return x + 1
        except RuntimeError:
            return x
"""


def test_verify_reports_uncovered_compiler_errors_as_ts901(tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(_src(UNCOVERED), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n", encoding="utf-8")
    code, out, err = run_cli("check", "--verify", "odd.py", cwd=tmp_path)
    assert code == 1
    assert "odd.py:8:1: TS901 compiler error not covered by a rule: " in out, out
    assert "TS101" in out and out.count("TS901") == 1  # the try block is the rule's
    # covered means "a rule reports it", selected or not
    code, out, err = run_cli("check", "--verify", "--select", "TS9", "odd.py", cwd=tmp_path)
    assert out.count("TS901") == 1 and "TS101" not in out, out
    code, out, err = run_cli("explain-error", "odd.py", cwd=tmp_path)
    assert code == 1
    assert (
        "odd.py:13: Tried: UnsupportedNodeError: try blocks aren't supported" in out
        or "odd.py:13: Tried.forward: UnsupportedNodeError: try blocks aren't supported" in out
    ), out
    assert "covered by TS101" in out
    assert "odd.py:8: Odd:" in out and "TS901 compiler error not covered by a rule" in out
    code, out, _ = run_cli("rules")
    assert "TS901" in out and "compiler-error" in out
    code, out, _ = run_cli("explain", "TS901")
    assert code == 0 and "--verify" in out


def test_verify_reads_each_files_own_configuration(tmp_path):
    """`check --verify` over two projects: each file's `[tool.tsscan]` decides whether its
    uncovered compiler errors are reported (the selection is applied per file, after one check
    with every rule)."""
    for name, config in (("loud", "[tool.tsscan]\n"), ("quiet", '[tool.tsscan]\nignore = ["TS901"]\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(config, encoding="utf-8")
        (tmp_path / name / "odd.py").write_text(_src(UNCOVERED), encoding="utf-8")
    for order in (["quiet", "loud"], ["loud", "quiet"]):
        code, out, err = run_cli("check", "--verify", *(f"{d}/odd.py" for d in order), cwd=tmp_path)
        assert code == 1, err
        ts901 = [ln.split(":")[0] for ln in out.splitlines() if ": TS901 " in ln]
        assert ts901 == [os.path.join("loud", "odd.py")], out
        assert out.count("TS101") == 2, out  # both files' own findings, once each


def test_compiler_error_shapes_map_to_lines(tmp_path, verifier):
    """Frontend errors (File/line in the message), C++ errors whose first frame is the site
    and later frames the call stack, and errors with no location."""
    from tsscan.verify import parse_error

    src = _src("""
        import torch
        from torch import nn


        def helper(n: int):
            return torch.zeros(3) * n + n.size(0)


        class Calls(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + helper(3)


        class Lam(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                f = lambda t: t * 2
                return f(x)


        class Waits(nn.Module):
            async def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x
    """)
    path = tmp_path / "shapes.py"
    path.write_text(src, encoding="utf-8")
    verifier.inputs = {}
    outcome = verifier.check(str(path), src)
    calls = outcome.classes["Calls"].script_error
    assert calls is not None and calls.line == 6  # the error site: the first frame
    # later frames are the call stack, up to the call in forward
    assert "is being compiled since it was called from" in calls.message and "line 11" in calls.message
    lam = outcome.frontend["Lam.forward"]
    assert lam is not None and lam.line == 16 and lam.first_line == "Lambda aren't supported"
    # the location is only embedded in the text: "Expected a single top-level function: F:N"
    waits = outcome.frontend["Waits.forward"]
    assert waits is not None and waits.line == 21 and "single top-level function" in waits.first_line
    none = parse_error(
        {"type": "TypeError", "message": "cannot create weak reference to 'numpy.ufunc' object", "tb_line": None},
        str(path),
    )
    assert none.line is None and none.located_by == "none"


def test_killed_tsscan_leaves_no_worker_and_no_temp_files(tmp_path):
    """tsscan killed with SIGKILL mid-run: its worker exits by itself, and the next run
    removes the temporary directory the killed one could not."""
    import signal
    import subprocess

    code = (
        "import sys, time\n"
        "from tsscan.verify import Worker\n"
        "w = Worker()\n"
        "assert w.hello()['ok']\n"
        "print(w.proc.pid, w.tmpdir, flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        worker_pid, tmpdir = proc.stdout.readline().split()
        assert os.path.isdir(tmpdir)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(int(worker_pid), 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the worker outlived tsscan")
    from tsscan.verify import Worker

    # nobody could clean it at kill time: the next run does (or any other tsscan run that
    # started meanwhile)
    Worker().close()
    assert not os.path.exists(tmpdir)


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_yolo_head_fix_leaves_only_what_it_reports_as_unfixable(unsafe, tmp_path, verifier, engine):
    """The bundled example: its classes keep constructs no rule fixes (try/except in
    Postprocess, a ModuleList indexed by a variable in Detect), so torch.jit.script never
    compiles them and only torch's frontend reads the fixes: not a confirmation, so by default
    nothing is written and each fix says what stops the compiler. With `--keep-unverified`,
    every fix the rules offer is applied, and what torch.jit.script still rejects afterwards is
    exactly what tsscan still reports without a fix."""
    from tsscan.verify import covering

    src = (ROOT / "fixtures" / "yolo_head.py").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.tsscan]\n", encoding="utf-8")
    path = tmp_path / "yolo_head.py"
    path.write_text(src, encoding="utf-8")
    args = ["--fix"] + (["--unsafe-fixes"] if unsafe else []) + ["yolo_head.py"]
    code, out, err = run_cli(*args, cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == src and code == 1, out
    assert "TS210 fix not applied (unverified; --keep-unverified applies it): only torch's frontend accepts it" in out
    assert "fixed, confirmed" not in out
    args.insert(1, "--keep-unverified")
    code, out, err = run_cli(*args, cwd=tmp_path)
    fixed = path.read_text(encoding="utf-8")
    assert fixed != src and "fix reverted" not in out, out
    assert "def _make_grid(nx: int = 20, ny: int = 20)" in fixed  # TS210, safe
    assert "TS210 fixed, unverified (applied: --keep-unverified): only torch's frontend accepts it" in out
    safeties = ("safe", "unsafe") if unsafe else ("safe",)
    result = engine.check(str(path), fixed)
    assert not [d for d in result.diagnostics if d.fix in safeties], "an offered fix was not applied"
    verifier.inputs = {}
    outcome = verifier.check(str(path), fixed, None, result.scope)
    assert outcome.import_error is None
    for name, c in outcome.classes.items():
        assert c.built, (name, c.build_error)
        if c.script_error is not None:
            assert covering(result.diagnostics, c.script_error.line, result.scope), (name, c.script_error.message)
    # the try/except is not fixable: Postprocess keeps failing, and says why
    assert outcome.classes["Postprocess"].script_error is not None
    assert any(d.code == "TS101" for d in result.diagnostics)
    code2, out2, _ = run_cli(*args, cwd=tmp_path)  # fixing twice changes nothing
    assert path.read_text(encoding="utf-8") == fixed and "fix unverified" not in out2


def test_module_that_cannot_be_imported_is_unverified(tmp_path, engine):
    src = _src("""
        import torch
        from torch import nn

        import a_package_that_is_not_installed


        class Net(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x.bool()
    """)
    path = tmp_path / "net.py"
    path.write_text(src, encoding="utf-8")
    with Verifier(Settings(root=tmp_path)) as v:
        ff = fix_file(engine, str(path), src, verifier=v)
    assert ff.new_text == src and [r.status for r in ff.dropped] == ["unverified"]
    assert "cannot be imported" in ff.dropped[0].reason and "a_package_that_is_not_installed" in ff.dropped[0].reason


def test_factory_in_another_module_builds_the_fixed_class(tmp_path, engine):
    """A factory that imports the user's module by name gets the rewritten class."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("", encoding="utf-8")
    src = (FIX_FIXTURES / "mlp_head.py").read_text(encoding="utf-8")
    (tmp_path / "models" / "mlp_head.py").write_text(src, encoding="utf-8")
    (tmp_path / "builders.py").write_text(
        _src("""
        import torch

        from models.mlp_head import MLPHead


        def build():
            return MLPHead(6, [5], 2), [(torch.randn(3, 6),)]
    """),
        encoding="utf-8",
    )
    settings = Settings(root=tmp_path, verify={"factories": {"models/mlp_head.py:MLPHead": "builders:build"}})
    with Verifier(settings) as v:
        ff = fix_file(engine, str(tmp_path / "models" / "mlp_head.py"), src, verifier=v)
    assert [(r.status, r.level) for r in ff.applied] == [("confirmed", 3)] * 2, [
        r.note() for r in ff.applied + ff.dropped
    ]
    assert ff.new_text == (FIX_FIXTURES / "mlp_head.fixed.py").read_text(encoding="utf-8")


def test_coding_cookie_is_kept_in_the_temporary_copy(tmp_path, engine):
    from tsscan.files import read_source

    src = _src("""
        # -*- coding: latin-1 -*-
        import torch
        from torch import nn

        UNIT = "µm"
        assert len(UNIT) == 2, "the copy was decoded with the wrong encoding"


        class Net(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x.bool()
    """)
    path = tmp_path / "latin.py"
    path.write_bytes(src.encode("latin-1"))
    source = read_source(str(path))
    with Verifier(Settings(root=tmp_path)) as v:
        ff = fix_file(engine, str(path), source.text, verifier=v)
    assert [(r.status, r.level) for r in ff.applied] == [("confirmed", 3)], [r.note() for r in ff.applied + ff.dropped]


def test_error_without_location_is_not_blamed_on_an_earlier_fix(tmp_path, verifier, engine):
    """`contextlib.nullcontext` fails with no location (and no fix here); leaving out the
    requires_grad fix before it makes the compiler stop earlier, which must not count as
    proof that the requires_grad fix was the problem."""
    src = _src("""
        import contextlib

        import torch
        from torch import nn


        class Pool(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                bias = torch.zeros(x.size(1), requires_grad=False)
                with contextlib.nullcontext():  # the marker comment keeps TS123 from fixing
                    y = x + bias
                return y
    """)
    path = tmp_path / "pool.py"
    path.write_text(src, encoding="utf-8")
    verifier.inputs = {}
    ff = fix_file(engine, str(path), src, verifier=verifier, keep_unverified=True)
    assert [r.diagnostic.code for r in ff.applied] == ["TS405"] and not ff.dropped, [r.note() for r in ff.dropped]
    # torch's frontend alone accepted it: that is no confirmation (issue 12)
    assert ff.applied[0].status == "unverified" and ff.applied[0].level == 1
    assert "TS123, not fixed" in ff.applied[0].reason
    ff = fix_file(engine, str(path), src, verifier=verifier)
    assert ff.new_text == src and not ff.applied
    assert [(r.diagnostic.code, r.status) for r in ff.dropped] == [("TS405", "unverified")]


def test_fix_in_a_base_class_is_confirmed_through_a_buildable_subclass(tmp_path, verifier, engine):
    src = _src("""
        import torch
        from torch import nn


        class Base(nn.Module):
            def __init__(self, scale: float):
                super().__init__()
                self.scale = scale

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return (x * self.scale).bool()


        class Doubler(Base):
            def __init__(self):
                super().__init__(2.0)
    """)
    path = tmp_path / "based.py"
    path.write_text(src, encoding="utf-8")
    verifier.inputs = {}
    ff = fix_file(engine, str(path), src, verifier=verifier)
    assert [(r.status, r.level) for r in ff.applied] == [("confirmed", 3)], [r.note() for r in ff.applied + ff.dropped]


def test_the_same_compiler_error_is_recognised_across_compiles():
    """torch mangles a class compiled again (`___torch_mangle_910.BoxCoder`) and names the
    compilation unit by address: torchvision's RoIHeads failed the same way before and after
    the fixes, and the fixes were reverted as if they had caused it."""
    from tsscan.verify.errors import CompilerError

    def error(mangle: str, address: str) -> CompilerError:
        return CompilerError(
            "RuntimeError",
            f"Could not cast attribute 'box_coder' to type __torch__.m.{mangle}BoxCoder "
            f"(of Python compilation unit at: {address}): 'int' object is not iterable",
            None,
        )

    before, after = error("", "0x55c7ce9c2d90"), error("___torch_mangle_910.", "0x7f00aa11")
    assert before.first_line != after.first_line
    assert before.stable_line == after.stable_line
    assert error("", "0x1").stable_line != CompilerError("RuntimeError", "another error", None).stable_line
