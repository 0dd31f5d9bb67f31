"""The package index: functions compiled because another file's compiled code calls them are
checked where they are defined (issue 11: package-wide reachability)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tsscan.semantic.index import package_roots
from tsscan.semantic.summaries import module_name

FILES = {
    "pkg/__init__.py": "from .helpers import pad_to\n",
    "pkg/helpers.py": (
        "import torch\n"
        "\n"
        "def pad_to(x: torch.Tensor, n: int, *args) -> torch.Tensor:\n"
        "    return inner(x) + n\n"
        "\n"
        "def inner(x):\n"
        "    try:\n"
        "        return x\n"
        "    except Exception:\n"
        "        return x\n"
        "\n"
        "def unused_helper(x, **kw):\n"
        "    try:\n"
        "        return x\n"
        "    finally:\n"
        "        pass\n"
        "\n"
        "def third(x):\n"
        "    return x\n"
    ),
    "pkg/sub/__init__.py": "",
    "pkg/sub/model.py": (
        "import torch\n"
        "from torch import nn\n"
        "from .. import pad_to\n"
        "from ..helpers import inner as other\n"
        "from pkg import helpers\n"
        "\n"
        "\n"
        "class M(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        return pad_to(x, 2) + other(x) + helpers.third(x)\n"
    ),
}


def _tree(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_module_names_climb_packages(tmp_path):
    root = _tree(tmp_path)
    assert module_name(root / "pkg/sub/model.py") == "pkg.sub.model"
    assert module_name(root / "pkg/__init__.py") == "pkg"
    (root / "loose.py").write_text("x = 1\n")
    assert module_name(root / "loose.py") == "loose"


def test_roots_follow_relative_imports_reexports_and_module_attributes(tmp_path):
    root = _tree(tmp_path)
    trees = {str(root / rel): ast.parse(text) for rel, text in FILES.items()}
    roots = package_roots(trees)
    names = {path: frozenset(n for n in found if not n.startswith("@")) for path, found in roots.items()}
    assert {path: found for path, found in names.items() if found} == {
        str(root / "pkg/helpers.py"): frozenset({"pad_to", "inner", "third"})
    }


def test_the_cli_checks_a_helper_where_it_is_defined(tmp_path):
    root = _tree(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "tsscan", "check", "--no-cache", "--format", "json", "pkg"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    found = {(Path(d["path"]).as_posix(), d["line"], d["code"]) for d in json.loads(proc.stdout)["diagnostics"]}
    # pad_to's *args (line 3) and inner's try (line 7) are compiled through model.py's forward;
    # unused_helper is called by no compiled code: its **kw and try are not reported
    assert found == {("pkg/helpers.py", 3, "TS201"), ("pkg/helpers.py", 7, "TS101")}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tsscan", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _found(proc: subprocess.CompletedProcess) -> set[tuple[str, int, str]]:
    return {(Path(d["path"]).as_posix(), d["line"], d["code"]) for d in json.loads(proc.stdout)["diagnostics"]}


def test_a_helper_in_a_file_not_given_is_checked_and_its_findings_name_the_caller(tmp_path):
    root = _tree(tmp_path)
    proc = _run(root, "check", "--no-cache", "--format", "json", "pkg/sub/model.py")
    assert proc.returncode == 1, proc.stderr
    diagnostics = json.loads(proc.stdout)["diagnostics"]
    assert {(d["path"], d["line"], d["code"]) for d in diagnostics} == {
        ("pkg/helpers.py", 3, "TS201"),
        ("pkg/helpers.py", 7, "TS101"),
    }
    # each finding says which file and line compiled the helper
    assert all("compiled from `M.forward` at pkg/sub/model.py:10" in d["message"] for d in diagnostics)


BASES = {
    "lib/__init__.py": "",
    "lib/conv.py": (
        "import torch\n"
        "from torch import nn\n"
        "\n"
        "class MessagePassing(nn.Module):\n"
        "    def propagate(self, x: torch.Tensor, **kwargs) -> torch.Tensor:\n"
        "        return self.message(x)\n"
        "\n"
        "    def message(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        return x\n"
        "\n"
        "    def unused(self, x, *args):\n"
        "        return x\n"
        "\n"
        "def eager_only(x, *args):\n"
        "    return x\n"
    ),
    "lib/mixins.py": (
        "import torch\n"
        "\n"
        "class ForwardMixin:\n"
        "    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:\n"
        "        return x\n"
        "\n"
        "class PropertyMixin:\n"
        "    @property\n"
        "    def procs(self) -> int:\n"
        "        def inner(a: int) -> int:\n"
        "            return a\n"
        "        return inner(1)\n"
    ),
    "lib/model.py": (
        "import torch\n"
        "from torch import nn\n"
        "from .conv import MessagePassing, eager_only\n"
        "from .mixins import ForwardMixin, PropertyMixin\n"
        "\n"
        "class Conv(MessagePassing):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        if not torch.jit.is_scripting():\n"
        "            x = eager_only(x)\n"
        "        return self.propagate(x)\n"
        "\n"
        "class Head(ForwardMixin, PropertyMixin, nn.Module):\n"
        "    pass\n"
    ),
}


def test_methods_of_bases_in_other_files_are_checked(tmp_path):
    _write(tmp_path, BASES)
    proc = _run(tmp_path, "check", "--no-cache", "--format", "json", "lib/model.py")
    assert proc.returncode == 1, proc.stderr
    # MessagePassing.propagate (through Conv.forward's self.propagate), the mixin's forward and
    # its property are compiled with the module classes of model.py; MessagePassing.unused is
    # not, nor ``eager_only``, called only where the compiler does not compile
    assert _found(proc) == {
        ("lib/conv.py", 5, "TS201"),
        ("lib/mixins.py", 4, "TS201"),
        ("lib/mixins.py", 10, "TS108"),
    }
    notes = {d["path"]: d["message"] for d in json.loads(proc.stdout)["diagnostics"]}
    assert "compiled with the module `Head` at lib/model.py:12" in notes["lib/mixins.py"]


ONE_FILE = (
    "import torch\n"
    "from torch import nn\n"
    "from torch.nn.modules.loss import _Loss\n"
    "\n"
    "try:\n"
    "    from fast_kernels import act\n"
    "except ImportError:\n"
    "    def act(x, *args):\n"
    "        return x\n"
    "\n"
    "def stored(x, **kw):\n"
    "    return x\n"
    "\n"
    "def never_used(x, **kw):\n"
    "    return x\n"
    "\n"
    "class Base:\n"
    "    @property\n"
    "    def size(self) -> int:\n"
    "        try:\n"
    "            return 1\n"
    "        except Exception:\n"
    "            return 2\n"
    "\n"
    "class L(_Loss, Base):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.fn = stored\n"
    "        self.other = never_used\n"
    "        self._v = 1\n"
    "\n"
    "    @property\n"
    "    def v(self) -> int:\n"
    "        return self._v\n"
    "\n"
    "    @v.setter\n"
    "    def v(self, value: int) -> None:\n"
    "        def inner() -> None:\n"
    "            pass\n"
    "        self._v = value\n"
    "\n"
    "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
    "        if torch.jit.is_scripting():\n"
    "            return act(self.fn(x))\n"
    "        return self.other(x)\n"
    "\n"
    "class Plain(nn.Module):\n"
    "    def encode(self, x: torch.Tensor) -> torch.Tensor:\n"
    "        return x\n"
    "\n"
    "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
    "        return self.encode(x)\n"
    "\n"
    "class Over(Plain):\n"
    "    def encode(self, x: torch.Tensor, *args) -> torch.Tensor:\n"
    "        return x\n"
)


def test_reachability_within_a_file(tmp_path):
    (tmp_path / "loss.py").write_text(ONE_FILE)
    proc = _run(tmp_path, "check", "--no-cache", "--format", "json", "loss.py")
    assert proc.returncode == 1, proc.stderr
    # the _Loss subclass is a module; the fallback ``act`` of the module-level try (line 8), the
    # function stored on self and called (11), the inherited property (20) and the setter (38)
    # are compiled; ``never_used`` is called only where the compiler does not compile. Plain's
    # forward, scripted with Over, calls Over's encode (55)
    assert _found(proc) == {
        ("loss.py", 55, "TS201"),
        ("loss.py", 8, "TS201"),
        ("loss.py", 11, "TS201"),
        ("loss.py", 20, "TS101"),
        ("loss.py", 38, "TS108"),
    }


def test_summaries_are_cached_by_content_as_json(tmp_path):
    root = _tree(tmp_path)
    first = _run(root, "check", "--format", "json", "pkg/sub/model.py")
    index = list((root / ".tsscan_cache").rglob("index/*.json"))
    assert len(index) == 1
    stored = json.loads(index[0].read_text())
    assert len(stored) >= 2  # model.py and helpers.py at least
    second = _run(root, "check", "--format", "json", "pkg/sub/model.py")
    assert _found(first) == _found(second) == {("pkg/helpers.py", 3, "TS201"), ("pkg/helpers.py", 7, "TS101")}
    # an edit to the helper is seen: its summary is made again
    helpers = root / "pkg/helpers.py"
    helpers.write_text(
        helpers.read_text().replace(
            "    try:\n        return x\n    except Exception:\n        return x\n", "    return x\n", 1
        )
    )
    third = _run(root, "check", "--format", "json", "pkg/sub/model.py")
    assert _found(third) == {("pkg/helpers.py", 3, "TS201")}


def test_fix_reports_what_check_reports(tmp_path):
    root = _tree(tmp_path)
    check = _run(root, "check", "--no-cache", "--format", "json", "pkg")
    # nothing here has a fix: --fix leaves the files as they are and reports what is left
    fixed = _run(root, "check", "--fix", "--no-verify", "--format", "json", "pkg")
    assert _found(check) == _found(fixed) == {("pkg/helpers.py", 3, "TS201"), ("pkg/helpers.py", 7, "TS101")}


CALLS = {
    "pkg/__init__.py": "",
    "pkg/layers.py": (
        "import torch\n"
        "from torch import nn\n"
        "\n"
        "\n"
        "def scale(x: torch.Tensor, factor: float = 1.0) -> torch.Tensor:\n"
        "    return x * factor\n"
        "\n"
        "\n"
        "class Mlp(nn.Module):\n"
        "    def __init__(self, dim: int = 4) -> None:\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(dim, dim)\n"
        "\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        return self.fc(x)\n"
    ),
    "pkg/model.py": (
        "import torch\n"
        "from torch import nn\n"
        "\n"
        "from . import layers\n"
        "from .layers import Mlp, scale\n"
        "\n"
        "\n"
        "class Model(nn.Module):\n"
        "    def __init__(self) -> None:\n"
        "        super().__init__()\n"
        "        self.mlp = Mlp(4)\n"
        "\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        y = scale(x, 2) + layers.scale(x, factor=3) + scale(x, 2.0)\n"
        "        return self.mlp(y, x) + self.mlp(y)\n"
    ),
}


def test_calls_of_functions_and_modules_of_other_files_are_checked_against_their_signatures(tmp_path):
    _write(tmp_path, CALLS)
    proc = _run(tmp_path, "check", "--no-cache", "--format", "json", "pkg/model.py")
    assert proc.returncode == 1, proc.stderr
    diagnostics = json.loads(proc.stdout)["diagnostics"]
    found = {(d["line"], d["column"], d["code"]) for d in diagnostics}
    assert found == {(14, 13, "TS410"), (14, 27, "TS410"), (15, 16, "TS411")}
    messages = sorted(d["message"] for d in diagnostics)
    assert messages[0].startswith("`layers.scale` (defined at pkg/layers.py:5)")
    assert "Expected a value of type 'float' for argument 'factor' but instead found type 'int'" in messages[1]
    assert messages[2].startswith("`self.mlp` (defined at pkg/layers.py:14)")
    assert "Expected at most 2 arguments but found 3 positional arguments" in messages[2]
    # the compiler agrees (the calls that fail are the ones reported)
    import torch

    sys.path.insert(0, str(tmp_path))
    try:
        from pkg.model import Model  # type: ignore[import-not-found]

        try:
            torch.jit.script(Model())
        except RuntimeError as exc:
            assert "argument 'factor' but instead found type 'int'" in str(exc)
        else:
            raise AssertionError("the model scripted")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
            del sys.modules[name]


def test_a_method_inherited_from_a_base_in_another_file_is_checked_against_its_signature(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/base.py": (
            "import torch\n"
            "from torch import nn\n"
            "\n"
            "\n"
            "class Base(nn.Module):\n"
            "    def shift(self, x: torch.Tensor, by: float = 1.0) -> torch.Tensor:\n"
            "        return x + by\n"
        ),
        "pkg/child.py": (
            "import torch\n"
            "\n"
            "from .base import Base\n"
            "\n"
            "\n"
            "class Child(Base):\n"
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
            "        return self.shift(x, 2) + self.shift(x, 2.0)\n"
        ),
    }
    _write(tmp_path, files)
    proc = _run(tmp_path, "check", "--no-cache", "--format", "json", "pkg/child.py")
    assert proc.returncode == 1, proc.stderr
    (d,) = json.loads(proc.stdout)["diagnostics"]
    assert (d["line"], d["column"], d["code"]) == (8, 16, "TS410")
    assert d["message"].startswith("`self.shift` (defined at pkg/base.py:6)")


def test_a_function_reexported_through_an_import_star_is_found_with_its_return_type(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/nn/__init__.py": "from .pool import *  # noqa\n",
        "pkg/nn/pool/__init__.py": (
            "import torch\n"
            "\n"
            '__all__ = ["radius_graph"]\n'
            "\n"
            "\n"
            "def radius_graph(x: torch.Tensor, r: float) -> torch.Tensor:\n"
            "    return x\n"
        ),
        "pkg/sch.py": (
            "import torch\n"
            "from torch import nn\n"
            "\n"
            "from pkg.nn import radius_graph\n"
            "\n"
            "\n"
            "class S(nn.Module):\n"
            "    def forward(self, pos: torch.Tensor) -> torch.Tensor:\n"
            "        edge_index = radius_graph(pos, r=1)\n"
            "        row, col = edge_index\n"
            "        return row + col\n"
        ),
    }
    _write(tmp_path, files)
    proc = _run(tmp_path, "check", "--no-cache", "--format", "json", "pkg/sch.py")
    assert proc.returncode == 1, proc.stderr
    diagnostics = json.loads(proc.stdout)["diagnostics"]
    assert {(d["line"], d["code"]) for d in diagnostics} == {(9, "TS410"), (10, "TS229")}
    assert "(defined at pkg/nn/pool/__init__.py:6)" in next(d["message"] for d in diagnostics if d["code"] == "TS410")


def test_a_torch_jit_overload_family_of_another_file_is_checked_against_every_declaration(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/ov.py": (
            "from typing import Optional, Tuple\n"
            "\n"
            "from torch import Tensor\n"
            "from torch.jit import _overload as overload\n"
            "\n"
            "\n"
            "@overload\n"
            "def loops(edge_index: Tensor, edge_attr: None = None, fill: Optional[float] = None) -> Tuple[Tensor, None]:\n"
            "    pass\n"
            "\n"
            "\n"
            "@overload\n"
            "def loops(edge_index: Tensor, edge_attr: Tensor, fill: Optional[float] = None) -> Tuple[Tensor, Tensor]:  # noqa: F811\n"
            "    pass\n"
            "\n"
            "\n"
            "def loops(edge_index, edge_attr=None, fill=None):  # noqa: F811\n"
            "    return edge_index, edge_attr\n"
        ),
        "pkg/use.py": (
            "import torch\n"
            "from torch import nn\n"
            "\n"
            "from .ov import loops\n"
            "\n"
            "\n"
            "class G(nn.Module):\n"
            "    def forward(self, x: torch.Tensor, e: torch.Tensor, a: torch.Tensor) -> torch.Tensor:\n"
            "        e, a = loops(e, a, fill=0)\n"
            "        f, b = loops(e, a, fill=0.0)\n"
            "        return x\n"
        ),
    }
    _write(tmp_path, files)
    proc = _run(tmp_path, "check", "--no-cache", "--format", "json", "--select", "TS410,TS411", "pkg/use.py")
    assert proc.returncode == 1, proc.stderr
    (d,) = json.loads(proc.stdout)["diagnostics"]
    assert (d["line"], d["code"]) == (9, "TS410")
    assert "Arguments for call are not valid" in d["message"] and "(defined at pkg/ov.py:8)" in d["message"]


def test_an_attribute_built_by_a_function_of_another_file_is_not_called_with_its_signature(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/acts.py": (
                "from torch import nn\n\n\ndef get_activation(name: str) -> nn.Module:\n    return nn.SiLU()\n"
            ),
            "pkg/block.py": (
                "import torch\n"
                "from torch import nn\n"
                "\n"
                "from .acts import get_activation\n"
                "\n"
                "\n"
                "class Block(nn.Module):\n"
                '    def __init__(self, act: str = "silu") -> None:\n'
                "        super().__init__()\n"
                "        self.act = get_activation(act)\n"
                "\n"
                "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
                "        return self.act(x)\n"
            ),
        },
    )
    proc = _run(tmp_path, "check", "--no-cache", "--format", "json", "--select", "TS410,TS411", "pkg/block.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_each_file_is_parsed_and_its_module_facts_made_once_per_check(tmp_path, monkeypatch):
    # the package index and the check of a file share one parse and one ModuleInfo: the check
    # starts from the index's analysis (Built.analysed) instead of making them again
    from collections import Counter

    from tsscan.report import RunSummary
    from tsscan.runner import Configs, Options, check_paths
    from tsscan.semantic import compiled, index, module

    made: Counter[int] = Counter()
    real = module.module_facts

    def counting(tree: ast.Module) -> module.ModuleInfo:
        made[id(tree)] += 1
        return real(tree)

    monkeypatch.setattr(compiled, "module_facts", counting)
    monkeypatch.setattr(index, "module_facts", counting)
    root = _tree(tmp_path)
    summary = RunSummary()
    check_paths([str(root / "pkg")], Configs(Options(target_version="2.13.0"), [str(root / "pkg")]), summary, 1, False)
    assert summary.files == len(FILES)
    assert len(made) == len(FILES) and set(made.values()) == {1}
    assert any(d.path.endswith("helpers.py") for d in summary.diagnostics)  # the shared analysis checks the helper
