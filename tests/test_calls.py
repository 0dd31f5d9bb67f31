"""Call checking (tsscan/semantic/calls.py): the conversions measured with torch 2.13, binding
arguments to a signature, and the verdict on a call. The compiler's verdicts these encode are
measured by scripts/measure_call_conversions.py; a few of them are compiled here again."""

from __future__ import annotations

import textwrap

import pytest

from tsscan.semantic.calls import Callee, accepts, check, match
from tsscan.semantic.knowledge import parse_signature

# (parameter, argument, the compiler's verdict) from scripts/measure_call_conversions.py
MEASURED = [
    ("float", "int", False),
    ("float", "bool", True),
    ("float", "Tensor", True),
    ("float", "float", True),
    ("float", "Optional[float]", False),
    ("Optional[float]", "int", False),
    ("Optional[float]", "float", True),
    ("Optional[float]", "Tensor", True),
    ("Optional[float]", "bool", True),
    ("Optional[float]", "None", True),
    ("number", "int", True),
    ("number", "bool", True),
    ("number", "str", False),
    ("int", "float", False),
    ("int", "bool", True),
    ("int", "Tensor", True),
    ("bool", "int", False),
    ("bool", "Tensor", False),
    ("str", "Tensor", False),
    ("str", "Optional[str]", False),
    ("Tensor", "None", False),
    ("Tensor", "Optional[Tensor]", False),
    ("Tensor", "int", False),
    ("Tensor", "float", False),
    ("Tensor", "bool", False),
    ("Tensor", "List[int]", False),
    ("Tensor", "Tuple[Tensor, Tensor]", False),
    ("Optional[Tensor]", "int", False),
    ("Optional[Tensor]", "None", True),
    ("Optional[int]", "Tensor", True),  # dtype= an unannotated parameter
    ("Optional[Device]", "Tensor", False),  # device= an unannotated parameter
    ("Optional[Device]", "int", False),
    ("Optional[Device]", "str", True),
    ("Optional[Device]", "Optional[str]", False),
    ("List[int]", "Tuple[int, int]", True),
    ("List[int]", "Tuple[Tensor, Tensor]", False),
    ("List[int]", "Tuple[int, Tensor]", False),
    ("List[int]", "Tuple[int, float]", False),
    ("List[int]", "List[Tensor]", False),
    ("List[int]", "Union[Tuple[int, int], int]", False),
    ("List[int]", "Tensor", False),
    ("List[float]", "List[int]", False),
    ("List[float]", "Tuple[int, int]", False),
    ("Optional[List[float]]", "Tuple[float, float]", True),
    ("Optional[List[float]]", "Tuple[int, int]", False),
    ("List[Tensor]", "Tuple[Tensor, Tensor]", True),
    ("List[Tensor]", "List[Optional[Tensor]]", False),
    ("List[Tensor]", "Tensor", False),
    ("Tuple[int, int]", "List[int]", False),
    ("Tuple[int, int]", "Tuple[Tensor, Tensor]", True),
]


@pytest.mark.parametrize(("param", "arg", "verdict"), MEASURED)
def test_conversions_follow_the_measurements(param, arg, verdict):
    assert accepts(param, arg) is verdict


@pytest.mark.parametrize(
    ("param", "arg"),
    [("Any", "int"), ("t", "int"), ("Dict[str, t]", "int"), ("Generator", "Tensor"), ("float", None)],
)
def test_what_the_vocabulary_does_not_decide_is_unknown(param, arg):
    assert accepts(param, arg) is None


def test_broadcasting_lists_take_one_item_of_their_type():
    # a torch function's `int[2]` takes an int, not a Tensor (torch.roll(x, shifts=n))
    assert accepts("List[int]", "int", broadcast=True) is True
    assert accepts("List[int]", "Tensor", broadcast=True) is False
    assert accepts("List[int]", "int") is False


def _sig(text: str):
    return parse_signature(text)


def test_the_last_positional_list_takes_the_remaining_values_each_converted():
    view = _sig("(size: List[int]) -> Tensor")
    assert match(view, ["int", "Tensor"], {}) is None  # x.view(n, t)
    failure = match(view, ["int", "float"], {})  # x.view(n, n / 2)
    assert failure is not None
    assert failure.text == "Expected a value of type 'int' for argument '<varargs>' but instead found type 'float'."
    ones = _sig("(size: List[int], *, dtype: Optional[int]=) -> Tensor")
    assert match(ones, ["Tuple[Tensor, Tensor]"], {}) is not None  # torch.ones((n, n))
    assert match(ones, ["Tuple[int, int]"], {}) is None


def test_arity_and_keywords():
    sig = _sig("(x: Tensor, y: Tensor) -> Tensor")
    too_many = match(sig, ["Tensor", "Tensor", "Tensor"], {}, user=True)
    assert too_many is not None and too_many.kind == "arity"
    assert too_many.text == "Expected at most 2 arguments but found 3 positional arguments."
    missing = match(sig, ["Tensor"], {}, user=True)
    assert missing is not None and missing.text == "Argument y not provided."
    twice = match(sig, ["Tensor", "Tensor"], {"y": "Tensor"}, user=True)
    assert twice is not None and twice.text == "Keyword argument y specified twice."
    assert match(sig, ["Tensor"], {"y": None}, user=True) is None  # unknown type: may bind


