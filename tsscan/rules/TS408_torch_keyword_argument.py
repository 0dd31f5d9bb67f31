import libcst as cst

from tsscan.prefilter import Needs
from tsscan.rule import SAFE, Example, Fix, Rule
from tsscan.semantic.knowledge import Arg

# numpy-compatible spellings that eager torch's argument parser accepts for C functions and
# Tensor methods (python_arg_parser's numpy_compatibility_arg_names); TorchScript does not
_ALIASES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input", "x2": "other"}


def _names(overloads: list[list[Arg]]) -> set | None:
    names = set()
    for ov in overloads:
        for a in ov:
            if a.name.startswith("**"):
                return None
            names.add(a.name)
    return names


class TorchKeywordArgument(Rule):
    """A keyword argument that the torch function or Tensor method does not take in TorchScript.

    What it does:
        Checks the keywords of calls of `torch.*` and `torch.nn.functional.*` functions
        against the signatures TorchScript compiles (the registered operator schemas, or the
        Python signature of functions TorchScript compiles from source), from the generated
        table. For Tensor methods it checks the numpy-style spellings `axis=`, `keepdims=`.
        `requires_grad=` on factories is TS405.

    Why is this bad:
        Eager torch accepts numpy spellings (`torch.sum(x, axis=0)`, `keepdims=True`) as
        aliases; TorchScript matches the schema names only: "Arguments for call are not
        valid ... Keyword argument axis unknown".

    Example:
        s = torch.sum(x, axis=0, keepdims=True)

    Use instead:
        s = torch.sum(x, dim=0, keepdim=True)

    Fix:
        The numpy aliases are renamed to the schema names (`axis` -> `dim`, `keepdims` ->
        `keepdim`, `x`/`a`/`x1` -> `input`, `x2` -> `other`) where the function has that
        argument: eager torch treats them as the same argument. Other unknown keywords get no
        fix.
    """

    code = "TS408"
    needs = Needs(nodes={"keyword"})
    name = "torch-keyword-argument"
    message = "`{func}` takes no keyword argument `{kw}` in TorchScript"
    level = "type"
    fix_safety = SAFE

    invalid = [
        Example(
            """
import torch


@torch.jit.script
def column_sums(x: torch.Tensor) -> torch.Tensor:
    return torch.sum(x, axis=0, keepdims=True) + x.amax(axis=0)
""",
            fixed="""
import torch


@torch.jit.script
def column_sums(x: torch.Tensor) -> torch.Tensor:
    return torch.sum(x, dim=0, keepdim=True) + x.amax(dim=0)
""",
            inputs="[(torch.tensor([[1.0, -2.0], [float('nan'), 0.5]]),), (torch.tensor([[3, -1], [2, 7]]),), (torch.zeros(1, 0),)]",
            fix=SAFE,
        ),
        Example(
            """
import torch
import torch.nn.functional as F


@torch.jit.script
def probs(x: torch.Tensor) -> torch.Tensor:
    return F.softmax(x, dim=-1, temperature=2.0)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
import torch.nn.functional as F


@torch.jit.script
def probs(x: torch.Tensor) -> torch.Tensor:
    y = torch.zeros(2, dtype=x.dtype, device=x.device)
    z = torch.clamp(x, min=0.0).sum(dim=0, keepdim=True)
    return F.softmax(x, dim=-1) + torch.cat([x, x], dim=0).mean() + y.sum() + z
"""
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        kws = [(a, a.keyword.value) for a in node.args if a.keyword is not None]
        if not kws or any(a.star == "**" for a in node.args):
            return
        func = node.func
        knowledge = self.ctx.knowledge
        qual = self.ctx.qualname(func) or ""
        head = func
        while isinstance(head, cst.Attribute):
            head = head.value
        is_function = (
            isinstance(head, cst.Name)
            and head.value in self.ctx.module.aliases
            and knowledge.function_kind(qual) in ("builtin", "python")
            and head.value not in self.ctx.local_names
        )
        if is_function:
            names = _names(knowledge.overloads(qual))
            c_function = knowledge.function_kind(qual) == "builtin"
            shown = qual
            only_aliases = False
        elif (
            isinstance(func, cst.Attribute)
            and any(kw in _ALIASES for _, kw in kws)
            and knowledge.tensor_method_overloads(func.attr.value)
            and self.ctx.kinds.can_be_tensor(func.value)
            and not (
                isinstance(head, cst.Name)
                and head.value in self.ctx.module.aliases
                and head.value not in self.ctx.local_names
            )
        ):
            overloads = knowledge.tensor_method_overloads(func.attr.value)
            names = _names(overloads)
            c_function = True
            shown = f"Tensor.{func.attr.value}"
            only_aliases = True  # other objects may have a method of the same name
        else:
            return
        if names is None:
            return
        passed = {kw for _, kw in kws}
        for arg, kw in kws:
            if kw in names or (kw == "requires_grad" and is_function):
                continue
            target = _ALIASES.get(kw) if c_function else None
            if target is not None and (target not in names or target in passed):
                target = None
            if only_aliases and kw not in _ALIASES:
                continue
            fix = None
            message = self.message.format(func=shown, kw=kw)
            if target is not None:
                new = node.with_changes(
                    args=[a.with_changes(keyword=cst.Name(target)) if a is arg else a for a in node.args]
                )
                message += f"; use `{target}=`"
                fix = Fix(replacements=[(node, new)], description=f"rename {kw}= to {target}=")
            self.report(arg, message, fix)
