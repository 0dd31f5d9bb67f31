"""TS310's enumerate fix: safe only when __init__ shows the loop bound equals the containers'
lengths; otherwise offered as unsafe. Both rewrites are compiled and compared with eager."""

import textwrap

import torch
from harness import agree, eager_all, outcome, script_all

from tsscan.engine import Engine
from tsscan.fix.edits import fix_text
from tsscan.registry import load_rules
from tsscan.rule import SAFE, UNSAFE

TS310 = [r for r in load_rules() if r.code == "TS310"]

HEAD = textwrap.dedent(
    """
    import torch
    from torch import nn
    from typing import List


    class Detect(nn.Module):
        def __init__(self, anchors=((1, 2), (3, 4)), ch=(3, 5)):
            super().__init__()
            self.nl = len(anchors)
            self.m = nn.ModuleList(nn.Conv2d(c, 4, 1) for c in ch)
            self.ia = nn.ModuleList(nn.Identity() for c in ch)

        def forward(self, x: List[torch.Tensor]) -> List[torch.Tensor]:
            out: List[torch.Tensor] = []
            for i in range(self.nl):
                out.append(self.m[i](self.ia[i](x[i])).sigmoid() * (i + 1))
            return out
    """
).lstrip("\n")

INPUTS = [
    ([torch.randn(1, 3, 4, 4), torch.randn(2, 5, 2, 2)],),
    ([torch.zeros(1, 3, 1, 1), torch.full((1, 5, 1, 1), float("nan"))],),
]


def _fixes(src):
    result = Engine(TS310, "2.13.0").check("detect.py", src)
    return [(d.line, d.fix) for d in result.diagnostics]


def test_a_bound_init_does_not_tie_to_the_lengths_is_unsafe():
    assert _fixes(HEAD) == [(16, UNSAFE), (16, None)]
    engine = Engine(TS310, "2.13.0")
    unchanged, applied, _ = fix_text(engine, "detect.py", HEAD, (SAFE,))
    assert unchanged == HEAD and not applied


def test_the_unsafe_rewrite_scripts_and_matches_eager_when_lengths_agree(tmp_path):
    engine = Engine(TS310, "2.13.0")
    new, applied, rest = fix_text(engine, "detect.py", HEAD, (SAFE, UNSAFE))
    assert "for i, (m, ia) in enumerate(zip(self.m, self.ia)):" in new
    assert "out.append(m(ia(x[i])).sigmoid() * (i + 1))" in new
    assert rest.diagnostics == []
    scripted = dict(script_all(new, tmp_path))["Detect"]
    eager = dict(eager_all(HEAD, tmp_path))["Detect"]
    for args in INPUTS:
        e, s = outcome(eager, args), outcome(scripted, args)
        assert e.kind == s.kind == "ok" and agree(e, s)


def test_a_bound_init_ties_to_the_lengths_is_safe():
    src = HEAD.replace("self.nl = len(anchors)", "self.nl = len(ch)")
    assert _fixes(src) == [(16, SAFE), (16, None)]
    src = HEAD.replace("for i in range(self.nl):", "for i in range(len(self.m)):")
    # two containers: the second one's length must be shown equal too (both `len(ch)`)
    assert _fixes(src) == [(16, SAFE), (16, None)]


def test_reassigned_bound_or_jumps_get_no_safe_fix():
    safe = HEAD.replace("self.nl = len(anchors)", "self.nl = len(ch)")
    src = safe.replace("        return out\n", "        return out\n\n    def grow(self):\n        self.nl = 5\n")
    assert src != safe and _fixes(src) == [(16, UNSAFE), (16, None)]
    src = safe.replace(
        "            out.append(self.m[i](self.ia[i](x[i])).sigmoid() * (i + 1))\n",
        "            if i > 5:\n                break\n            out.append(self.m[i](self.ia[i](x[i])))\n",
    )
    assert src != safe and [f for _, f in _fixes(src)] == [None, None]
