from tsscan.prefilter import Needs
from tsscan.rule import Example
from tsscan.rules._config_support import ConfigRule


class AttributeTypeForSomeArguments(ConfigRule):
    """May fail: an attribute holds, for some constructor arguments, a value compiled code cannot use that way.

    What it does:
        Like TS321, but the use compiles as the class is built with its defaults: it fails only
        when a constructor argument takes another value (`self.drop = nn.Dropout(p) if dropout
        else None` called under a plain `if self.use_drop:` fails once `dropout=False`). A "may
        fail" warning (TS7xx band).

    Why is this bad:
        The compiler types the attribute from the value it holds and compiles both arms of a
        plain `if self.flag:`: "cannot call a value of type 'NoneType'".

    Example:
        if self.use_drop:
            x = self.drop(x)

    Use instead:
        if self.drop is not None:
            x = self.drop(x)
    """

    code = "TS702"
    needs = Needs(nodes={"Attribute", "Import", "ImportFrom"})
    name = "attribute-type-for-some-arguments"
    message = "`self.x` holds, for some constructor arguments, a value that cannot be used this way"
    band = "maybe"
    missing = False

    invalid = [
        Example(
            """
import torch
from torch import nn


class Head(nn.Module):
    def __init__(self, dim: int = 4, dropout: bool = True):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.use_drop = dropout
        self.drop = nn.Dropout(0.1) if dropout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_drop:
            x = self.drop(x)
        return self.fc(x)


class NoDropHead(Head):
    def __init__(self):
        super().__init__(dropout=False)
"""
        ),
    ]
    valid = [
        Example(
            """
import torch
from torch import nn


class Head(nn.Module):
    def __init__(self, dim: int = 4, dropout: bool = True):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.drop = nn.Dropout(0.1) if dropout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop is not None:
            x = self.drop(x)
        return self.fc(x)


class NoDropHead(Head):
    def __init__(self):
        super().__init__(dropout=False)
"""
        ),
    ]
