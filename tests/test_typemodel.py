"""The type model against the compiler: small functions whose fate torch 2.13 decides.

Each case is the body of a scripted function ``f(x: Tensor, k: int, c: bool, s: float)`` and
the codes of the type-model rules (TS220-TS227) that must report on it; ``()`` means none.
A case with codes must fail to script, a case without must script: the model may miss a
failure (stay silent) but must never invent one.
"""

import textwrap

import pytest
from harness import assert_fails_where_flagged, compiler_error, script_all

from tsscan.engine import Engine
from tsscan.registry import load_rules

MODEL_CODES = ("TS220", "TS221", "TS222", "TS223", "TS224", "TS225", "TS226", "TS227", "TS229", "TS233", "TS234")

CASES = {
    # ---- variables at merges
    "retype-in-branch": ("v = k\nif c:\n    v = 'big'\nreturn x", ("TS223",)),
    "retype-in-loop": ("n = 0\nfor i in range(k):\n    n += 0.5\nreturn x", ("TS223",)),
    "list-retype": ("v = []\nif c:\n    v = [1]\nreturn x", ("TS223",)),
    "param-retype": ("if c:\n    k = 2.0\nreturn x", ("TS223",)),
    "none-then-tensor": ("y = None\nif c:\n    y = x\nreturn x", ("TS223",)),
    "straight-rebind": ("v = k\nv = str(v)\nreturn x", ()),
    "arms-differ-unused": ("if c:\n    y = 1\nelse:\n    y = 2.0\nreturn x", ()),
    "arms-differ-used": ("if c:\n    y = 1\nelse:\n    y = 2.0\nreturn x * y", ("TS223",)),
    "tuple-arms-merge": ("if c:\n    y = (x, None)\nelse:\n    y = (x, x)\nreturn y[0]", ()),
    "none-or-tensor-arms": ("if c:\n    y = None\nelse:\n    y = x\nif y is None:\n    return x\nreturn y", ()),
    "tuple-grow": ("t = ()\nfor i in range(k):\n    t = t + (i,)\nreturn x", ("TS223",)),
    # a Tensor stored into an int/float variable converts (aten::IntImplicit) and compiles
    "int-takes-tensor-in-branch": ("n = 0\nif c:\n    n = x\nreturn x", ()),
    "float-takes-tensor-in-loop": ("m = 0.0\nfor i in range(k):\n    m = x.sum()\nreturn x", ()),
    "tensor-takes-int-in-branch": ("y = x\nif c:\n    y = k\nreturn x", ("TS223",)),
    # an annotated variable rebound on a straight line takes the new type
    "annotated-rebound": ("v: List[int] = [k]\nw = torch.tensor(v)\nv = w\nreturn v", ()),
    "annotated-rebound-then-branch": (
        "v: List[int] = [k]\nv = torch.tensor(v)\nif c:\n    v = [k]\nreturn x",
        ("TS223",),
    ),
    # ---- defined on some paths only
    "one-arm": ("if c:\n    y = x * 2\nreturn y", ("TS224",)),
    "one-arm-unused": ("if c:\n    y = x * 2\nreturn x", ()),
    "other-arm-returns": ("if c:\n    y = x * 2\nelse:\n    return x\nreturn y", ()),
    "other-arm-raises": ("if c:\n    y = x * 2\nelse:\n    raise ValueError('no')\nreturn y", ()),
    "continue-arm": (
        "for i in range(3):\n    if i == 1:\n        continue\n    else:\n        y = x * i\n    x = y\nreturn x",
        ("TS224",),
    ),
    "loop-local-after": ("for i in range(3):\n    y = x * i\nreturn y", ("TS224",)),
    "loop-target-after": ("for i in range(3):\n    x = x + 1\nreturn x * i", ("TS224",)),
    "comprehension-own-variable": (
        "for i in range(3):\n    x = x + 1\nys = [x * i for i in range(2)]\nreturn ys[0]",
        (),
    ),
    "elif-all-define": ("if k == 0:\n    y = x\nelif k == 1:\n    y = x * 2\nelse:\n    y = x * 3\nreturn y", ()),
    "with-defines": ("with torch.no_grad():\n    y = x * 2\nreturn y", ()),
    "none-test-folds": ("y = None\nif y is not None:\n    y = x\nreturn x", ()),
    "unknown-none-test": (
        "h = torch.jit.annotate(Optional[torch.Tensor], None)\ny = h\nif y is None:\n    z = 1\nelse:\n    z = 'a'\nreturn x",
        (),
    ),
    "isinstance-folds": ("if isinstance(x, int):\n    y = 'a'\nelse:\n    y = x\nreturn y", ()),
    "and-not-scripting": ("if c and not torch.jit.is_scripting():\n    return x, x\nreturn x", ()),
    "scripting-raise-in-arm": (
        "if c:\n    if torch.jit.is_scripting():\n        raise ValueError('no')\n    y = 'eager'\nelse:\n    y = x\nreturn y",
        (),
    ),
    "scripting-return-first": ("if torch.jit.is_scripting():\n    return x\nreturn x, x", ()),
    "refined-optional-assigned": (
        "o: Optional[int] = None\nif c:\n    o = k\nv = 0\nif o is not None:\n    v = o\nreturn x",
        (),
    ),
    "refined-optional-else-arm": (
        "o: Optional[int] = None\nif c:\n    o = k\nv = 0\nif o is None:\n    v = 1\nelse:\n    v = o\nreturn x",
        (),
    ),
    "unrefined-optional-assigned": (
        "o: Optional[int] = None\nif c:\n    o = k\nv = 0\nif c:\n    v = o\nreturn x",
        ("TS223",),
    ),
    "scripting-guard": ("if torch.jit.is_scripting():\n    y = x\nelse:\n    y = 'eager'\nreturn y", ()),
    # ---- returns and if-expressions
    "arity": ("if c:\n    return x\nreturn x, x", ("TS220",)),
    "int-float": ("if c:\n    return 1\nreturn 0.5", ("TS221",)),
    "tuple-elements": ("if c:\n    return x, 1\nreturn x, 1.5", ("TS221",)),
    "tuple-none-element": ("if c:\n    return x, None\nreturn x, x", ()),
    "int-bool": ("if c:\n    return 1\nreturn False", ("TS221",)),
    "list-int-tensor": ("if c:\n    return [k]\nreturn [x]", ("TS221",)),
    "none-typed-accumulator": (
        "h = None\nfor i in range(k):\n    if h is None:\n        h = x\n    else:\n        h = h + x\nreturn x",
        ("TS223",),
    ),
    "none-or-tensor": ("if c:\n    return None\nreturn x", ()),
    "ifexp-tensor-int": ("return x if c else 0", ("TS222",)),
    "ifexp-tuple-none": ("y = (x, None) if c else (x, x)\nreturn x", ()),
    "ifexp-none": ("return None if c else x", ()),
    "ifexp-same": ("return x * 2 if c else x.sum()", ()),
    # ---- lists, tuples, comparisons
    "append-int": ("out = []\nout.append(k)\nreturn x", ("TS225",)),
    "append-tensor": ("out = []\nout.append(x)\nreturn torch.stack(out)", ()),
    "tuple-of-genexp": ("return torch.cat(tuple(t for t in [x, x]))", ("TS226",)),
    "cat-of-genexp": ("return torch.cat([t for t in [x, x]])", ()),
    "chained-in-if": ("if 0 < x < 1:\n    return x\nreturn x * 2", ()),
    # ---- truth values: `or` is a bool, an Optional has none unless its arm refined it
    "or-is-bool": ("n = k or 3\nfor i in range(n):\n    x = x + i\nreturn x", ("TS234",)),
    "or-converted": ("n = k or 3\nfor i in range(int(n)):\n    x = x + i\nreturn x", ()),
    "optional-truth": ("o: Optional[int] = None\nif c:\n    o = k\nif o:\n    return x\nreturn x", ("TS233",)),
    "optional-refined-arm": (
        "o: Optional[int] = None\nif c:\n    o = k\nif o is not None:\n    if o:\n        return x\nreturn x",
        (),
    ),
    "optional-refined-early": (
        "o: Optional[int] = None\nif c:\n    o = k\nif o is None:\n    return x\nreturn x * 2 if o else x",
        (),
    ),
    "optional-or-default": ("o: Optional[int] = None\nif c:\n    o = k\nreturn x + (o or 0)", ("TS233",)),
    # a refinement an inner `if` keeps (its other arm leaves) stays in the outer arm it is in
    "nested-refinement-stays-in-arm": (
        "o: Optional[int] = None\nif c:\n    o = k\nif k > 5:\n    raise ValueError('no')\nelif c:\n    n = 1\n"
        "elif o is not None:\n    m = o\nelse:\n    raise ValueError('no')\nif o is None:\n    return x * n\nreturn x",
        ("TS224",),
    ),
    # ---- unpacking
    "tensor-unpacked": ("a, b = x\nreturn a", ("TS229",)),
    "tuple-unpacked": ("a, b = x, x * 2\nreturn a", ()),
    "list-unpacked": ("a, b = [x, x]\nreturn a", ()),
    "rebound-unpacked": ("y = x.shape\na, b = y[0], y[1]\nreturn x", ()),
    # ---- one arm: the finding is on the innermost `if` that leaves it undefined
    "one-arm-nested": (
        "if c:\n    if k > 1:\n        y = x\n    elif k > 0:\n        y = x * 2\n    x = y\nreturn x",
        ("TS224",),
    ),
}

