"""Attention and feed-forward layers shared by the benchmark model families.

Each layer has three execution modes, chosen by attributes (so the same weights serve every
baseline):

- default: explicit attention (``softmax(q k^T * scale + bias)``), traceable by ``torch.fx``;
- ``sdpa = True``: PyTorch's fused ``scaled_dot_product_attention``;
- ``chunk_size = n``: hand-written chunking over queries (attention) or tokens (feed-forward), as
  users write it (Hugging Face feed-forward chunking, OpenFold's ``chunk_size``). Eager only.

Shapes: ``x`` is ``(B, S, d)``; keys/values come from ``kv`` ``(B, T, d_kv)`` (``x`` when
``None``); ``bias`` broadcasts to ``(B, H, S, T)``. Causal masks are built from ``arange``
comparisons, so a chunked region can rebuild its rows of the mask instead of holding ``S x S``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Attention", "FeedForward"]


class Attention(nn.Module):
    """Multi-head attention with optional additive bias, causal mask and sigmoid gating."""

    def __init__(self, d: int, heads: int, d_kv: int | None = None, gated: bool = False,
                 causal: bool = False) -> None:
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d_kv or d, d, bias=False)
        self.v = nn.Linear(d_kv or d, d, bias=False)
        self.o = nn.Linear(d, d)
        self.g = nn.Linear(d, d) if gated else None
        self.sdpa = False
        self.chunk_size: int | None = None

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        b, n, d = t.shape
        return t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)

    def _core(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              bias: torch.Tensor | None, q_offset: int) -> torch.Tensor:
        b, s, d = x.shape
        q = self._split(self.q(x))
        if self.sdpa:
            mask = bias
            if self.causal and self.chunk_size is None:  # whole self-attention
                o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
            else:
                if self.causal:
                    mask = self._causal_mask(s, k.shape[2], q_offset, x.device)
                    mask = torch.zeros(mask.shape, device=x.device).masked_fill(mask, -math.inf)
                    mask = mask if bias is None else mask + bias
                o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            att = torch.matmul(q, k.transpose(-1, -2)) * (d // self.heads) ** -0.5
            if bias is not None:
                att = att + bias
            if self.causal:
                att = att.masked_fill(self._causal_mask(s, k.shape[2], q_offset, x.device),
                                      float("-inf"))
            o = torch.matmul(att.softmax(dim=-1), v)
        o = o.transpose(1, 2).reshape(b, s, d)
        if self.g is not None:
            o = o * torch.sigmoid(self.g(x))
        return self.o(o)

    @staticmethod
    def _causal_mask(s: int, t: int, offset: int, device: torch.device) -> torch.Tensor:
        rows = torch.arange(offset, offset + s, device=device)
        cols = torch.arange(t, device=device)
        return cols[None, :] > rows[:, None]

    def forward(self, x: torch.Tensor, kv: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, S, d) -> (B, S, d)``."""
        src = x if kv is None else kv
        k, v = self._split(self.k(src)), self._split(self.v(src))
        if self.chunk_size is None:
            return self._core(x, k, v, bias, 0)
        s, c = x.shape[1], self.chunk_size
        out = torch.empty_like(x)
        for i in range(0, s, c):
            bi = None if bias is None else (bias if bias.shape[-2] == 1 else bias[..., i:i + c, :])
            out[:, i:i + c] = self._core(x[:, i:i + c], k, v, bi, i)
        return out


class FeedForward(nn.Module):
    """``Linear(d, e*d) -> GELU -> Linear(e*d, d)``, optionally chunked over tokens."""

    def __init__(self, d: int, expand: int = 4) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, expand * d), nn.Linear(expand * d, d)
        self.chunk_size: int | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., S, d) -> (..., S, d)``; chunking runs over dim -2."""
        if self.chunk_size is None:
            return self.fc2(F.gelu(self.fc1(x)))
        out = torch.empty_like(x)
        for i in range(0, x.shape[-2], self.chunk_size):
            out[..., i:i + self.chunk_size, :] = self.fc2(
                F.gelu(self.fc1(x[..., i:i + self.chunk_size, :])))
        return out
