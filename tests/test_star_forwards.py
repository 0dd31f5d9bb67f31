"""tsscan.semantic.param_uses.star_forwards: where a function passes its ``**kwargs`` (or
``*args``) on whole, the question behind TS201's fix that removes a ``**kwargs`` only passed on."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from tsscan.semantic.param_uses import star_forwards


def _forwards(src: str, name: str = "kwargs", star: str = "**"):
    fn = cst.parse_module(textwrap.dedent(src)).body[0]
    assert isinstance(fn, cst.FunctionDef)
    found = star_forwards(fn, name, star)
    if found is None:
        return None
    return [cst.Module([]).code_for_node(call) for call, _ in found]


def test_calls_that_pass_kwargs_on_whole_are_found():
    assert _forwards(
        """
        def forward(self, x, **kwargs):
            y = self.a(x, **kwargs)
            return self.b(y, scale=2, **kwargs)
        """
    ) == ["self.a(x, **kwargs)", "self.b(y, scale=2, **kwargs)"]


def test_never_read_is_an_empty_list_and_attribute_or_keyword_names_are_not_reads():
    assert (
        _forwards(
            """
            def forward(self, x, **kwargs):
                return self.fn(x, kwargs=1) + self.kwargs
            """
        )
        == []
    )


@pytest.mark.parametrize(
    "body",
    [
        "return self.fn(x, **kwargs) + kwargs['scale']",  # read otherwise too
        "kwargs = {}\n    return self.fn(x, **kwargs)",  # rebound
        "return self.fn(x, kwargs)",  # passed as a plain argument
        "return self.fn(x, *kwargs)",  # unpacked the other way
        "g = lambda **kwargs: self.fn(**kwargs)\n    return g(x)",  # another binding of the name
        "return self.fn(self.g(x, **kwargs), **kwargs)",  # a call inside a call that passes it too
        "return self.fn(x, **{**kwargs})",  # in a dict display
    ],
)
def test_any_other_use_gives_none(body):
    assert _forwards(f"def forward(self, x, **kwargs):\n    {body}\n") is None


def test_star_args_are_asked_for_separately():
    src = """
    def forward(self, *args, **kwargs):
        return self.fn(*args, **kwargs)
    """
    assert _forwards(src, "args", "*") == ["self.fn(*args, **kwargs)"]
    assert _forwards(src) == ["self.fn(*args, **kwargs)"]