ANNOTATED = {  # (return annotation, body, codes)
    "ret-float-int": ("float", "return 1", ("TS221",)),
    "ret-float-tensor": ("float", "return x.mean()", ()),
    "ret-int-bool": ("int", "return k > 0", ()),
    "ret-bool-tensor": ("bool", "return (x > 0).all()", ("TS221",)),
    "ret-tensor-int": ("torch.Tensor", "return k", ("TS221",)),
    "ret-tensor-chain": ("torch.Tensor", "return 0 < x < 1", ("TS227",)),
    "ret-list-empty": ("List[int]", "return []", ()),
    # aten::pow.int(int a, int b) -> float: Python's int ** int is an int, TorchScript's a float
    "ret-int-power": ("int", "return k ** 2", ("TS221",)),
    "ret-float-power": ("float", "return k ** 2 + s ** 2", ()),
    "ret-tensor-power": ("torch.Tensor", "return x ** k", ()),
    # an isinstance test on a Union selects its member in one arm and the others in the other
    "ret-union-isinstance-merged": (
        "torch.Tensor",
        "u: Union[torch.Tensor, Dict[str, torch.Tensor]] = {'a': x}\nif c:\n    u = x\n"
        "if torch.jit.isinstance(u, Dict[str, torch.Tensor]):\n    u = u['a']\nreturn u",
        (),
    ),
    "ret-union-not-isinstance": (
        "torch.Tensor",
        "u: Union[torch.Tensor, Dict[str, torch.Tensor]] = {'a': x}\nif c:\n    u = x\n"
        "if not isinstance(u, torch.Tensor):\n    u = u['a']\nreturn u",
        (),
    ),
    "ret-union-isinstance-one-arm": (
        "torch.Tensor",
        "u: Union[torch.Tensor, Dict[str, torch.Tensor]] = {'a': x}\nif c:\n    u = x\n"
        "if isinstance(u, torch.Tensor):\n    u = u * 2\nreturn u",
        ("TS221",),
    ),
}


def _source(body, ret=None):
    head = "def f(x: torch.Tensor, k: int, c: bool, s: float)" + (f" -> {ret}" if ret else "") + ":\n"
    return (
        "import torch\nfrom typing import Dict, List, Optional, Tuple, Union\n\n\n@torch.jit.script\n"
        + head
        + textwrap.indent(body, "    ")
        + "\n"
    )


ALL = [(n, _source(b), codes) for n, (b, codes) in CASES.items()] + [
    (n, _source(b, r), codes) for n, (r, b, codes) in ANNOTATED.items()
]


@pytest.fixture(scope="module")
def model_engine():
    return Engine(load_rules(), "2.13.0", select=list(MODEL_CODES))


@pytest.mark.parametrize("name,src,codes", ALL, ids=[a[0] for a in ALL])
def test_model_matches_compiler(name, src, codes, model_engine, tmp_path):
    found = model_engine.check("case.py", src).diagnostics
    assert {d.code for d in found} == set(codes), src
    if codes:
        assert_fails_where_flagged(compiler_error(src, tmp_path), found)
    else:
        assert script_all(src, tmp_path)
