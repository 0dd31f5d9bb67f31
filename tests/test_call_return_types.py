"""What calls of a file's own code return (``tsscan/semantic/submodules.py``), against the
compiler: a ``torch.nn`` submodule's ``forward`` (the generated table), a submodule whose class
the file defines, a method and a module function with a return annotation.

Each case is a module whose classes script with no arguments, and the codes of the type-model
rules that must report on it. A case with codes must fail to script at a line a finding covers;
a case without must script (the model may stay silent, never invent a failure).
"""

import textwrap

import pytest
from harness import assert_fails_where_flagged, compiler_error, script_all

from tsscan.engine import Engine
from tsscan.registry import load_rules

HEAD = "from typing import List, Tuple\n\nimport torch\nfrom torch import nn\n\n\n"

CASES = {
    # a torch.nn submodule gives its forward's annotated return: a Tensor, not a list
    "nn-submodule-return": (
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(4, 4)

            def forward(self, x: torch.Tensor) -> List[int]:
                return self.proj(x)
        """,
        ("TS221",),
    ),
    "nn-submodule-retyped-local": (
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.LayerNorm(4)

            def forward(self, x: torch.Tensor, c: bool) -> torch.Tensor:
                y = "none"
                if c:
                    y = self.norm(x)
                print(y)
                return x
        """,
        ("TS223",),
    ),
    # a submodule of a class defined in the file: that class's forward annotation
    "own-class-submodule": (
        """
        class Pair(nn.Module):
            def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
                return x, x

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.pair = Pair()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.pair(x)
        """,
        ("TS221",),
    ),
    # a method and a module-level function with a return annotation
    "method-return": (
        """
        class M(nn.Module):
            def parts(self, x: torch.Tensor) -> List[torch.Tensor]:
                return [x, x]

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.parts(x)
        """,
        ("TS221",),
    ),
    "function-return": (
        """
        def count(x: torch.Tensor) -> int:
            return x.dim()

        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return count(x)
        """,
        ("TS221",),
    ),
    # the same calls used as what they give: no finding, and it scripts
    "returns-used-rightly": (
        """
        def count(x: torch.Tensor) -> int:
            return x.dim()

        class Pair(nn.Module):
            def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
                return x, x

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(4, 4)
                self.pair = Pair()

            def parts(self, x: torch.Tensor) -> List[torch.Tensor]:
                return [x, x]

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                a, b = self.pair(self.proj(x))
                n = count(x)
                return torch.cat(self.parts(a) + [b], n - 1)
        """,
        (),
    ),
    # no return annotation: the compiler infers it from the body; the model does not guess
    "unannotated-callee-is-unknown": (
        """
        class Half(nn.Module):
            def forward(self, x: torch.Tensor):
                return x.size(0) // 2

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.halver = Half()

            def forward(self, x: torch.Tensor) -> int:
                return self.halver(x)
        """,
        (),
    ),
    # a submodule __init__ may replace: which forward runs depends on the arguments (here the
    # first assignment's Pair would give a tuple; at the defaults it is an Identity)
    "reassigned-submodule-is-unknown": (
        """
        class Pair(nn.Module):
            def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
                return x, x

        class M(nn.Module):
            def __init__(self, paired: bool = False):
                super().__init__()
                self.act = Pair()
                if not paired:
                    self.act = nn.Identity()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.act(x)
        """,
        (),
    ),
}

MODEL_CODES = ("TS221", "TS223", "TS224", "TS226")


@pytest.fixture(scope="module")
def engine():
    return Engine(load_rules(), "2.13.0", select=list(MODEL_CODES))


@pytest.mark.parametrize("name", list(CASES))
def test_call_returns_match_the_compiler(name, engine, tmp_path):
    body, codes = CASES[name]
    src = HEAD + textwrap.dedent(body).lstrip("\n")
    found = engine.check("case.py", src).diagnostics
    assert sorted(d.code for d in found) == sorted(codes), [(d.line, d.code, d.message) for d in found]
    if codes:
        assert_fails_where_flagged(compiler_error(src, tmp_path), found)
    else:
        assert script_all(src, tmp_path)


def test_comprehension_over_a_submodules_output_gets_a_typed_fix():
    """TS103's fix needs the element type: ``self.norm(x).chunk(...)`` gives tensors."""
    src = HEAD + textwrap.dedent(
        """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.LayerNorm(4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                y = self.norm(x)
                parts = [p for p in y.chunk(2, -1) if p.numel() > 0]
                return torch.cat(parts, -1)
        """
    )
    found = Engine(load_rules(), "2.13.0", select=["TS103"]).check("case.py", src).diagnostics
    assert [(d.code, d.fix) for d in found] == [("TS103", "safe")]
