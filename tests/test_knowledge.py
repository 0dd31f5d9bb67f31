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
    assert not any("requires_grad:" in sig for sig in generated["schemas"][ones["op"]])
    assert any("requires_grad:" in sig for sig in generated["schemas"][generated["functions"]["torch.tensor"]["op"]])
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


# ---- signatures: the table's answers against what the compiler does with the same call

# (call compiled in `def f(x: Tensor, i: int, fl: float, xs: List[Tensor])`, what to ask the table)
SIGNATURE_CASES = [
    ("torch.cat(xs)", ("function", "torch.cat", ["List[Tensor]"])),
    ("torch.cat(xs, 1)", ("function", "torch.cat", ["List[Tensor]", "int"])),
    ("torch.sum(x)", ("function", "torch.sum", ["Tensor"])),
    ("torch.sum(x, 1)", ("function", "torch.sum", ["Tensor", "int"])),
    ("torch.max(x, 1)", ("function", "torch.max", ["Tensor", "int"])),
    ("torch.add(i, i)", ("function", "torch.add", ["int", "int"])),
    ("torch.zeros(2, 3)", ("function", "torch.zeros", ["int", "int"])),
    ("torch.split(x, 2)", ("function", "torch.split", ["Tensor", "int"])),
    ("torch.linalg.norm(x)", ("function", "torch.linalg.norm", ["Tensor"])),
    ("torch.nn.functional.relu(x)", ("function", "torch.nn.functional.relu", ["Tensor"])),
    (
        "torch.nn.functional.interpolate(x, scale_factor=2.0)",
        ("function", "torch.nn.functional.interpolate", ["Tensor"]),
    ),
    (
        "torch.nn.functional.multi_head_attention_forward",
        ("function", "torch.nn.functional.multi_head_attention_forward", None),
    ),
    # a TorchScript builtin function (no registered operator): "unknown-op" before format 2
    (
        "torch.nn.functional.assert_int_or_pair([1], 'a', 'b')",
        ("function", "torch.nn.functional.assert_int_or_pair", ["List[int]", "str", "str"]),
    ),
    ("x.size()", ("method", "size", [])),
    ("x.size(0)", ("method", "size", ["int"])),
    ("x.item()", ("method", "item", [])),
    ("x.dim()", ("method", "dim", [])),
    ("x.float()", ("method", "float", [])),
    ("x.view(2, 3)", ("method", "view", ["int", "int"])),
    ("x.max(1)", ("method", "max", ["int"])),
    ("x.split(2)", ("method", "split", ["int"])),
    ("x.type(torch.float)", ("method", "type", ["int"])),
    ("x.where(x > 0, x)", ("method", "where", ["Tensor", "Tensor"])),
    ("math.sqrt(fl)", ("math", "sqrt", ["float"])),
    ("math.floor(fl)", ("math", "floor", ["float"])),
    ("math.sqrt(i)", ("math", "sqrt", ["int"])),
    ("len(xs)", ("builtin", "len", ["List[Tensor]"])),
    ("round(fl)", ("builtin", "round", ["float"])),
    ("round(i)", ("builtin", "round", ["int"])),
    ("int(x)", ("builtin", "int", ["Tensor"])),
    ("max(i, fl)", ("builtin", "max", ["int", "float"])),
    ("divmod(i, i)", ("builtin", "divmod", ["int", "int"])),
    ("abs(i)", ("builtin", "abs", ["int"])),
    ("x.shape", ("property", "shape", None)),
    ("x.dtype", ("property", "dtype", None)),
    ("x.device", ("property", "device", None)),
    ("x.T", ("property", "T", None)),
    ("math.pi", ("constant", "pi", None)),
]


def _installed_table() -> knowledge.Knowledge:
    """The table for the torch these tests compile with."""
    from importlib.metadata import version

    return knowledge.load(version("torch"))


def _compiled_return(call: str) -> str:
    import math  # noqa: F401 - the compiler resolves `math` in this frame

    import torch

    if not call.startswith(("x.", "math.")) and "(" not in call:  # a function: its whole signature
        return ""
    cu = torch.jit.CompilationUnit(f"def f(x: Tensor, i: int, fl: float, xs: List[Tensor]):\n    return {call}\n")
    ret = cu.f.schema.returns[0].type
    elements = getattr(ret, "elements", None)  # a (named) tuple: compare its elements
    if elements:
        return f"Tuple[{', '.join(str(e) for e in ret.elements())}]"
    return "None" if str(ret) == "NoneType" else str(ret)


