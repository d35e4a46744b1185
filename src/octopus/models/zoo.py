"""Small vision and language models in plain torch (random weights, nothing downloaded).

They complement the benchmark families (:mod:`octopus.models.families`) in the registry of
known models (:mod:`octopus.models.registry`):

- :class:`Encoder`: a BERT-style bidirectional encoder over token ids ``(B, S)`` (long-context
  document understanding), returning the per-token states ``(B, S, d)``;
- :class:`ConvNet`: a small ResNet-style image classifier ``(B, 3, H, W) -> (B, classes)``;
- :class:`MLP`: a ranking MLP ``(B, features) -> (B, 1)`` (recommendation).

Every model is traceable by ``torch.fx`` (explicit attention, no data-dependent control flow).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLP", "ConvNet", "Encoder"]


class _EncoderBlock(nn.Module):
    """Post-norm transformer layer: ``ln(x + attn(x))``, then ``ln(x + ffn(x))``."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv, self.o = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).reshape(b, s, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.matmul(q, k.transpose(-1, -2)) * (d // h) ** -0.5
        o = torch.matmul(att.softmax(dim=-1), v).transpose(1, 2).reshape(b, s, d)
        x = self.ln1(x + self.o(o))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Encoder(nn.Module):
    """Token and position embeddings, ``layers`` encoder blocks; ``(B, S) -> (B, S, d)``."""

    def __init__(self, max_len: int, layers: int = 2, d: int = 256, heads: int = 8,
                 vocab: int = 8192) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList(_EncoderBlock(d, heads) for _ in range(layers))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))[None]
        for block in self.blocks:
            x = block(x)
        return x


class _ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.c2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.b1, self.b2 = nn.BatchNorm2d(c_out), nn.BatchNorm2d(c_out)
        self.skip = (nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)
                     if stride != 1 or c_in != c_out else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.skip(x) + self.b2(self.c2(F.relu(self.b1(self.c1(x))))))


class ConvNet(nn.Module):
    """Stem conv, three residual stages (widths ``w, 2w, 4w``, stride 2 after the first),
    global average pooling and a linear head."""

    def __init__(self, width: int = 32, classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, stride=2, padding=1, bias=False)
        self.stages = nn.Sequential(_ResBlock(width, width, 1), _ResBlock(width, 2 * width, 2),
                                    _ResBlock(2 * width, 4 * width, 2))
        self.head = nn.Linear(4 * width, classes)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.stages(F.relu(self.stem(img)))
        return self.head(x.mean(dim=(2, 3)))


class MLP(nn.Module):
    """``features -> hidden -> hidden/2 -> 1`` with ReLU: a ranking tower."""

    def __init__(self, features: int, hidden: int = 1024) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden // 2), nn.ReLU(),
                                 nn.Linear(hidden // 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
