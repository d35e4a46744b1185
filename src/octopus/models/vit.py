"""ViT: 16x16 patch embedding, class token, pre-norm blocks, classification head.

Shapes: image ``(1, 3, 16p, 16p)`` -> logits ``(1, classes)``; sequence length ``S = p*p + 1``;
per block attention scores ``(1, H, S, S)`` and MLP hidden ``(1, S, 4d)``.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import Attention, FeedForward

__all__ = ["ViT"]


class ViTBlock(nn.Module):
    """``x + attn(ln(x))``, then ``x + mlp(ln(x))`` (no mask)."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.mlp = FeedForward(d, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    """A ViT-shaped encoder with random weights; position embeddings sized for ``patches``."""

    def __init__(self, patches: int, layers: int = 2, d: int = 256, heads: int = 4,
                 classes: int = 1000) -> None:
        super().__init__()
        self.embed = nn.Conv2d(3, d, 16, stride=16)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, patches + 1, d) * 0.02)
        self.blocks = nn.ModuleList(ViTBlock(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, classes)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.embed(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x)[:, 0])
