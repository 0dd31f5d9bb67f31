"""`tsscan --fix` on realistic modules (issue 12): only compiler-confirmed fixes are written, a
behaviour change is never written, classes whose constructor needs arguments are built.

The CLI runs as users run it (``sys.executable -m tsscan``), with the real torch in its worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tsscan.rules.TS430_autograd_function_apply import AutogradFunctionApply


def _src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def tsscan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tsscan", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


PARTIAL = _src("""
    import torch
    from torch import nn


    class Partial(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(4)])
            self.n_active = 2

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for i in range(self.n_active):
                x = self.blocks[i](x)
            return x
""")


def test_behaviour_changing_fix_is_reverted_under_unsafe_fixes(tmp_path):
    """`range(self.n_active)` over 2 of 4 blocks -> `enumerate(self.blocks)` scripts but runs
    all 4: the compiler's outputs differ from eager, so the file is left alone and the exit
    code says a problem remains."""
    path = tmp_path / "partial.py"
    path.write_text(PARTIAL, encoding="utf-8")
    r = tsscan("--fix", "--unsafe-fixes", "partial.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == PARTIAL, r.stdout
    assert r.returncode == 1, r.stdout + r.stderr
    assert "TS310 fix reverted: scripted Partial behaves differently from the original" in r.stdout
    assert "fixed, confirmed" not in r.stdout
    r = tsscan("--fix", "--unsafe-fixes", "--format", "json", "partial.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == PARTIAL
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    assert [(o["code"], o["status"], o["written"]) for o in outcomes] == [("TS310", "reverted", False)]
    assert "behaves differently" in outcomes[0]["reason"]


def _diagnostics(path: str, cwd: Path) -> list[dict]:
    r = tsscan("--format", "json", "--select", "TS", path, cwd=cwd)
    return json.loads(r.stdout)["diagnostics"]


def test_ts605_offers_no_optional_tensor_for_a_parameter_used_as_a_list(tmp_path):
    """`embed=None` used as `frozenset(embed)` / `max(embed)` / a slice bound / a `dim=` / the right of
    `in` is no Tensor:
    the finding stays, without a fix (the issue's wrongly kept `Optional[torch.Tensor]`)."""
    src = _src("""
        import torch


        @torch.jit.script
        def pick(x: torch.Tensor, embed=None, n=None, mask=None, dims=None, k=None, skip=None) -> torch.Tensor:
            if embed is not None:
                keep = frozenset(embed)
                x = x[: max(embed)]
            if n is not None:
                x = x[:n]
            if mask is not None:
                x = x * mask
            if dims is not None:
                x = torch.sum(x, dim=dims)  # int[]: smp's soft_tversky_score
            if k is not None:
                x = x.mean(dim=k)
            if skip is not None:
                x = x * len([c for c in range(4) if c not in skip])  # smp's ignore_channels
            return x
    """)
    (tmp_path / "pick.py").write_text(src, encoding="utf-8")
    found = {
        d["message"].split("`")[1]: (d["fix"] or {}).get("safety")
        for d in _diagnostics("pick.py", tmp_path)
        if d["code"] == "TS605"
    }
    assert found == {
        "embed=None": None,
        "n=None": None,
        "mask=None": "safe",
        "dims=None": None,
        "k=None": None,
        "skip=None": None,
    }, found


def test_ts605_annotates_a_list_of_ints_for_a_parameter_used_only_as_the_right_of_in(tmp_path):
    """`ignore=None` whose only non-Tensor use is `c not in ignore`, `c` an int where it lies:
    `Optional[List[int]]`, confirmed by the compiler at level 3 (smp's `ignore_channels` once its
    comprehension is a loop); with a comprehension variable on the left there is no type and no
    fix (the test above)."""
    src = _src("""
        import torch
        from torch import nn


        def take(x: torch.Tensor, ignore=None) -> torch.Tensor:
            if ignore is None:
                return x
            keep = []
            for c in range(x.shape[1]):
                if c not in ignore:
                    keep.append(c)
            return x[:, keep]


        class Pick(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return take(x, [1]).sum() + take(x).sum()
    """)
    path = tmp_path / "pick.py"
    path.write_text(src, encoding="utf-8")
    proc = tsscan("--fix", "--format", "json", "pick.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    new = path.read_text(encoding="utf-8")
    assert "def take(x: torch.Tensor, ignore: Optional[List[int]] = None) -> torch.Tensor:" in new
    assert "from typing import List, Optional" in new and "keep: List[int] = []" in new
    outcomes = {(f["code"], f["status"], f["level"]) for f in json.loads(proc.stdout)["fixes"]}
    assert outcomes == {("TS605", "confirmed", 3), ("TS225", "confirmed", 3)}, outcomes


def test_added_import_joins_an_existing_from_typing_line(tmp_path):
    src = _src("""
        from typing import List  # the comment stays

        import torch


        @torch.jit.script
        def masked(x: torch.Tensor, sizes: List[int], mask=None) -> torch.Tensor:
            if mask is not None:
                x = x * mask
            return x
    """)
    path = tmp_path / "m.py"
    path.write_text(src, encoding="utf-8")
    r = tsscan("--fix", "m.py", cwd=tmp_path)
    new = path.read_text(encoding="utf-8")
    assert "TS605 fixed, confirmed (level 2" in r.stdout, r.stdout
    assert new.splitlines()[0] == "from typing import List, Optional  # the comment stays"
    assert new.count("import Optional") == 0 and new.count("from typing") == 1


def test_ts303_class_attribute_move_is_an_unsafe_fix(tmp_path):
    """Moving `export = False` into `__init__` hides later class-level assignments (an export
    script's `Detect.export = True`) from instances: unsafe, so plain `--fix` leaves it."""
    src = _src("""
        import torch
        from torch import nn


        class Detect(nn.Module):
            export = False

            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                y = self.conv(x)
                if self.export:
                    return y
                return y.sigmoid()
    """)
    path = tmp_path / "detect.py"
    path.write_text(src, encoding="utf-8")
    assert [(d["code"], d["fix"]["safety"]) for d in _diagnostics("detect.py", tmp_path)] == [("TS303", "unsafe")]
    tsscan("--fix", "detect.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == src
    r = tsscan("--fix", "--unsafe-fixes", "detect.py", cwd=tmp_path)
    assert "self.export = False" in path.read_text(encoding="utf-8")
    assert "TS303 fixed, confirmed (level 3" in r.stdout, r.stdout


NET = _src("""
    import torch
    from torch import nn

    from .parts import Block


    class Net(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.block = Block(dim)

        def forward(self, x: torch.Tensor, *, scale: float = 2.0) -> torch.Tensor:
            return self.block(x) * scale
""")
PARTS = _src("""
    import torch
    from torch import nn


    class Block(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.fc = nn.Linear(dim, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.fc(x)
            return y * y.bool()
""")


def _package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "net.py").write_text(NET, encoding="utf-8")
    (pkg / "parts.py").write_text(PARTS, encoding="utf-8")
    return pkg


def test_fix_follows_the_compiler_into_another_file_of_the_named_paths(tmp_path):
    """Net (whose constructor needs `dim`) fails in Block's forward, in parts.py: with the
    package named, parts.py is fixed first, then Net's own fix is confirmed at level 3."""
    pkg = _package(tmp_path)
    r = tsscan("--fix", "pkg", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "y * y.to(torch.bool)" in (pkg / "parts.py").read_text(encoding="utf-8")
    assert "x: torch.Tensor, scale: float = 2.0)" in (pkg / "net.py").read_text(encoding="utf-8")
    assert "pkg/net.py, line 12 (Net.forward): TS202 fixed, confirmed (level 3" in r.stdout, r.stdout
    assert "Net built from derived set A: dim=32" in r.stdout
    assert "(2 fixed, 0 remaining)" in r.stdout


def test_a_file_outside_the_named_paths_is_listed_never_written(tmp_path):
    pkg = _package(tmp_path)
    r = tsscan("--fix", "pkg/net.py", cwd=tmp_path)
    assert (pkg / "parts.py").read_text(encoding="utf-8") == PARTS
    assert (pkg / "net.py").read_text(encoding="utf-8") == NET  # Net never compiled: level 1 only
    assert "pkg/net.py: the compiler stops in pkg/parts.py, outside the paths named: not fixed" in r.stdout, r.stdout
    assert "TS202 fix not applied (unverified" in r.stdout and r.returncode == 1


OPS = _src("""
    import torch


    def keep_positive(x: torch.Tensor) -> torch.Tensor:
        mask = (x > 0).bool()
        return x * mask
""")
HEAD = _src("""
    import torch
    from torch import nn

    from .ops import keep_positive


    class Head(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.proj = nn.Linear(dim, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return keep_positive(self.proj(x))
""")


def test_a_helper_compiled_only_from_another_file_is_fixed_and_confirmed(tmp_path):
    """ops.py compiles nothing by itself: keep_positive is compiled because head.py's forward
    calls it. `--fix` sees it as `check` does (the package index), and the verifier scripts the
    helper as the function it is, with inputs from its annotations (level 3)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "ops.py").write_text(OPS, encoding="utf-8")
    (pkg / "head.py").write_text(HEAD, encoding="utf-8")
    r = tsscan("--fix", "pkg", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "mask = (x > 0).to(torch.bool)" in (pkg / "ops.py").read_text(encoding="utf-8")
    assert "pkg/ops.py, line 5 (keep_positive): TS401 fixed, confirmed (level 3" in r.stdout, r.stdout
    assert "(1 fixed, 0 remaining)" in r.stdout


def test_a_signature_fix_of_such_a_helper_is_not_confirmed_by_compiling_it_alone(tmp_path):
    """Compiling the helper alone says nothing of the call in the other file, which its new
    signature must still accept (smp's label_smoothed_nll_loss got `ignore_index: Optional[Tensor]`
    while its caller passes an int): such a fix stays unverified and is not written."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    ops = OPS + "\n\ndef scaled(x: torch.Tensor, k=2) -> torch.Tensor:\n    return x * k\n"
    (pkg / "ops.py").write_text(ops, encoding="utf-8")
    head = HEAD.replace("keep_positive", "scaled").replace("scaled(self.proj(x))", "scaled(self.proj(x), 3)")
    (pkg / "head.py").write_text(head, encoding="utf-8")
    r = tsscan("--fix", "pkg", cwd=tmp_path)
    assert "def scaled(x: torch.Tensor, k=2)" in (pkg / "ops.py").read_text(encoding="utf-8"), r.stdout
    assert "TS210 fix not applied (unverified" in r.stdout, r.stdout
    assert "it changes the signature of scaled, which compiled code in another file calls" in r.stdout


# timm's activations_me pattern: the rule's own example of a custom autograd.Function
SWISH_FN = _src(AutogradFunctionApply.invalid[0].code).split("\n\n\nclass Swish(")[0]
ATTENTION = (
    "from typing import Optional\n\n"
    + SWISH_FN
    + "\n\n\n"
    + _src("""
    class Attention(nn.Module):
        def __init__(self, dim: int, use_table: bool = False) -> None:
            super().__init__()
            self.proj = nn.Linear(dim, dim)
            self.table = nn.Parameter(torch.zeros(dim)) if use_table else None

        def forward(self, x: torch.Tensor, shared: Optional[torch.Tensor] = None) -> torch.Tensor:
            attn_bias = None
            if self.table is None:
                if shared is not None:
                    attn_bias = shared
            else:
                attn_bias = self.table * 2
            x = self.proj(x)
            if attn_bias is not None:
                x = x + attn_bias
            return SwishFn.apply(x)
""")
)


def test_real_failures_none_local_and_autograd_apply_are_fixed_and_confirmed(tmp_path):
    """The beit/maxxvit pattern (`attn_bias = None`, then a Tensor in every arm of an `if` on
    an attribute that may be None) gets `Optional[torch.Tensor]` (SAFE); timm's `SwishFn.apply`
    (rejected from torch 2.14 on) gets the forward math under `torch.jit.is_scripting()`, only
    with --unsafe-fixes. Both are confirmed at level 3 on a class built from derived arguments."""
    path = tmp_path / "attn.py"
    path.write_text(ATTENTION, encoding="utf-8")
    r = tsscan("--fix", "--target-version", "2.14", "--format", "json", "attn.py", cwd=tmp_path)
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    assert [(o["code"], o["status"], o["level"], o["written"]) for o in outcomes] == [("TS223", "confirmed", 3, True)]
    assert "derived" in outcomes[0]["built_by"]
    text = path.read_text(encoding="utf-8")
    assert "        attn_bias: Optional[torch.Tensor] = None\n" in text and "return SwishFn.apply(x)" in text
    assert r.returncode == 1  # the unsafe TS430 finding remains
    r = tsscan("--fix", "--unsafe-fixes", "--target-version", "2.14", "--format", "json", "attn.py", cwd=tmp_path)
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    assert [(o["code"], o["status"], o["level"], o["written"]) for o in outcomes] == [("TS430", "confirmed", 3, True)]
    assert "return (swish_fwd(x) if torch.jit.is_scripting() else SwishFn.apply(x))" in path.read_text(encoding="utf-8")
    assert r.returncode == 0, r.stdout + r.stderr


# timm's SAM / gemma4 pattern (an attribute set only under a bool flag, read under `if
# self.flag:`) and beit/maxxvit's (a None local retyped under `if self.fused_attn:`, a Final
# bool the constructor computes, where type findings are hidden)
FLAGS = _src('''
    from typing import Final, Optional

    import torch
    from torch import nn


    def use_fused_attn() -> bool:
        return True


    class Clipped(nn.Module):
        """Clamps when built with use_clipped."""

        def __init__(self, dim: int, use_clipped: bool = False) -> None:
            super().__init__()
            self.use_clipped = use_clipped
            self.linear = nn.Linear(dim, dim)
            if use_clipped:
                self.register_buffer("lo", torch.full((), -1.0))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.use_clipped:
                x = torch.clamp(x, min=self.lo)
            return self.linear(x)


    class Attention(nn.Module):
        fused_attn: Final[bool]

        def __init__(self, dim: int, table: bool = False) -> None:
            super().__init__()
            self.fused_attn = use_fused_attn()
            self.proj = nn.Linear(dim, dim)
            self.table = nn.Parameter(torch.zeros(dim)) if table else None

        def forward(self, x: torch.Tensor, shared: Optional[torch.Tensor] = None) -> torch.Tensor:
            if self.fused_attn:
                bias = None
                if self.table is not None:
                    bias = self.table * 2
                elif shared is not None:
                    bias = shared
                if bias is not None:
                    x = x + bias
            return self.proj(x)
''')


def test_flag_arms_get_final_flag_and_optional_local_confirmed_at_level_3(tmp_path):
    """TS320's fix declares `use_clipped: Final[bool]` after the docstring; TS223 reports the
    retype hidden under `if self.fused_attn:` on that `if` and annotates the local. Both SAFE,
    both confirmed at level 3 on classes built from derived arguments."""
    path = tmp_path / "flags.py"
    path.write_text(FLAGS, encoding="utf-8")
    r = tsscan("--format", "json", "flags.py", cwd=tmp_path)
    found = {(d["code"], d["line"]) for d in json.loads(r.stdout)["diagnostics"]}
    assert found == {("TS320", 23), ("TS223", 37)}, r.stdout
    r = tsscan("--fix", "--format", "json", "flags.py", cwd=tmp_path)
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    assert sorted((o["code"], o["status"], o["level"], o["written"]) for o in outcomes) == [
        ("TS223", "confirmed", 3, True),
        ("TS320", "confirmed", 3, True),
    ], r.stdout
    assert all("derived" in o["built_by"] for o in outcomes)
    text = path.read_text(encoding="utf-8")
    assert '    """Clamps when built with use_clipped."""\n    use_clipped: Final[bool]\n' in text
    assert "            bias: Optional[torch.Tensor] = None\n" in text
    assert r.returncode == 0, r.stdout + r.stderr


# smp's DPT FusionBlock (`scale_factor=2`), timm's SequentialList (`-> List[torch.Tensor]`
# with `x` unannotated) and SelectSeq (`torch.cat(x, dim=1)`, `x` unannotated)
LISTS = _src("""
    from typing import List

    import torch
    from torch import nn


    class Up(nn.Module):
        def __init__(self, feature_dim: int) -> None:
            super().__init__()
            self.project = nn.Conv2d(feature_dim, feature_dim, kernel_size=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = nn.functional.interpolate(x, scale_factor=2, align_corners=True, mode="bilinear")
            return self.project(x)


    class SequentialList(nn.Sequential):
        def forward(self, x) -> List[torch.Tensor]:
            for module in self:
                x = module(x)
            return x


    class Concat(nn.Module):
        def forward(self, x) -> torch.Tensor:
            return torch.cat(x, dim=1) * 2
""")


def test_float_literal_and_list_annotations_confirmed_at_level_3_with_list_inputs(tmp_path):
    """TS410 writes `scale_factor=2.0`; TS221 annotates the returned parameter like the return
    (`x: List[torch.Tensor]`), TS409 the one `torch.cat` takes. The verifier derives the inputs
    from the fixed `forward` (two Tensors for a `List[Tensor]`), so all three reach level 3."""
    path = tmp_path / "lists.py"
    path.write_text(LISTS, encoding="utf-8")
    r = tsscan("--fix", "--format", "json", "lists.py", cwd=tmp_path)
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    assert sorted((o["code"], o["status"], o["level"], o["written"]) for o in outcomes) == [
        ("TS221", "confirmed", 3, True),
        ("TS409", "confirmed", 3, True),
        ("TS410", "confirmed", 3, True),
    ], r.stdout
    assert sum("each List[Tensor] argument: 2 of them" in o["inputs"] for o in outcomes) == 2, outcomes
    text = path.read_text(encoding="utf-8")
    assert "scale_factor=2.0, align_corners=True" in text
    assert "def forward(self, x: List[torch.Tensor]) -> List[torch.Tensor]:" in text
    assert "def forward(self, x: List[torch.Tensor]) -> torch.Tensor:" in text
    assert r.returncode == 0, r.stdout + r.stderr


SIZES = _src("""
    from typing import Tuple, Union

    import torch
    import torch.nn.functional as F
    from torch import nn

    size_2_t = Union[int, Tuple[int, int]]


    def avg_max(x, output_size: size_2_t = 1):
        return F.adaptive_avg_pool2d(x, output_size) + F.adaptive_max_pool2d(x, output_size)


    class Pool(nn.Module):
        def __init__(self, output_size: size_2_t = 2):
            super().__init__()
            self.output_size = output_size

        def forward(self, x):
            return avg_max(x, self.output_size)


    class Flat(nn.Module):
        def forward(self, x):
            feat = x.shape[2:]
            return x.reshape(x.shape[0], x.shape[1], feat.numel())


    class DepthToSpace(nn.Module):
        def __init__(self, block_size):
            super().__init__()
            self.bs = block_size

        def forward(self, x):
            n, c, h, w = x.size()
            x = x.view(n, self.bs, self.bs, c // (self.bs ** 2), h, w)
            return x.permute(0, 3, 4, 1, 5, 2).reshape(n, c // (self.bs ** 2), h * self.bs, w * self.bs)
""")


def test_union_size_list_numel_and_unknown_square_are_fixed_and_confirmed(tmp_path):
    """timm's failures: a `Union[int, Tuple[int, int]]` passed to `F.adaptive_avg_pool2d`
    (TS410: `isinstance` arms), `x.shape[2:].numel()` (TS261: the product as an int64
    tensor), `self.bs ** 2` with `bs` a required argument (TS422: `self.bs * self.bs`). Each
    fix is confirmed by the compiler; `Pool` and `Flat` (built from defaults) at level 3 with
    outputs compared, `DepthToSpace` built from derived arguments."""
    path = tmp_path / "sizes.py"
    path.write_text(SIZES, encoding="utf-8")
    r = tsscan("--fix", "--format", "json", "sizes.py", cwd=tmp_path)
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    lines = SIZES.splitlines()

    def line(text: str) -> int:
        return next(i + 1 for i, t in enumerate(lines) if text in t)

    pool, numel, view, reshape = line("F.adaptive_avg_pool2d"), line(".numel()"), line("x.view("), line(".reshape(n")
    got = sorted((o["code"], o["line"], o["status"], o["written"]) for o in outcomes)
    assert got == [
        ("TS261", numel, "confirmed", True),
        ("TS410", pool, "confirmed", True),
        ("TS410", pool, "confirmed", True),
        ("TS422", view, "confirmed", True),
        ("TS422", reshape, "confirmed", True),
    ], r.stdout
    level = {(o["code"], o["line"]): o["level"] for o in outcomes}
    assert level[("TS410", pool)] == 3 and level[("TS261", numel)] == 3, outcomes
    assert level[("TS422", view)] >= 2 and "derived" in next(o["built_by"] for o in outcomes if o["code"] == "TS422")
    text = path.read_text(encoding="utf-8")
    assert (
        "F.adaptive_avg_pool2d(x, (output_size, output_size) if isinstance(output_size, int) else output_size)" in text
    )
    assert "feat.numel()" not in text and "int(torch.tensor(feat, dtype=torch.int64).prod())" in text
    assert "c // (self.bs * self.bs)" in text and "**" not in text
    assert r.returncode == 0, r.stdout + r.stderr


EMBED = _src("""
    from typing import Dict, Optional, Union

    import torch
    from torch import nn


    class PatchEmbed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(4, 4)

        def forward(
            self, x: Union[torch.Tensor, Dict[str, torch.Tensor]], coord: Optional[torch.Tensor] = None
        ) -> torch.Tensor:
            if isinstance(x, dict):
                coord = x.get("coord", coord)
                x = x["patches"]
            x = self.proj(x)
            if coord is not None:
                x = x + coord
            return x
""")


def test_isinstance_dict_then_get_with_an_optional_default(tmp_path):
    """timm's gemma4 patch embedding: TS512's `torch.jit.isinstance` (UNSAFE: eager code now
    checks the dict's values) makes the arm compile, refined, so TS263 sees the `get` whose
    default is an Optional and rewrites it (SAFE). Plain `--fix` writes nothing; with
    `--unsafe-fixes` both are confirmed at level 3, the Union argument given as a Tensor."""
    path = tmp_path / "embed.py"
    path.write_text(EMBED, encoding="utf-8")
    r = tsscan("--fix", "embed.py", cwd=tmp_path)
    assert path.read_text(encoding="utf-8") == EMBED
    assert "TS512" in r.stdout and "TS263" not in r.stdout, r.stdout
    r = tsscan("--fix", "--unsafe-fixes", "embed.py", cwd=tmp_path)
    new = path.read_text(encoding="utf-8")
    assert "TS512 fixed, confirmed (level 3" in r.stdout, r.stdout
    assert "TS263 fixed, confirmed (level 3" in r.stdout, r.stdout
    assert "if torch.jit.isinstance(x, Dict[str, torch.Tensor]):" in new
    assert '            if "coord" in x:\n                coord = x["coord"]\n' in new
    assert tsscan("embed.py", cwd=tmp_path).returncode == 0


TWO = _src("""
    import torch
    from torch import nn


    class Inner(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.helper(x)

        def helper(self, x: torch.Tensor) -> torch.Tensor:
            try:
                return x * 2
            except RuntimeError:
                return x


    class Outer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = Inner()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x).bool()
""")


def test_a_class_after_a_failed_one_is_judged_on_its_own_code(tmp_path):
    """Scripting `Inner` fails (the `try`, no fix) and leaves it half-defined in torch's
    compilation unit; `Outer`, which holds one, then failed with "Can't redefine method" and
    TS401's fix was reported reverted, as if the fix broke it. The worker scripts such a class
    again from a fresh load: the fix is unverified, stopped by the `try` (gemma4's classifier)."""
    path = tmp_path / "two.py"
    path.write_text(TWO, encoding="utf-8")
    r = tsscan("--fix", "--format", "json", "two.py", cwd=tmp_path)
    outcomes = json.loads(r.stdout)["fix_outcomes"]
    assert [(o["code"], o["status"]) for o in outcomes] == [("TS401", "unverified")], outcomes
    assert "TS101" in outcomes[0]["reason"] and "redefine" not in outcomes[0]["reason"]
    assert path.read_text(encoding="utf-8") == TWO


TAKE = _src("""
    import torch
    from torch import nn


    def take(*xs, ignore=None):
        if ignore is None:
            return xs
        keep = [c for c in range(xs[0].shape[1]) if c not in ignore]
        return [x[:, keep] for x in xs]


    class Pick(nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            a, b = take(a, b, ignore=[1])
            return a + b
""")


def test_a_fix_that_edits_the_line_of_a_finding_it_did_not_make_is_not_blamed_for_it(tmp_path):
    """TS103 turns the comprehension into a loop; then `c` is an int and TS605 annotates
    `ignore: Optional[List[int]]` on the `def take(*xs, ...)` line, where the compiler still
    stops at `*xs` (TS201, no fix). That finding was there before the fixes: the edited line
    must not make it the fixes' doing (smp's `_take_channels`, where TS103 was reported
    reverted). Both fixes are unverified (the class stops at TS201) and nothing is written."""
    path = tmp_path / "take.py"
    path.write_text(TAKE, encoding="utf-8")
    r = tsscan("--fix", "--format", "json", "take.py", cwd=tmp_path)
    outcomes = {(o["code"], o["status"]) for o in json.loads(r.stdout)["fix_outcomes"]}
    assert ("TS103", "unverified") in outcomes and not any(s == "reverted" for _, s in outcomes), outcomes
    assert path.read_text(encoding="utf-8") == TAKE


SCALED = _src("""
    import torch
    from torch import nn


    def exists(val):
        return val is not None


    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inv_freq = torch.arange(4).float() / 4

        def forward(self, x, pos=None, seq_start_pos=None, offset=0):
            if not exists(pos):
                pos = torch.arange(x.shape[1]) + offset
            if exists(seq_start_pos):
                pos = pos - seq_start_pos[..., None]
            return torch.einsum("i, j -> i j", pos, self.inv_freq)
""")


def test_two_fixes_that_each_break_the_class_are_found_beside_an_innocent_one(tmp_path):
    """x-transformers' `ScaledSinusoidalEmbedding` with `--unsafe-fixes`: both TS605 annotations
    (`Optional[Tensor]`) break the calls of the untyped `exists`, and TS210's `offset: int` is
    needed. Left out one at a time, the error stays (the other TS605 breaks it too); kept one at a
    time, TS210 alone compiles: the two TS605 fixes are reverted and TS210 is confirmed, where
    before all three were left unverified. With the TS605 fixes in, `exists(pos)` passes an
    Optional to `exists(val)`, and TS410 offers `val: Optional[torch.Tensor]`: it only serves the
    reverted annotations and goes with them."""
    path = tmp_path / "scaled.py"
    path.write_text(SCALED, encoding="utf-8")
    r = tsscan("--fix", "--unsafe-fixes", "--format", "json", "scaled.py", cwd=tmp_path)
    outcomes = sorted((o["code"], o["line"], o["status"]) for o in json.loads(r.stdout)["fix_outcomes"])
    assert outcomes == [
        ("TS210", 14, "confirmed"),
        ("TS410", 16, "reverted"),
        ("TS605", 14, "reverted"),
        ("TS605", 14, "reverted"),
    ], outcomes
    assert "offset: int = 0" in path.read_text(encoding="utf-8")


SHARED_CALLEE = _src("""
    import torch
    from torch import nn


    def shift(x, n):
        return x + n


    class Ints(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return shift(x, 2)


    class Tensors(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return shift(x, x.sum())
""")


def test_a_callee_annotation_that_breaks_another_class_calling_it_is_reverted(tmp_path):
    """TS410 annotates `n: int` in `shift` for `Ints`' call; `Tensors`, which compiled before,
    passes a Tensor to the same parameter. The fix edits `shift`, not the function it is reported
    in, so every class that compiles `shift` judges it: it is reverted and the file left as it was."""
    path = tmp_path / "shared.py"
    path.write_text(SHARED_CALLEE, encoding="utf-8")
    r = tsscan("--fix", "--format", "json", "shared.py", cwd=tmp_path)
    outcomes = [(o["code"], o["status"]) for o in json.loads(r.stdout)["fix_outcomes"]]
    assert outcomes == [("TS410", "reverted")], outcomes
    assert path.read_text(encoding="utf-8") == SHARED_CALLEE


def test_a_callee_annotation_that_every_caller_agrees_with_is_confirmed(tmp_path):
    path = tmp_path / "shared.py"
    path.write_text(SHARED_CALLEE.replace("x.sum()", "3"), encoding="utf-8")
    r = tsscan("--fix", "--format", "json", "shared.py", cwd=tmp_path)
    outcomes = [(o["code"], o["status"], o["level"]) for o in json.loads(r.stdout)["fix_outcomes"]]
    assert outcomes == [("TS410", "confirmed", 3)], outcomes
    assert "def shift(x, n: int):" in path.read_text(encoding="utf-8")