@pytest.mark.parametrize("call,query", SIGNATURE_CASES, ids=[c for c, _ in SIGNATURE_CASES])
def test_returns_match_the_compiler(call, query):
    k = _installed_table()
    kind, name, args = query
    if kind in ("property", "constant"):
        typ = k.property_type(name) if kind == "property" else k.math_constant_types.get(name)
        assert typ == _compiled_return(call)
        return
    ask = {"function": k.function_return, "method": k.method_return, "math": k.math_return}.get(kind, k.builtin_return)
    if args is None:
        assert ask(name) == "Tuple[Tensor, Optional[Tensor]]"
        return
    assert ask(name, args) == _compiled_return(call)


def test_known_signatures():
    import torch

    k = _installed_table()
    (cat, cat_out) = k.function_overloads("torch.cat")
    assert [(p.name, p.type, p.has_default, p.kwarg_only) for p in cat.params] == [
        ("tensors", "List[Tensor]", False, False),
        ("dim", "int", True, False),
    ]
    assert cat_out.params[-1] == knowledge.Param("out", "Tensor", kwarg_only=True, has_default=False)
    # the compiler rejects a Tensor where the table says List[Tensor] (dim follows: no packing)
    with pytest.raises(Exception, match="List\\[Tensor\\]"):
        torch.jit.CompilationUnit("def f(x: Tensor):\n    return torch.cat(x)\n")
    # Tensor.size: two overloads that disagree; no argument: List[int]
    assert k.method_return("size") is None
    assert k.method_return("size", []) == "List[int]"
    assert [s.return_type for s in k.method_overloads("size")] == ["int", "List[int]"]
    # Tensor.item returns a Scalar, which TorchScript calls `number`
    assert k.method_return("item") == "number"
    # torch.sum also sums a List[int]; on a Tensor it returns a Tensor
    assert k.function_return("torch.sum") is None and k.function_return("torch.sum", ["Tensor"]) == "Tensor"
    # torch.is_tensor maps to aten::is_tensor, which has no schema: TorchScript rejects the call
    assert k.function_compiles("torch.is_tensor") is False and k.function_overloads("torch.is_tensor") == []
    assert k.function_return("torch.is_tensor") is None
    with pytest.raises(Exception, match="Unknown builtin op: aten::is_tensor"):
        torch.jit.CompilationUnit("def f(x: Tensor):\n    return torch.is_tensor(x)\n")
    # named returns: torch.max(x, 1).values
    sig = next(s for s in k.function_overloads("torch.max") if s.binds(["Tensor", "int"], conversions=False))
    assert sig.return_names == ("values", "indices") and sig.return_type == "Tuple[Tensor, Tensor]"
    torch.jit.CompilationUnit("def f(x: Tensor) -> Tensor:\n    return torch.max(x, 1).values\n")
    # keyword-only: torch.zeros(..., dtype=) ; requires_grad only on torch.tensor
    zeros = k.function_overloads("torch.zeros")[0]
    assert {p.name: p.kwarg_only for p in zeros.params}["dtype"] is True
    assert {p.name: p.type for p in zeros.params}["dtype"] == "Optional[int]"  # ScalarType is an int
    # where: `self` is the second parameter of aten::where.self, so x.where(cond, y) exists
    assert [p.name for p in k.method_overloads("where")[0].params] == ["condition", "other"]
    # a Python function TorchScript compiles: types as the compiler sees them
    (relu,) = k.function_overloads("torch.nn.functional.relu")
    assert [(p.name, p.type, p.has_default) for p in relu.params] == [
        ("input", "Tensor", False),
        ("inplace", "bool", True),
    ]
    # a boolean_dispatch: both functions, with different returns
    assert [s.return_type for s in k.function_overloads("torch.nn.functional.max_pool2d")] == [
        "Tensor",
        "Tuple[Tensor, Tensor]",
    ]
    # x.tolist()'s type comes from an annotation: no signature, no return type
    assert "tolist" in k.tensor_methods and k.method_overloads("tolist") == [] and k.method_return("tolist") is None


def test_python_functions_that_do_not_compile(generated):
    """A Python function of torch / F that the table marks as not compiling fails when called
    from TorchScript; the ones it marks as compiling compile."""
    import torch

    table = generated["functions"]
    bad = sorted(q for q, e in table.items() if e["kind"] == "python" and e.get("compiles") is False)
    assert "torch.nn.functional.gaussian_nll_loss" in bad and "torch.compile" in bad
    assert "torch.nn.functional.interpolate" not in bad and "torch.unique" not in bad
    k = _installed_table()
    assert k.function_compiles("torch.nn.functional.gaussian_nll_loss") is False
    assert k.function_overloads("torch.nn.functional.gaussian_nll_loss") == []
    assert k.accepts_keyword("torch.nn.functional.gaussian_nll_loss", "var") is True  # names still known
    with pytest.raises(Exception):  # noqa: B017 - any compiler error
        torch.jit.CompilationUnit("def f(x: Tensor):\n    return torch.nn.functional.gaussian_nll_loss(x, x, x)\n")


