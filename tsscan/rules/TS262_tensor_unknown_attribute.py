import libcst as cst

from tsscan.prefilter import HOOKS
from tsscan.rule import Example, Rule
from tsscan.semantic.types import in_quiet_arm

# torch.Tensor's private members (dir(torch.Tensor), the same 49 in torch 2.13 and 2.14): the knowledge
# tables skip names with a leading underscore, and many of these are compiled aten methods
_PRIVATE_MEMBERS = frozenset(
    (
        "_addmm_activation _autocast_to_full_precision _autocast_to_reduced_precision _backward_hooks _base "
        "_cdata _clear_non_serializable_cached_data _coalesced_ _conj _conj_physical _dimI _dimV "
        "_dtensor__new__ _fix_weakref _grad _grad_fn _has_symbolic_sizes_strides _indices _is_all_true "
        "_is_any_true _is_view _is_zerotensor _lazy_clone _make_subclass _make_wrapper_subclass _neg_view "
        "_nested_tensor_size _nested_tensor_storage_offsets _nested_tensor_strides _nnz _philox_normal_ "
        "_philox_uniform_ _post_accumulate_grad_hooks _python_dispatch _reduce_ex_internal "
        "_rev_view_func_unsafe _sparse_mask_projection _to_dense _to_sparse _to_sparse_bsc _to_sparse_bsr "
        "_to_sparse_csc _to_sparse_csr _typed_storage _use_count _values _version _view_func "
        "_view_func_unsafe"
    ).split()
)


class TensorUnknownAttribute(Rule):
    """An attribute no Tensor has, read from a value TorchScript types Tensor (`batch.x`).

    What it does:
        Flags `v.name` in compiled code where the model types `v` a Tensor there (most often a
        parameter without annotation) and `name` is neither a method nor a property of
        `torch.Tensor` in the knowledge tables, which are generated from torch for the target
        version (TS401/TS402 report the Tensor members TorchScript does not support). A
        variable is reported at its first such read in the function; an attribute assigned to
        is TS230's. The tables skip names with a leading underscore: Tensor's own private
        members (`_coalesced_`, `_values`, `_indices`, many of them compiled aten methods) are
        left alone.

    Why is this bad:
        A parameter without annotation is a Tensor in TorchScript, whatever the caller passes
        in Python: a graph batch, a dataclass, an `ImageList`. Reading a field of that object
        stops the compiler: "'Tensor (inferred)' object has no attribute or method 'x'".

    Example:
        def forward(self, batch):
            return batch.x + batch.y

    Use instead:
        Pass the tensors themselves (`forward(self, x: Tensor, y: Tensor)`), or annotate the
        parameter with a class TorchScript can compile (a `NamedTuple` or a
        `@torch.jit.script` class).
    """

    code = "TS262"
    needs = HOOKS
    name = "tensor-unknown-attribute"
    message = "`{attr}` is no attribute of a Tensor, and TorchScript types this value Tensor{why}"
    level = "type"

    invalid = [
        Example(
            """
import torch
from torch import nn


class Head(nn.Module):
    def forward(self, batch) -> torch.Tensor:
        return batch.x + batch.y
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn
from typing import NamedTuple


class Batch(NamedTuple):
    x: torch.Tensor
    y: torch.Tensor


class Head(nn.Module):
    def forward(self, batch: Batch, t) -> torch.Tensor:
        z = batch.x + batch.y
        return z.T.sum(dim=0) + t.mT.real.shape[0] + t.ndim + t.is_cuda
"""
        ),
        Example(
            """
import torch


@torch.jit.script
def coalesced(i: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    adj = torch.sparse_coo_tensor(indices=i, values=v, size=[3, 3])
    adj = adj._coalesced_(True)  # an aten method: torch_geometric's to_torch_coo_tensor
    return adj._values()
"""
        ),
    ]

    def on_function(self) -> None:
        self._targets: set[int] = set()  # attributes assigned to: TS230's
        self._seen: set[str] = set()  # a variable is reported at its first such read only

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets.add(id(node.target))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr.startswith("__") or attr in _PRIVATE_MEMBERS:
            return
        k = self.ctx.knowledge
        known = k.tensor_methods | k.tensor_properties | k.unsupported_tensor_methods | k.unsupported_tensor_properties
        if attr in known or id(node) in self._targets:
            return
        v = node.value
        if isinstance(v, cst.Name) and v.value in self._seen:
            return
        if self.ctx.types.type_at(v) != "Tensor" or in_quiet_arm(self.ctx, node):
            return
        why = ""
        if isinstance(v, cst.Name):
            self._seen.add(v.value)
            if v.value in self.ctx.types.params and v.value not in self.ctx.types.declared:
                why = f" (`{v.value}` has no annotation)"
        self.report(node, self.message.format(attr=attr, why=why))