def test_a_user_list_parameter_that_is_not_last_takes_no_int():
    sig = _sig("(s: List[int], x: Tensor) -> Tensor")
    assert match(sig, ["int", "Tensor"], {}, user=True) is not None
    assert match(sig, ["int", "Tensor"], {}, user=False) is None  # a torch function's may be int[2]


def test_the_verdict_names_what_the_compiler_says():
    single = Callee("F.normalize", (_sig("(input: Tensor, p: float=, dim: int=) -> Tensor"),))
    verdict = check(single, ["Tensor"], {"p": "int"})
    assert verdict is not None and verdict.kind == "type"
    assert verdict.compiler_says == "Expected a value of type 'float' for argument 'p' but instead found type 'int'."
    several = Callee(
        "F.interpolate",
        (
            _sig("(input: Tensor, scale_factor: Optional[List[float]]=) -> Tensor"),
            _sig("(input: Tensor, scale_factor: Optional[float]=) -> Tensor"),
        ),
    )
    verdict = check(several, ["Tensor"], {"scale_factor": "int"})
    assert verdict is not None and verdict.compiler_says.startswith("Arguments for call are not valid")
    assert check(several, ["Tensor"], {"scale_factor": "float"}) is None
    assert check(several, ["Tensor"], {"scale_factor": None}) is None


def test_inferred_parameters_are_named_as_the_compiler_names_them():
    callee = Callee("helper", (_sig("(x: Tensor, y: Tensor) -> Tensor"),), user=True, inferred=frozenset({"y"}))
    verdict = check(callee, ["Tensor", "None"], {})
    assert verdict is not None
    assert verdict.compiler_says == (
        "Expected a value of type 'Tensor (inferred)' for argument 'y' but instead found type 'NoneType'."
    )


def test_the_measurements_hold_for_the_installed_torch(tmp_path):
    """Three rows of the table, compiled again: an int for a float (a torch function compiled
    from source), an unannotated parameter as `device=`, and as `dtype=`."""
    torch = pytest.importorskip("torch")
    src = textwrap.dedent(
        """
        import torch
        import torch.nn.functional as F

        def int_for_float(x: torch.Tensor):
            return F.normalize(x, p=2)

        def tensor_for_device(x: torch.Tensor, d):
            return torch.zeros([2], device=d)

        def tensor_for_dtype(x: torch.Tensor, d):
            return torch.zeros([2], dtype=d)
        """
    )
    path = tmp_path / "measured_calls.py"
    path.write_text(src)
    import importlib.util

    spec = importlib.util.spec_from_file_location("measured_calls", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    verdicts = {}
    for name, param, arg in [
        ("int_for_float", "float", "int"),
        ("tensor_for_device", "Optional[Device]", "Tensor"),
        ("tensor_for_dtype", "Optional[int]", "Tensor"),
    ]:
        try:
            torch.jit.script(getattr(mod, name))
            verdicts[name] = True
        except RuntimeError:
            verdicts[name] = False
        assert accepts(param, arg) is verdicts[name], name


# --------------------------------------------------------------------------- the rules on code
REFINED = """
from typing import Optional

import torch
from torch import nn


def g(x: torch.Tensor) -> torch.Tensor:
    return x


class M(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(2, 4)

    def forward(
        self,
        a: Optional[torch.Tensor],
        b: Optional[torch.Tensor],
        c: Optional[torch.Tensor],
        d: Optional[torch.Tensor],
        e: Optional[torch.Tensor],
        f: Optional[torch.Tensor],
        t: torch.Tensor,
        k: Optional[torch.Tensor],
    ) -> torch.Tensor:
        assert a is not None
        y = g(a)
        if b is None:
            return t
        y = g(b)
        if c is None:
            c = t
        y = g(c)
        if d is not None and t.sum() > 0:
            y = g(d)
        e = e if e is not None else t
        y = g(e)
        if f is None:
            raise ValueError("f")
        y = g(f) + self.norm(y)
        ok = k is not None
        if ok:
            y = g(k)
        return y
"""


def _findings(code: str) -> list[tuple[int, str]]:
    from tsscan.engine import Engine
    from tsscan.registry import load_rules

    engine = Engine(load_rules(), "2.13", select=("TS410", "TS411"))
    result = engine.check("example.py", textwrap.dedent(code).lstrip("\n"))
    return sorted((d.line, d.code) for d in result.diagnostics)


def test_only_the_optional_the_compiler_does_not_refine_is_reported(tmp_path):
    """assert, early return/raise, rebinding under a test, `and`, a conditional expression
    refine; a test stored in a variable does not. The compiler agrees (it stops at that line)."""
    found = _findings(REFINED)
    line = next(i for i, text in enumerate(textwrap.dedent(REFINED).lstrip("\n").splitlines(), 1) if "g(k)" in text)
    assert found == [(line, "TS410")]
    pytest.importorskip("torch")
    from harness import compiler_error

    error = compiler_error(REFINED, tmp_path)
    assert error is not None and line in error.lines


def test_a_torch_nn_submodule_called_with_too_many_arguments():
    code = REFINED.replace("self.norm(y)", "self.norm(y, t)")
    line = next(
        i for i, text in enumerate(textwrap.dedent(code).lstrip("\n").splitlines(), 1) if "self.norm(y, t)" in text
    )
    assert (line, "TS411") in _findings(code)
