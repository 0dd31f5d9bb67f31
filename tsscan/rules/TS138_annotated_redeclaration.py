import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.semantic.targets import bound_names

_NESTED = (cst.If, cst.For, cst.While)


class AnnotatedRedeclaration(Rule):
    """An annotated assignment, inside an `if`/`for`/`while`, to a variable already defined
    outside that block (`x: OptPairTensor = (x, x)` under `if isinstance(x, Tensor):`).

    What it does:
        Flags `name: T = value` in a nested block of compiled code when `name` is a parameter
        of the function, or is assigned before it in a block that encloses this one.

    Why is this bad:
        An annotation declares a new variable of that type in the current block, and the
        compiler refuses to declare one that an outer block already has: "Attempting to declare
        and annotate the type of variable 'x' but it is already defined in an outer block".
        At the function's top level (the same block) a new annotation is accepted, and so is
        one inside `with`, whose body is not a block of its own (measured with torch 2.13).

    Example:
        def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]]) -> Tensor:
            if isinstance(x, Tensor):
                x: Tuple[Tensor, Tensor] = (x, x)
            return x[0] + x[1]

    Use instead:
        Bind a new name (`pair: Tuple[Tensor, Tensor] = (x, x) if isinstance(x, Tensor) else x`),
        or drop the annotation when the value's type is the one wanted.
    """

    code = "TS138"
    needs = Needs(nodes={"AnnAssign"})
    name = "annotated-redeclaration"
    message = (
        "`{name}` is already defined outside this block, and an annotation declares it again: the compiler will say"
        " \"Attempting to declare and annotate the type of variable '{name}' but it is already defined in an outer"
        ' block"; drop the annotation or bind a new name'
    )
    fails_in = ">=1.0"

    invalid = [
        Example(
            """
from typing import Tuple, Union

import torch
from torch import Tensor


@torch.jit.script
def pair_sum(x: Union[Tensor, Tuple[Tensor, Tensor]]) -> Tensor:
    if isinstance(x, Tensor):
        x: Tuple[Tensor, Tensor] = (x, x)
    return x[0] + x[1]
"""
        ),
        Example(
            """
import torch
from torch import Tensor


@torch.jit.script
def grow(x: Tensor, n: int) -> Tensor:
    y = x
    for _ in range(n):
        y: Tensor = y * 2
    return y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import Tensor


@torch.jit.script
def pick(x: Tensor, c: bool) -> Tensor:
    x: Tensor = x + 1
    if c:
        y: Tensor = x
    else:
        y: Tensor = x * 3
    with torch.no_grad():
        x: Tensor = x * 2
    return x + y
"""
        ),
    ]

    def on_function(self) -> None:
        fn = self.ctx.node
        if fn is None:
            return
        params = fn.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        if isinstance(params.star_arg, cst.Param):
            every.append(params.star_arg)
        if params.star_kwarg is not None:
            every.append(params.star_kwarg)
        self._block(fn.body, {p.name.value for p in every}, nested=False)

    def _block(self, block: cst.BaseSuite, outer: set[str], nested: bool) -> set[str]:
        """Check one block; ``outer``: names the enclosing blocks define. Returns the names this
        block defines (a ``with`` body belongs to the block around it)."""
        mine: set[str] = set()
        body = block.body if isinstance(block, cst.IndentedBlock) else [block]
        for stmt in body:
            smalls = stmt.body if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else ()
            for small in smalls:
                if isinstance(small, cst.AnnAssign) and small.value is not None and nested:
                    if isinstance(small.target, cst.Name) and small.target.value in outer:
                        self.report(small, self.message.format(name=small.target.value))
                if isinstance(small, cst.Assign):
                    mine.update(b.value for t in small.targets for b in bound_names(t.target))
                elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                    mine.update(b.value for b in bound_names(small.target))
            if isinstance(stmt, cst.With):
                mine |= self._block(stmt.body, outer | mine, nested)
            elif isinstance(stmt, _NESTED):
                self._nested(stmt, outer | mine)
        return mine

    def _nested(self, stmt: cst.If | cst.For | cst.While, outer: set[str]) -> None:
        self._block(stmt.body, outer, nested=True)
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            self._nested(orelse, outer)
        elif isinstance(orelse, cst.Else):
            self._block(orelse.body, outer, nested=True)
