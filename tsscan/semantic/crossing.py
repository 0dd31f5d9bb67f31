"""Every crossing between libcst's tree and the stdlib ``ast``, in one place.

The semantic model reads files with the stdlib ``ast`` (cheap); rules see libcst nodes. Where one
side needs the other's view of the same code, it goes through text here. A crossing fails only on
code that does not parse on the other side (a fragment that is not an expression on its own):
that is ``None``, never an exception, and nothing else is caught.
"""

from __future__ import annotations

import ast

import libcst as cst

_EMPTY = cst.Module(body=[])


def cst_to_ast(node: cst.CSTNode) -> ast.expr | None:
    """The stdlib ``ast`` of a libcst expression (None if it does not parse alone)."""
    try:
        return ast.parse("(" + _EMPTY.code_for_node(node) + ")", mode="eval").body
    except SyntaxError:
        return None


def text_to_cst(text: str) -> cst.BaseExpression | None:
    """A libcst expression from source text (a type written as text, an ``ast.unparse``)."""
    try:
        return cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None


def ast_to_cst(node: ast.expr) -> cst.BaseExpression | None:
    """The libcst view of a stdlib ``ast`` expression."""
    return text_to_cst(ast.unparse(node))


def ast_function_to_cst(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> cst.FunctionDef | None:
    """The libcst view of a function read with ``ast`` (decorators dropped)."""
    bare = type(fn)(**{**fn.__dict__, "decorator_list": []})
    try:
        stmt = cst.parse_statement(ast.unparse(bare))
    except cst.ParserSyntaxError:
        return None
    return stmt if isinstance(stmt, cst.FunctionDef) else None
