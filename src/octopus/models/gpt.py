"""GPT-style decoder for prefill: token + position embeddings, pre-norm causal blocks, LM head.

Shapes: ``idx`` ``(1, S)`` int64 -> next-token logits ``(1, vocab)`` (prefill for generation:
only the last position goes through the LM head). Per block: attention scores
``(1, H, S, S)`` and MLP hidden ``(1, S, 4d)``; the causal mask is built from ``arange``.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import Attention, FeedForward

__all__ = ["GPT"]


class GPTBlock(nn.Module):
    """``x + attn(ln(x))``, then ``x + mlp(ln(x))``."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads, causal=True)
        self.mlp = FeedForward(d, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """A GPT-2-shaped decoder with random weights (no download)."""

    def __init__(self, layers: int = 2, d: int = 256, heads: int = 4, vocab: int = 4096,
                 max_len: int = 65536) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList(GPTBlock(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.tok(idx) + self.pos(pos)[None]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x[:, -1]))
