"""Property tests: generated Python placed in nn.Module classes (forward bodies, helper
methods, ``__init__``, ignored methods, free functions, module level).

* checking never raises (an unparsable snippet is an error line, not an exception);
* the ``--fix`` output (safe, and safe + unsafe) always parses;
* fixing twice equals fixing once;
* a file with no findings is never changed;
* fixes never touch code outside compiled scope (only import lines may be added there).

The default run (CI) is deterministic: ``derandomize=True`` draws the same 12 examples per test
on every run and machine, no example database is read or written, and the ``@example`` inputs
(failures found by soaking, kept as regression tests) always run first. So a CI run either
always passes or always fails, and takes the same time each run.

Soak mode explores: ``TSSCAN_SOAK=1`` draws 1000 random examples per test (or
``TSSCAN_EXAMPLES=N``), and, if ``hypothesmith`` is installed (it is slow: ~0.2 s per example),
grammar-generated code around a module. A failure it finds becomes an ``@example`` here::

    TSSCAN_SOAK=1 TSSCAN_EXAMPLES=300 python -m pytest -q tests/test_properties.py
"""

from __future__ import annotations

import difflib
import hashlib
import os
import textwrap
import time

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tsscan.engine import InputError
from tsscan.fix.fixer import fix_file
from tsscan.rule import SAFE, UNSAFE

SOAK = os.environ.get("TSSCAN_SOAK") == "1"
EXAMPLES = int(os.environ.get("TSSCAN_EXAMPLES", 1000 if SOAK else 12))
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=not SOAK,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)

NAMES = st.sampled_from(["x", "y", "z", "h", "acc", "out", "mask", "i", "xs"])
EXPRS = st.sampled_from(
    [
        "x",
        "x + 1",
        "x.bool()",
        "x.bfloat16()",
        "torch.relu(x)",
        "+x",
        "y * 2",
        "x[0]",
        "x.sum()",
        "[a for a in xs if a > 0]",
        "[a * b for a in xs for b in xs]",
        "len(xs)",
        "(x, y)",
        "{'k': x}",
        "f'{x!r}'",
        "f'{y}-{z!s}'",
        "list(reversed(xs))",
        "list(map(float, xs))",
        "math.floor(2.5)",
        "torch.autograd.Variable(x)",
        "torch.FloatTensor(3)",
        "torch.zeros(3, requires_grad=True)",
        "'x.bool() in a string'",
        "lambda v: v",
        "None",
        "x if x is not None else y",
        "torch.jit.is_scripting()",
        "self.helper(x)",
        "helper_fn(x)",
        "x.float()",
        "(yield_ := 1)",
        "x\n    .bool()".replace("\n    ", " "),
    ]
)
SIMPLE = st.one_of(
    st.builds(lambda n, e: f"{n} = {e}", NAMES, EXPRS),
    st.builds(lambda n, e: f"{n}: int = {e}", NAMES, EXPRS),
    st.builds(lambda n: f"{n}: int", NAMES),
    st.builds(lambda n, e: f"{n} = {e}  # type: int", NAMES, EXPRS),
    st.builds(lambda n, e: f"{n} //= {e}", NAMES, EXPRS),
    st.builds(lambda n, e: f"{n} @= {e}", NAMES, EXPRS),
    st.builds(lambda n, e: f"a, *{n} = {e}", NAMES, EXPRS),
    st.builds(lambda e: f"return {e}", EXPRS),
    st.builds(lambda e: f"assert {e}, 'msg'", EXPRS),
    st.builds(lambda e: f"print({e})", EXPRS),
    st.builds(lambda e: f"{e}  # noqa", EXPRS),
    st.builds(lambda e: f"{e}  # noqa: TS401", EXPRS),
    st.just("pass"),
    st.just("pass  # a comment with x.bool()"),
    st.just("# only a comment\npass"),
    st.just('"""docstring x.bool()"""'),
    st.builds(lambda e: f"h = (\n    {e}\n)", EXPRS),
    st.builds(lambda e: f"h = {e} \\\n    + 1", EXPRS),
)


def _block(head: str, body: list[str]) -> str:
    return head + "\n" + textwrap.indent("\n".join(body) or "pass", "    ")


