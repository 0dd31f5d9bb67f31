"""tsscan.semantic.attributes against the compiler: what it predicts for each attribute of a module is
what torch.jit.script builds (an attribute it cannot convert, or one that lives on the class
only, is missing from the scripted module; the others have the predicted Python type)."""

import ast
import textwrap

import pytest
import torch
from harness import load, quiet

from tsscan.semantic import attributes as A
from tsscan.semantic.compiled import analyse

SOURCE = textwrap.dedent(
    """
    import argparse
    import types
    from typing import Dict, Final, List, Optional

    import torch
    from torch import nn


    class Plain:
        def __init__(self):
            self.v = 1


    def double(x: torch.Tensor) -> torch.Tensor:
        return x * 2


    class Kinds(nn.Module):
        export = False
        mode: str = "fast"
        declared: List[int]
        limit: Final[int] = 4

        def __init__(self, width: int = 3, cfg: types.SimpleNamespace = types.SimpleNamespace(a=1)):
            super().__init__()
            self.width = width
            self.ratio = width / 2
            self.count = width * 2 + 1
            self.flag = not width
            self.name = "k" + "x"
            self.nothing = None
            self.weights = torch.ones(width)
            self.gate = torch.sigmoid(torch.zeros(2))
            self.legacy_ones = torch.FloatTensor(2)
            self.peak = torch.ones(2).max()
            self.grid = [torch.zeros(1)] * width
            self.sizes = [1, 2, 3]
            self.pairs = {"a": 1.0}
            self.shape = (0, 0)
            self.empty = []
            self.lookup = {}
            self.declared = []
            self.filled = []
            self.filled.append(2)
            self.mixed = []
            self.mixed.append(2)
            self.mixed.append("two")
            self.stages = []
            for _ in range(width):
                self.stages.append(nn.Linear(2, 2))
            self.ignored: List[int] = []
            self.typed = torch.jit.Attribute([], List[int])
            self.cfg = cfg
            self.ns = argparse.Namespace(x=1)
            self.act = lambda t: t
            self.fn = double
            self.obj = Plain()
            self.legacy = Legacy()
            self.layers = [nn.Linear(2, 2)]
            self.lin = nn.Linear(2, 2)
            self.blocks = nn.ModuleList([nn.ReLU()])
            self.seq = nn.Sequential(nn.ReLU())
            self.heads = nn.ModuleDict({"a": nn.ReLU()})
            self.register_buffer("buf", torch.zeros(2))
            self.p = nn.Parameter(torch.zeros(2))
            if width > 5:
                self.mask = None
            else:
                self.register_buffer("mask", torch.ones(2))  # a Tensor at the defaults, not None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x


    class Legacy(nn.Module):
        __annotations__ = {"table": Dict[str, float]}

        def __init__(self):
            super().__init__()
            self.table = {}
            self.rows = []

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x
    """
)

# what a scripted attribute of each kind is in Python
_PYTYPES = {A.INT: int, A.FLOAT: float, A.BOOL: bool, A.STR: str, A.TENSOR: torch.Tensor, A.TUPLE: tuple}


def _predictions():
    scope = analyse(ast.parse(SOURCE))
    out = {}
    for cname in ("Kinds", "Legacy"):
        cls = scope.module.classes[cname]
        names = set(cls.init_attrs) | set(cls.class_attrs)
        names.discard("__annotations__")
        prefix = "" if cname == "Kinds" else cname + "."
        out.update({prefix + n: A.attribute_type(cls, n, scope.module) for n in names})
    return out


PRED = _predictions()


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    mod = load(SOURCE, tmp_path_factory.mktemp("attrs"))
    with quiet():
        return {"": torch.jit.script(mod.Kinds()), "Legacy.": torch.jit.script(mod.Legacy())}


def test_expected_kinds():
    kinds = {n: t.kind for n, t in PRED.items()}
    assert kinds["width"] == A.INT and kinds["ratio"] == A.FLOAT and kinds["count"] == A.INT
    assert kinds["flag"] == A.BOOL and kinds["name"] == A.STR and kinds["nothing"] == A.NONE
    assert kinds["empty"] == A.EMPTY_LIST and kinds["lookup"] == A.EMPTY_DICT
    assert kinds["ignored"] == A.EMPTY_LIST and PRED["ignored"].init_annotation == "List[int]"
    assert PRED["declared"].annotated and PRED["typed"].annotated
    assert PRED["Legacy.table"].annotated and PRED["Legacy.rows"].kind == A.EMPTY_LIST
    assert PRED["filled"].ts == "List[int]"  # filled by __init__
    assert kinds["mixed"] == A.UNKNOWN
    assert kinds["stages"] == A.PYOBJECT  # a plain list of modules
    for n in ("cfg", "ns", "act", "layers"):
        assert kinds[n] == A.PYOBJECT, n
    assert kinds["obj"] == A.UNKNOWN  # a plain class may compile as a TorchScript class
    assert kinds["blocks"] == A.MODULELIST and kinds["seq"] == A.SEQUENTIAL and kinds["heads"] == A.MODULEDICT
    assert kinds["buf"] == A.TENSOR and kinds["p"] == A.TENSOR and kinds["lin"] == A.MODULE
    assert PRED["export"].origin == "class" and PRED["limit"].constant
    assert PRED["sizes"].ts == "List[int]" and PRED["pairs"].ts == "Dict[str, float]"
    assert PRED["grid"].ts == "List[torch.Tensor]"
    # torch calls are typed by the knowledge tables: the return type of the overloads (those a
    # call of this arity binds to: `x.max()`), or torch's own word for an operator with no schema
    for n in ("weights", "gate", "legacy_ones", "peak"):
        assert kinds[n] == A.TENSOR, n


# attributes tsscan makes no prediction for (UNKNOWN): whether torch 2.13 keeps them
# a list of int and str; a plain class (a TorchScript class); None or a buffer, by the arguments
COMPILER_DECIDES = {"mixed": False, "obj": True, "mask": True}


def test_every_unknown_attribute_is_pinned():
    assert {n for n, t in PRED.items() if t.kind == A.UNKNOWN} == set(COMPILER_DECIDES)
    assert [n for n, t in PRED.items() if t.constant] == ["limit"]


@pytest.mark.parametrize("name", sorted(PRED))
def test_prediction_matches_the_compiler(name, scripted):
    t = PRED[name]
    prefix, _, attr = name.rpartition(".")
    module = scripted[prefix + "." if prefix else ""]
    has = module._c.hasattr(attr)
    if t.constant:  # a Final: kept, as a constant with its value
        assert has and getattr(module, attr) == 4, name
        return
    if t.kind == A.FUNCTION:  # compiled when called, never an attribute of the module
        assert not has, name
        return
    if t.kind in A.UNCONVERTIBLE or t.origin in ("class", "annotation"):
        assert not has, f"{name}: predicted {t.kind}/{t.origin} to be dropped, the compiler kept it"
        return
    if t.kind == A.UNKNOWN:  # no prediction; what the compiler does, pinned
        assert has == COMPILER_DECIDES[name], name
        return
    assert has, f"{name}: predicted {t.kind}, the compiler dropped it"
    if t.kind in _PYTYPES:
        assert isinstance(module._c.getattr(attr), _PYTYPES[t.kind]), name
