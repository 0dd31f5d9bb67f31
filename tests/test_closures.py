"""tsscan.semantic.closures: which nested functions of a compiled function can move out, and what
each takes from the function around it."""

from __future__ import annotations

import textwrap

import libcst as cst

from tsscan.semantic.closures import movable


def _outer(src: str) -> cst.FunctionDef:
    mod = cst.parse_module(textwrap.dedent(src))
    fn = mod.body[0]
    assert isinstance(fn, cst.FunctionDef)
    return fn


def _movable(src: str, self_name: str | None = None):
    fn = _outer(src)
    p = fn.params
    names = {q.name.value for q in [*p.posonly_params, *p.params, *p.kwonly_params]}
    return movable(fn, names, self_name)


def test_captures_are_what_it_reads_from_the_outer_function_and_pass_through_callees():
    group = _movable(
        """
        def f(x, scale):
            n = x.shape[0]
            k = 3

            def cells(r):
                return int(n * r)

            def area(r):
                return cells(r) * k

            return area(scale) + cells(scale)
        """
    )
    assert group is not None
    by = {g.node.name.value: g for g in group}
    assert by["cells"].captures == {"n"}
    assert by["area"].captures == {"n", "k"}  # k its own, n for the call of cells
    assert by["area"].calls_to == {"cells"}
    assert len(by["cells"].calls) == 1 and len(by["area"].calls) == 1


def test_a_capture_bound_again_after_the_def_keeps_it_nested():
    assert (
        _movable(
            """
            def f(x):
                k = 1

                def bump(t):
                    return t + k

                k = 2
                return bump(x)
            """
        )
        is None
    )


def test_a_parameter_named_like_an_outer_name_is_its_own():
    group = _movable(
        """
        def f(x, k):
            def g(x):
                return x * k

            return g(x)
        """
    )
    assert group is not None and group[0].captures == {"k"}


def test_names_bound_before_the_def_only_may_change_before_it():
    group = _movable(
        """
        def f(x):
            k = 1
            k = k + 1

            def bump(t):
                return t + k

            y = bump(x)
            return y
        """
    )
    assert group is not None and group[0].captures == {"k"}


def test_a_nested_function_used_as_a_value_or_reading_self_stays():
    used_as_value = """
        def f(x):
            def g(t):
                return t

            h = g
            return h(x)
        """
    reads_self = """
        def forward(self, x):
            def g(t):
                return t * self.alpha

            return g(x)
        """
    recursive = """
        def f(x):
            def g(t):
                return g(t - 1) if t > 0 else t

            return g(x)
        """
    default_from_outer = """
        def f(x):
            k = 2

            def g(t, scale=k):
                return t * scale

            return g(x)
        """
    in_a_branch = """
        def f(x):
            if x:
                def g(t):
                    return t
            return x
        """
    assert _movable(used_as_value) is None
    assert _movable(reads_self, "self") is None
    assert _movable(recursive) is None
    assert _movable(default_from_outer) is None  # the default is read where the def runs
    assert _movable(in_a_branch) is None  # no nested def in the body's own statements


def test_comprehension_variables_and_the_functions_own_names_are_not_captures():
    group = _movable(
        """
        def f(xs, total):
            def g(ys):
                acc = [j * 2 for j in ys]
                total = sum(acc)
                return total

            return g(xs)
        """
    )
    assert group is not None and group[0].captures == set()


def test_a_comprehension_variable_named_like_an_outer_name_is_not_guessed():
    # ``i`` is the comprehension's inside it, the outer parameter after it: no fix
    src = """
        def f(xs, i):
            def g(ys):
                acc = [i * 2 for i in ys]
                return acc[0] + i

            return g(xs)
        """
    assert _movable(src) is None
