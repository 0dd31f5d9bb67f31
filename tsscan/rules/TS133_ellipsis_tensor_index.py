import libcst as cst

from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm


class EllipsisTensorIndex(Rule):
    """A Tensor or list index after `...` (`x[..., idx[0], idx[1]]`).

    What it does:
        Flags a subscript of a Tensor where an index that the compiler types as a `Tensor`
        or a `List` comes after an Ellipsis (`...`).

    Why is this bad:
        Advanced indexing after `...` works in Python; TorchScript rejects it: "Ellipses
        followed by tensor indexing is currently not supported".

    Example:
        idx = torch.triu_indices(n, n)
        upper = cov[..., idx[0], idx[1]]

    Use instead:
        Spell out the leading dimensions (`cov[:, :, idx[0], idx[1]]`), or move the indexed
        dimensions first and index them there.
    """

    code = "TS133"
    name = "ellipsis-tensor-index"
    message = "`{index}` is a `{type}` index after `...`, which TorchScript does not support; spell out the leading dimensions"
    level = "type"

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def upper(cov: torch.Tensor) -> torch.Tensor:
    idx = torch.triu_indices(3, 3)
    return cov[..., idx[0], idx[1]]
"""
        ),
    ]
    valid = [
        Example(
            """
import torch


@torch.jit.script
def upper(cov: torch.Tensor, k: int) -> torch.Tensor:
    idx = torch.triu_indices(3, 3)
    return cov[:, :, idx[0], idx[1]] + cov[idx[0], ...].sum() + cov[..., k, :].sum()
"""
        ),
    ]

    def visit_Subscript(self, node: cst.Subscript) -> None:
        seen_ellipsis = False
        for el in node.slice:
            sl = el.slice
            if not isinstance(sl, cst.Index):
                continue
            if isinstance(sl.value, cst.Ellipsis):
                seen_ellipsis = True
                continue
            if not seen_ellipsis:
                continue
            t = self.ctx.types.type_at(sl.value)
            if t is not None and (t == "Tensor" or t.startswith("List[")):
                if self.ctx.types.type_at(node.value) == "Tensor" and not in_quiet_arm(self.ctx, node):
                    index = cst.Module(body=[]).code_for_node(sl.value)
                    self.report(sl.value, self.message.format(index=index, type=t))
                return
