"""The call graph that TS137 (recursion) reads: tsscan.semantic.callgraph, on small files."""

import ast
import textwrap

from tsscan.semantic.callgraph import cycle_path, recursive_functions
from tsscan.semantic.module import module_facts

SOURCE = textwrap.dedent(
    """
    import torch

    def a(n: int) -> int:
        return b(n - 1) if n > 0 else 0

    def b(n: int) -> int:
        return a(n)

    def leaf(n: int) -> int:
        return n

    @torch.jit.ignore
    def ignored(n: int) -> int:
        return ignored(n - 1)

    def calls_ignored(n: int) -> int:
        return ignored(n)

    def shadowed(a: int) -> int:
        return a(1)

    class M(torch.nn.Module):
        def forward(self, x):
            return self.f(x) + leaf(1) + a(2)

        def f(self, x):
            return self.g(x)

        def g(self, x):
            return self(x)

        def h(self, x):
            return x
    """
)


def _mod():
    return module_facts(ast.parse(SOURCE))


def test_mutual_recursion_of_free_functions():
    mod = _mod()
    assert recursive_functions(mod, None, ("f", "a")) == {("f", "a"), ("f", "b")}
    assert cycle_path(mod, None, ("f", "b")) == [("f", "b"), ("f", "a"), ("f", "b")]
    assert recursive_functions(mod, None, ("f", "leaf")) == set()


def test_ignored_functions_are_not_compiled_and_break_the_cycle():
    mod = _mod()
    assert recursive_functions(mod, None, ("f", "calls_ignored")) == set()


def test_a_parameter_shadows_a_function():
    assert recursive_functions(_mod(), None, ("f", "shadowed")) == set()


def test_methods_through_self_and_self_call():
    mod = _mod()
    cls = mod.classes["M"]
    found = recursive_functions(mod, cls, ("m", "forward"))
    assert found == {("m", "forward"), ("m", "f"), ("m", "g"), ("f", "a"), ("f", "b")}
    assert cycle_path(mod, cls, ("m", "g")) == [("m", "g"), ("m", "forward"), ("m", "f"), ("m", "g")]
    assert recursive_functions(mod, cls, ("m", "h")) == set()
