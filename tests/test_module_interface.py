"""A ModuleList/ModuleDict item taken with a variable index into a variable annotated with a
``@torch.jit.interface`` class compiles (TS310/TS312 stay silent); the same code with a plain
module class in place of the interface still fails there, and is still flagged. Each case is
scripted by the installed torch."""

from harness import compiler_error

from tsscan.engine import Engine
from tsscan.registry import load_rules

ENGINE = Engine(load_rules(), "2.13.0", select=["TS310", "TS312"])

TEMPLATE = """
import warnings

import torch
from torch import nn


with warnings.catch_warnings():
    warnings.simplefilter("ignore")

    {decorator}
    class LayerInterface(nn.Module):
        def forward(self, input: torch.Tensor) -> torch.Tensor:
            {body}


class Pick(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
        self.heads = nn.ModuleDict({{"a": nn.Linear(2, 2), "b": nn.Linear(2, 2)}})

    def forward(self, x: torch.Tensor, k: int, key: str) -> torch.Tensor:
        block: {annotation} = self.blocks[k]
        head: {annotation} = self.heads[key]
        return head.forward(block.forward(x))
"""


def test_interface_annotation_compiles_and_is_not_flagged(tmp_path):
    # the interface is defined inside a module-level `with` block (monai's dints.py does this)
    code = TEMPLATE.format(decorator="@torch.jit.interface", body="pass", annotation="LayerInterface")
    assert compiler_error(code, tmp_path) is None
    assert ENGINE.check("m.py", code).diagnostics == []


def test_a_plain_module_class_is_not_an_interface(tmp_path):
    # without the decorator the annotation names an ordinary module class: the compiler
    # rejects the variable index ("Attribute 0 is not of annotated type ...")
    code = TEMPLATE.format(decorator="", body="return input", annotation="LayerInterface")
    findings = ENGINE.check("m.py", code).diagnostics
    assert sorted(d.code for d in findings) == ["TS310", "TS312"]
    err = compiler_error(code, tmp_path)
    assert err is not None and "is not of annotated type" in err.message, err
    assert "self.blocks[k]" in err.message  # the frame marks the flagged subscript
