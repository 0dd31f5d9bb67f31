import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import Example, Rule
from tsscan.rules.TS408_torch_keyword_argument import _ALIASES as _NUMPY_SPELLINGS  # TS408 reports these
from tsscan.semantic.types import in_quiet_arm

_HINTS = {
    ("nonzero", "as_tuple"): "use `x.nonzero().unbind(1)` for the tuple of index tensors, `x.nonzero()` for the matrix",
}


class TensorMethodKeyword(Rule):
    """A keyword argument that a Tensor method does not take in TorchScript (`x.nonzero(as_tuple=True)`).

    What it does:
        Checks the keywords of method calls on values the compiler types as `Tensor` against
        the method's signatures in TorchScript, from the generated table (the operator
        schemas). `x.nonzero(as_tuple=True)` is the common case: eager torch parses
        `as_tuple` in Python, TorchScript's `aten::nonzero` has no such argument. The numpy
        spellings (`axis=`, `keepdims=`) are TS408.

    Why is this bad:
        "Arguments for call are not valid ... Keyword argument as_tuple unknown".

    Example:
        rows, cols = mask.nonzero(as_tuple=True)

    Use instead:
        rows, cols = mask.nonzero().unbind(1)
    """

    code = "TS420"
    needs = Needs(nodes={"keyword"})
    name = "tensor-method-keyword"
    message = "`Tensor.{method}` takes no keyword argument `{kw}` in TorchScript"
    level = "type"

    invalid = [
        Example(
            """
import torch


class Rows(torch.nn.Module):
    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        rows = mask.nonzero(as_tuple=True)
        return rows[0]
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


class Rows(torch.nn.Module):
    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        rows = mask.nonzero().unbind(1)
        return rows[0] + mask.sum(dim=0, keepdim=True).flatten()[0]
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or any(a.star for a in node.args):
            return
        kws = [a for a in node.args if a.keyword is not None]
        if not kws:
            return
        method = func.attr.value
        overloads = self.ctx.knowledge.tensor_method_overloads(method)
        if not overloads:
            return
        names: set[str] = set()
        for ov in overloads:
            for p in ov:
                if p.name.startswith("*"):
                    return  # **kwargs / *args: anything goes
                names.add(p.name)
        unknown = [a for a in kws if a.keyword is not None and a.keyword.value not in names]
        unknown = [a for a in unknown if a.keyword is not None and a.keyword.value not in _NUMPY_SPELLINGS]
        if not unknown:
            return
        if self.ctx.types.type_of(func.value) != "Tensor" or in_quiet_arm(self.ctx, node):
            return
        for a in unknown:
            kw = a.keyword.value if a.keyword else ""
            message = self.message.format(method=method, kw=kw)
            if (method, kw) in _HINTS:
                message += f"; {_HINTS[method, kw]}"
            self.report(a, message)
