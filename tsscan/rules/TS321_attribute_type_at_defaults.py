from tsscan.prefilter import Needs
from tsscan.rule import Example
from tsscan.rules._config_support import ConfigRule


class AttributeTypeAtDefaults(ConfigRule):
    """Compiled code uses an attribute in a way its value at the defaults does not allow.

    What it does:
        Runs `__init__` at its defaults (see TS320) and types each attribute from the value it
        holds then, as the compiler does: `self.loss = loss` with `loss=None` is `NoneType`,
        `self.skip = nn.Linear(...) if residual else None` is a module or `NoneType`. Flags a
        use that fails for that value: a `None` used as a bool, called, compared, computed with,
        indexed, iterated or asked for an attribute; a module or a tuple used as a bool; an int
        (float, str, list, tuple, Tensor) called. Also flags uses that fail for every value the
        arguments can give (`if self.skip:` on a module-or-None). `if self.x is not None:`
        arms are followed as the compiler does: it drops them when `x` is None.

    Why is this bad:
        The compiler types the attribute from its value, not from the parameter's annotation:
        "Could not cast value of type NoneType to bool", "cannot call a value of type 'int'".
        Operands of `and`/`or` are all compiled: `self.x is not None and self.x < 0` fails when
        `x` is None.

    Example:
        self.stft_loss = stft_loss  # None by default
        ...
        if self.stft_loss:
            loss = loss + self.stft_loss(y_hat, y)

    Use instead:
        if self.stft_loss is not None:
            loss = loss + self.stft_loss(y_hat, y)
    """

    code = "TS321"
    needs = Needs(nodes={"Attribute", "Import", "ImportFrom"})
    name = "attribute-type-at-defaults"
    message = "`self.x` holds a value at the defaults that cannot be used this way"
    band = "error"
    missing = False

    invalid = [
        Example(
            """
import torch
from torch import nn


class GeneratorLoss(nn.Module):
    def __init__(self, stft_loss=None, weight: float = 1.0):
        super().__init__()
        self.stft_loss = stft_loss
        self.weight = weight

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = (y_hat - y).abs().mean()
        if self.stft_loss:
            loss = loss + self.weight * self.stft_loss(y_hat, y)
        return loss
"""
        ),
        Example(
            """
import torch
from torch import nn


class Residual(nn.Module):
    def __init__(self, residual: bool = True):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.skip = nn.Linear(4, 4) if residual else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        if self.skip:
            out = out + x
        return out
"""
        ),
        Example(
            """
import torch
from torch import nn


class MaskedLoss(nn.Module):
    def __init__(self, ignore_index=None):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.ignore_index is not None and self.ignore_index < 0:
            return x.sum()
        return (x - target).abs().sum()
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class GeneratorLoss(nn.Module):
    def __init__(self, stft_loss=None, weight: float = 1.0):
        super().__init__()
        self.stft_loss = stft_loss
        self.weight = weight

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = (y_hat - y).abs().mean()
        if self.stft_loss is not None:
            loss = loss + self.weight * self.stft_loss(y_hat, y)
        return loss
"""
        ),
        Example(
            """
import torch
from torch import nn


class MaskedLoss(nn.Module):
    def __init__(self, ignore_index=None):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.ignore_index is None:
            return (x - target).abs().sum()
        if self.ignore_index < 0:
            return x.sum()
        return (x - target).abs().sum()
"""
        ),
    ]
