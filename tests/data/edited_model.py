"""A model file of the kind edited in an editor: imports, constants, helpers, several modules."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

SCALE = 2
USE_BIAS = True
EPS = 1e-6


def make_norm(dim: int) -> nn.Module:
    return nn.LayerNorm(dim, eps=EPS)


def rescale(x: torch.Tensor, factor: int = SCALE) -> torch.Tensor:
    return x * factor


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int = 8, fused: bool = True, gated: bool = False, qk_norm: bool = False):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        if fused:
            self.qkv = nn.Linear(dim, dim * 3, bias=USE_BIAS)
        else:
            self.qkv = None
            self.q = nn.Linear(dim, dim)
            self.kv = nn.Linear(dim, dim * 2)
        self.q_norm = make_norm(self.head_dim) if qk_norm else nn.Identity()
        self.gate = nn.Linear(dim, dim) if gated else None
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        B, N, C = x.shape
        gate = self.gate(x).sigmoid() if self.gate is not None else None
        if self.qkv is not None:
            q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        else:
            q = self.q(x).reshape(B, N, self.heads, self.head_dim).transpose(1, 2)
            k, v = self.kv(x).reshape(B, N, 2, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        q = self.q_norm(q)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if mask is not None:
            attn = attn.masked_fill(mask.bool(), float("-inf"))
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        if self.gate:
            x = x * gate
        return self.proj(rescale(x))


class Trunk(nn.Module):
    def __init__(self, hidden: int = 64, depth: int = 3, dropout: float = 0.1):
        super().__init__()
        self.dropout = dropout
        self.stem = nn.Linear(hidden, hidden)
        self.blocks = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.norms = nn.ModuleList([make_norm(hidden) for _ in range(depth)])
        self.attn = Attention(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.dropout(self.stem(x), self.dropout, self.training)
        for i in range(len(self.blocks)):
            x = self.norms[i](x + F.gelu(self.blocks[i](x)))
        return self.attn(x)


class MultiTaskModel(nn.Module):
    export = False

    def __init__(self, hidden: int = 64):
        super().__init__()
        self.trunk = Trunk(hidden)
        self.heads = nn.ModuleDict({"cls": nn.Linear(hidden, 10), "reg": nn.Linear(hidden, 1)})
        self.temperature = 2.0
        self.history = []

    def forward(self, x: torch.Tensor, task: str) -> torch.Tensor:
        feats = self.trunk(x)
        out = self.heads[task](feats)
        if task == "cls":
            out = out / self.temperature
        if not self.export:
            self.history.append(out.detach())
        return out

    @torch.jit.export
    def all_tasks(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        feats = self.trunk(x)
        out: Dict[str, torch.Tensor] = {}
        for name, head in self.heads.items():
            out[name] = head(feats)
        return out

    def predict(self, x, top=5):
        scores = [s for s in self.forward(x, "cls").tolist() if s > 0]
        return scores[:top]


class Decoder(nn.Module):
    def __init__(self, dim: int, layers: int = 2):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(dim, dim) for _ in range(layers)])

    def forward(self, x: torch.Tensor, sizes: List[int]) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def build(tasks: List[str]) -> MultiTaskModel:
    model = MultiTaskModel()
    model.eval()
    return model