def _compound(children):
    body = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda e, b: _block(f"if {e}:", b), EXPRS, body),
        st.builds(lambda e, b, c: _block(f"if {e}:", b) + "\n" + _block("else:", c), EXPRS, body, body),
        st.builds(lambda n, b: _block(f"for {n} in xs:", b), NAMES, body),
        st.builds(lambda n, b, c: _block(f"for {n} in xs:", b) + "\n" + _block("else:", c), NAMES, body, body),
        st.builds(lambda e, b: _block(f"while {e}:", b), EXPRS, body),
        st.builds(lambda b: _block("with torch.no_grad():", b), body),
        st.builds(lambda b, c: _block("try:", b) + "\n" + _block("except Exception:", c), body, body),
        st.builds(lambda b: _block("if not torch.jit.is_scripting():", b), body),
        st.builds(lambda b: _block("def inner(v: int) -> int:", b), body),
    )


STATEMENTS = st.recursive(SIMPLE, _compound, max_leaves=8)
BODIES = st.lists(STATEMENTS, min_size=1, max_size=4).map(lambda ss: "\n".join(ss))
# module level: no return
TOP = st.lists(
    st.recursive(SIMPLE.filter(lambda s: not s.startswith("return")), _compound, max_leaves=6), min_size=1, max_size=3
).map(lambda ss: "\n".join(ss))
INDENTS = st.sampled_from(["    ", "  ", "\t"])
NEWLINES = st.sampled_from(["\n", "\r\n"])


