"""The typed memos of the semantic model (tsscan/semantic/memo.py) and the one binding view that
the coarse kinds (tsscan/semantic/receivers.py) and the flow types share."""

import ast
import textwrap

import libcst as cst

from tsscan.context import FunctionContext
from tsscan.files import split_lines
from tsscan.semantic import attribute_writes, compiled
from tsscan.semantic.function_types import EXCEPT, IMPORT, bindings_of
from tsscan.semantic.memo import Memo, NodeMemos
from tsscan.semantic.receivers import MODULE, SCALAR, SEQUENCE, TENSOR, UNKNOWN
from tsscan.semantic.reparse import reparse


def test_an_answer_is_made_once_per_owner_and_memo() -> None:
    made: list[ast.AST] = []

    def count(node: ast.AST) -> int:
        made.append(node)
        return len(made)

    first: Memo[int] = Memo("count")
    second: Memo[int] = Memo("count")  # the same name: another memo all the same
    a, b = ast.Pass(), ast.Pass()
    assert first.on(a, count) == 1
    assert first.on(a, count) == 1  # kept on a
    assert second.on(a, count) == 2  # another memo: its own answer
    assert first.on(b, count) == 3  # another owner: its own answer
    assert made == [a, a, b]
    assert first.kept_on(a) and second.kept_on(a) and first.kept_on(b) and not second.kept_on(b)


def test_a_none_answer_is_kept_too() -> None:
    calls: list[int] = []
    memo: Memo[None] = Memo("nothing")
    owner = ast.Pass()
    for _ in range(3):
        assert memo.on(owner, lambda _: calls.append(1)) is None
    assert calls == [1]


def test_node_memos_answer_only_for_the_node_they_were_made_for() -> None:
    memos = NodeMemos()
    memo: Memo[str] = Memo("name")
    x, y = cst.Name("x"), cst.Name("x")  # equal, but two nodes
    assert memos.of(memo, x, lambda: "first") == "first"
    assert memos.of(memo, x, lambda: "again") == "first"
    assert memos.of(memo, y, lambda: "second") == "second"
    assert memos.of(memo, x, lambda: "third") == "third"  # y's answer replaced x's


MODEL = textwrap.dedent(
    """\
    import torch


    def helper(x):
        return torch.relu(x)

    """
) + "".join(f"\n\ndef f{i}(x):\n    y = helper(x)\n    other.attr{i} = y\n    return y\n" for i in range(20))


def test_answers_on_statements_an_edit_left_alone_survive_it() -> None:
    # the language server re-parses only the statements an edit touched (reparse): the others
    # keep their nodes, and with them what the model learned about them; an edited statement
    # is a new node, with nothing kept on it
    old_tree = ast.parse(MODEL)
    old_lines = split_lines(MODEL)
    by_name = {s.name: s for s in old_tree.body if isinstance(s, ast.FunctionDef)}
    for fn in by_name.values():
        compiled.calls_in(fn)
    scope = compiled.analyse(old_tree)
    assert not attribute_writes.externally_assigned(scope.module, "attr99")
    assert attribute_writes.externally_assigned(scope.module, "attr3")
    edited = MODEL.replace("other.attr7 = y", "other.attr77 = y")
    new_tree = reparse(old_tree, old_lines, split_lines(edited), "m.py")
    assert new_tree is not None
    new_by_name = {s.name: s for s in new_tree.body if isinstance(s, ast.FunctionDef)}
    assert new_by_name["f6"] is by_name["f6"] and new_by_name["f7"] is not by_name["f7"]
    calls = compiled._CALLS
    assert calls.kept_on(new_by_name["f6"]) and not calls.kept_on(new_by_name["f7"])
    statement_attrs = attribute_writes._EXTERNAL_ATTRS
    assert statement_attrs.kept_on(new_by_name["f6"]) and not statement_attrs.kept_on(new_by_name["f7"])
    new_scope = compiled.analyse(new_tree)
    assert attribute_writes.externally_assigned(new_scope.module, "attr77")  # the new node's own answer
    assert not attribute_writes.externally_assigned(new_scope.module, "attr7")
    assert statement_attrs.kept_on(new_by_name["f7"])