def test_member_tables_agree_with_the_schemas(generated):
    """Two measurements of the same thing: the probed member tables and the operator schemas."""
    import torch

    t = generated["tensor"]
    sigs = generated["tensor_method_signatures"]
    # every method the probe found supported has signatures, except tolist (typed by annotation)
    assert sorted(set(t["methods"]) - set(sigs)) == ["tolist"]
    # no schema gives an unsupported method a Tensor `self`
    k = _installed_table()
    for name in t["unsupported_methods"]:
        schemas = torch._C._jit_get_schemas_for_operator(f"aten::{name}")
        assert not any(a.name == "self" and str(a.type) == "Tensor" for s in schemas for a in s.arguments), name
        assert k.method_overloads(name) == []
    # every function the table calls builtin has schemas, and its op is the one the compiler names
    for qual, entry in generated["functions"].items():
        if entry["kind"] == "builtin":
            assert generated["schemas"][entry["op"]], qual


def test_signature_text_round_trips(generated):
    texts = [t for ts in generated["schemas"].values() for t in ts]
    texts += [t for e in generated["functions"].values() for t in e.get("overloads", [])]
    for text in texts:
        sig = knowledge.parse_signature(text)
        assert (
            gen_knowledge._sig_text(
                [(p.name, p.type, p.kwarg_only, p.has_default) for p in sig.params],
                list(zip(sig.return_names, sig.returns, strict=True))
                if sig.return_names
                else [("", r) for r in sig.returns],
            )
            == text
        ), text


# (call, function, positional argument types, keywords passed, flag values)
DISPATCH_CASES = [
    ("torch.nn.functional.max_pool2d(x, 2)", "torch.nn.functional.max_pool2d", ["Tensor", "int"], [], {}),
    (
        "torch.nn.functional.max_pool2d(x, 2, return_indices=True)",
        "torch.nn.functional.max_pool2d",
        ["Tensor", "int"],
        ["return_indices"],
        {"return_indices": True},
    ),
    (
        "torch.nn.functional.adaptive_max_pool1d(x, 2, True)",
        "torch.nn.functional.adaptive_max_pool1d",
        ["Tensor", "int", "bool"],
        [],
        {"return_indices": True},
    ),
    ("torch.unique(x)", "torch.unique", ["Tensor"], [], {}),
    ("torch.unique(x, return_inverse=True)", "torch.unique", ["Tensor"], ["return_inverse"], {"return_inverse": True}),
    (
        "torch.unique(x, return_inverse=True, return_counts=True)",
        "torch.unique",
        ["Tensor"],
        ["return_inverse", "return_counts"],
        {"return_inverse": True, "return_counts": True},
    ),
]


@pytest.mark.parametrize("call,qual,args,keywords,flags", DISPATCH_CASES, ids=[c[0] for c in DISPATCH_CASES])
def test_boolean_dispatch_returns_match_the_compiler(call, qual, args, keywords, flags):
    """A boolean_dispatch flag picks the function: its default when the call does not pass it,
    the given constant otherwise; unknown (None) when passed without a value in ``flags``."""
    k = _installed_table()
    kw_types = {name: "bool" for name in keywords}
    assert k.function_return(qual, args, kw_types, flags) == _compiled_return(call)
    if flags:
        assert k.function_return(qual, args, kw_types) is None


# --------------------------------------------------------------------------- comparisons (TS260)
import measure_comparisons  # noqa: E402

from tsscan.semantic import operators  # noqa: E402

_CMP = operators.table()
_CMP_CASES = [
    (a, op, b)
    for i, (op, a, b) in enumerate((op, a, b) for op in _CMP["ops"] for a in _CMP["types"] for b in _CMP["types"])
    if i % 61 == 0  # a spread sample: every operator, every type on both sides
]


@pytest.mark.parametrize("a,op,b", _CMP_CASES, ids=[" ".join(c) for c in _CMP_CASES])
def test_comparison_table_matches_the_installed_compiler(a, op, b, tmp_path):
    """``tsscan/data/comparisons.json`` says what the installed torch does with ``a op b``."""
    assert measure_comparisons.torch.__version__.split("+")[0] in _CMP["torch"]
    got = measure_comparisons.compiles(tmp_path / "cmp.py", a, op, b)
    assert (got is None) == (operators.comparison_fails(a, op, b) is None), got