def module_source(forward: str, helper: str, init: str, ignored: str, free: str, top: str, indent: str) -> str:
    def body(code: str, level: int) -> str:
        return textwrap.indent(code, "    " * level)

    src = (
        "import math\nimport torch\nfrom torch import nn\n\n"
        f"{top}\n\n\n"
        "def helper_fn(x: torch.Tensor) -> torch.Tensor:\n" + body(free, 1) + "\n    return x\n\n\n"
        "def unused_fn(x):\n" + body(top, 1) + "\n    return x.bool()\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n" + body(init, 2) + "\n\n"
        "    def forward(self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, xs: List[int]) -> torch.Tensor:\n"
        + body(forward, 2)
        + "\n        return x\n\n"
        "    def helper(self, x: torch.Tensor) -> torch.Tensor:\n" + body(helper, 2) + "\n        return x\n\n"
        "    @torch.jit.ignore\n    def ignored(self, x):\n" + body(ignored, 2) + "\n        return x.bool()\n\n"
        "    def never_called(self, x):\n" + body(ignored, 2) + "\n        return x.bool()\n"
    )
    src = "from typing import List\n" + src
    if indent != "    ":  # re-indent with another unit: 2 spaces or tabs
        lines = []
        for line in src.split("\n"):
            stripped = line.lstrip(" ")
            lines.append(
                indent * ((len(line) - len(stripped)) // 4) + " " * ((len(line) - len(stripped)) % 4) + stripped
            )
        src = "\n".join(lines)
    return src


SOURCES = st.builds(module_source, BODIES, BODIES, BODIES, BODIES, BODIES, TOP, INDENTS)


def parses(src: str) -> bool:
    try:
        compile(src, "<gen>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


def compiled_lines(result) -> set[int]:
    lines: set[int] = set()
    for cf in result.scope.compiled:
        lines.update(range(cf.start_line, cf.end_line + 1))
    return lines


def changed_lines_outside(old: str, new: str, inside: set[int]) -> list[tuple[str, str]]:
    """Changes of ``old`` -> ``new`` outside the ``inside`` lines of ``old`` (1-based), except
    added import lines."""
    a, b = old.splitlines(), new.splitlines()
    bad = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        touched = set(range(i1 + 1, i2 + 1))
        if tag == "insert":
            added = b[j1:j2]
            if all(ln.startswith(("import ", "from ")) for ln in added):
                continue
            touched = {i1, i1 + 1}  # inserted between lines i1 and i1+1
            if touched & inside:
                continue
        if touched - inside:
            bad.append((tag, "\n".join(a[i1:i2]) + " -> " + "\n".join(b[j1:j2])))
    return bad


DRAWN: list[str] = []  # the inputs the running test drew, in order


@pytest.fixture(autouse=True)
def cost_and_inputs(record_property):
    """Record each test's CPU time and a digest of the inputs it drew in the JUnit report, so that
    repeated runs (``scripts/repeat_suite.py``) show the same work each run, whatever the load."""
    DRAWN.clear()
    start = time.process_time()
    yield
    record_property("cpu_seconds", round(time.process_time() - start, 3))
    record_property("examples", len(DRAWN))
    record_property("inputs_sha256", hashlib.sha256("\0".join(DRAWN).encode()).hexdigest()[:16])


def fix(engine, src: str, safeties) -> tuple[str, object]:
    ff = fix_file(engine, "gen.py", src, safeties, (), None, False)
    return ff.new_text, ff.result


# issue 15: TS606 crashed ("no attribute '_stmt'") on a forward whose first statement is an `if`
# with an f-string field in its test; found by an unseeded run, 1 run in 6
TS606_CRASH = module_source('if f"layer{i}" in xs:\n    pass', "pass", "pass", "pass", "pass", "pass", "    ")


@SETTINGS
@given(src=SOURCES, newline=NEWLINES)
@example(src=TS606_CRASH, newline="\n")
def test_generated_modules(engine, src, newline):
    DRAWN.append(src + newline)
    assume(parses(src))
    src = src.replace("\n", newline)
    result = engine.check("gen.py", src)  # never raises on code Python parses
    assert not [e for e in result.errors if "internal error" in e], result.errors
    for safeties in ((SAFE,), (SAFE, UNSAFE)):
        new, after = fix(engine, src, safeties)
        if not result.diagnostics:
            assert new == src
            continue
        assert parses(new), new
        again, _ = fix(engine, new, safeties)
        assert again == new, "not idempotent"
        outside = changed_lines_outside(src, new, compiled_lines(result))
        assert not outside, outside
        if newline == "\r\n":
            assert "\n" not in new.replace("\r\n", "")  # no stray LF in a CRLF file


@SETTINGS
@given(body=BODIES)
def test_no_findings_means_unchanged(engine, body):
    """Code only in places TorchScript never compiles: no findings, no change at all."""
    DRAWN.append(body)
    src = (
        "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n" + textwrap.indent(body, " " * 8) + "\n\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return x\n\n"
        "    @torch.jit.ignore\n    def debug(self, x):\n" + textwrap.indent(body, " " * 8) + "\n        return x\n\n\n"
        "def plain(x, y, z, xs, h, acc, out, mask, i):\n" + textwrap.indent(body, "    ") + "\n"
    )
    assume(parses(src))
    result = engine.check("gen.py", src)
    compiled_rules = [d for d in result.diagnostics if not d.code.startswith("TS3")]  # attribute typing sees __init__
    assert not compiled_rules, compiled_rules
    if not result.diagnostics:
        assert fix(engine, src, (SAFE, UNSAFE))[0] == src


@pytest.mark.skipif(not SOAK, reason="soak only (TSSCAN_SOAK=1): hypothesmith is slow (~0.2 s per example)")
def test_grammar_generated_code_around_a_module(engine):
    hypothesmith = pytest.importorskip("hypothesmith")

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(code=hypothesmith.from_grammar())
    def inner(code):
        assume(parses(code))
        module = (
            "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return x.bool()\n\n\n"
        )
        src = module + code + "\n"
        assume(parses(src))
        try:
            result = engine.check("gen.py", src)
        except InputError:
            return
        new, _ = fix(engine, src, (SAFE, UNSAFE))
        assert parses(new)
        outside = changed_lines_outside(src, new, compiled_lines(result))
        assert not outside, outside

    inner()


@pytest.mark.skipif(SOAK, reason="soak mode draws random examples on purpose")
def test_ci_runs_are_deterministic():
    """Outside soak mode every run draws the same examples and keeps no database."""
    assert (SETTINGS.derandomize, SETTINGS.database, SETTINGS.max_examples) == (True, None, EXAMPLES)
    assert EXAMPLES == int(os.environ.get("TSSCAN_EXAMPLES", 12))