SCRIPTED = textwrap.dedent(
    """\
    import torch
    from typing import List


    @torch.jit.script
    def f(x, n: int, xs: List[int]):
        y = x
        z: float = 1.0
        a, b = n, n
        n += 1
        for i in xs:
            pass
        ys = [j for j in xs]
        with torch.no_grad() as g:
            w = (v := len(xs))
        try:
            pass
        except ValueError as e:
            pass
        import math as m

        def inner(q):
            r = q
            return r

        class Local:
            c = 3

        return y
    """
)


def _context() -> FunctionContext:
    scope = compiled.analyse(ast.parse(SCRIPTED))
    (cf,) = scope.compiled
    ctx = FunctionContext("m.py", scope, cf, "2.13")
    fn = cst.parse_module(SCRIPTED).body[2]
    assert isinstance(fn, cst.FunctionDef)
    ctx.node = fn
    return ctx


def test_kinds_and_flow_types_read_one_binding_view() -> None:
    ctx = _context()
    fn = ctx.function_node
    bindings = bindings_of(fn, ctx)
    assert ctx.types.bindings is bindings  # made once, shared
    assert ctx.bindings is bindings and ctx.kinds.bindings is bindings
    kinds = ctx.kinds
    assert ctx.kinds is kinds  # made once per function, shared by the rules
    params = {"x", "n", "xs"}
    assert bindings.params == ["x", "n", "xs"]
    # the function's names are the whole body's bindings (a name there shadows a builtin or a
    # module) ...
    assert ctx.local_names == params | {b.name for b in bindings.sites if b.form not in (EXCEPT, IMPORT)}
    assert ctx.local_names == params | {"y", "z", "a", "b", "i", "ys", "j", "g", "w", "v", "inner", "c"}
    # ... the flow types what the function's own scope binds
    assert bindings.own_names == {"y", "z", "a", "b", "n", "i", "ys", "g", "w", "v", "e", "m"}
    assert ctx.types.rebinds("n") and ctx.types.rebinds("e") and not ctx.types.rebinds("j")
    assert not ctx.types.rebinds("x") and not ctx.types.rebinds("inner") and not ctx.types.rebinds("r")
    assert bindings.assigned["a"] == [None] and bindings.assigned["n"] == [None]
    assert [type(v) for v in bindings.assigned["y"]] == [cst.Name]
    assert "z" not in bindings.assigned and "e" not in bindings.assigned and "m" not in bindings.assigned
    assert list(bindings.annotated) == ["z"] and kinds.name_kind("z") == SCALAR


def test_a_name_is_shadowed_by_the_function_or_the_file() -> None:
    ctx = _context()
    # bound by the function: a parameter, a local, a comprehension's target
    assert ctx.is_shadowed("x") and ctx.is_shadowed("y") and ctx.is_shadowed("j")
    # bound at module level: an import
    assert ctx.is_shadowed("torch") and ctx.module.binds("List") and not ctx.module.binds("y")
    # a builtin nobody binds again; ``except ... as`` and ``import ... as`` names do not count
    assert not ctx.is_shadowed("len") and not ctx.is_shadowed("e") and not ctx.is_shadowed("m")


def test_kinds_project_the_model() -> None:
    ctx = _context()
    kinds = ctx.kinds

    def kind(name: str) -> str:
        return kinds.kind(cst.Name(name))

    assert kind("x") == TENSOR  # an unannotated parameter
    assert kind("y") == TENSOR  # bound to x only
    assert kind("xs") == SEQUENCE and kind("ys") == SEQUENCE
    assert kind("z") == SCALAR  # annotated float
    assert kind("v") == SCALAR  # len(...), bound by ``:=``
    assert kind("n") == SCALAR  # an annotated parameter keeps its type, rebound or not
    assert kind("a") == UNKNOWN  # unpacked: no value to agree on
    assert kind("torch") == MODULE  # an import of the file
    assert kind("nowhere") == UNKNOWN
