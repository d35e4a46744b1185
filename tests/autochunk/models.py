"""Small models for the AutoChunk tests: each runs in milliseconds, activations dominate."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    """Pre-norm transformer block: fused QKV projection, explicit attention, GELU MLP."""

    def __init__(self, d: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q = q.view(b, s, self.heads, d // self.heads).transpose(1, 2)
        k = k.view(b, s, self.heads, d // self.heads).transpose(1, 2)
        v = v.view(b, s, self.heads, d // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        att = F.softmax(att, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(b, s, d)
        x = x + self.proj(o)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class MaskedAttention(nn.Module):
    """Causal attention whose mask is built in the graph with ``torch.full`` and ``masked_fill``."""

    def __init__(self, d: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, s, h, d // h).permute(0, 2, 1, 3)
        k = self.k(x).reshape(b, s, h, d // h).permute(0, 2, 1, 3)
        v = self.v(x).reshape(b, s, h, d // h).permute(0, 2, 1, 3)
        mask = torch.full((s, s), 1.0, device=x.device).triu(1).bool()
        scores = torch.matmul(q, k.transpose(-1, -2)) * (d // h) ** -0.5
        scores = scores.masked_fill(mask, float("-inf"))
        out = torch.softmax(scores, -1) @ v
        return x + self.o(out.permute(0, 2, 1, 3).reshape(b, s, d))


class SdpaBlock(nn.Module):
    """Attention through ``F.scaled_dot_product_attention`` with an additive mask, plus an MLP."""

    def __init__(self, d: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 8 * d), nn.Linear(8 * d, d)
        self.ln = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (self.heads, d // self.heads)).transpose(1, 2)
                   for t in (q, k, v))
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x + self.proj(o.transpose(1, 2).flatten(2))
        return x + self.fc2(F.silu(self.fc1(self.ln(x))))


class ConvBlock(nn.Module):
    """Inverted-bottleneck conv block with group norm (only the batch dim may be chunked)."""

    def __init__(self, c: int = 8, expand: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c * expand, 3, padding=1)
        self.norm = nn.GroupNorm(4, c * expand)
        self.conv2 = nn.Conv2d(c * expand, c, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.silu(self.norm(self.conv1(x))))


class PairUpdate(nn.Module):
    """AlphaFold-like pair update: triangle multiplication (``einsum``) then an 8x transition."""

    def __init__(self, c: int = 16, hidden: int = 8, expand: int = 8,
                 transition: bool = True) -> None:
        super().__init__()
        self.transition = transition
        self.ln_in, self.ln_out, self.ln_t = nn.LayerNorm(c), nn.LayerNorm(hidden), nn.LayerNorm(c)
        self.a, self.b = nn.Linear(c, hidden), nn.Linear(c, hidden)
        self.ga, self.gb = nn.Linear(c, hidden), nn.Linear(c, hidden)
        self.out, self.gate = nn.Linear(hidden, c), nn.Linear(c, c)
        self.t1, self.t2 = nn.Linear(c, expand * c), nn.Linear(expand * c, c)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        zn = self.ln_in(z)
        a = self.a(zn) * torch.sigmoid(self.ga(zn))
        b = self.b(zn) * torch.sigmoid(self.gb(zn))
        x = torch.einsum("ikc,jkc->ijc", a, b)
        z = z + self.out(self.ln_out(x)) * torch.sigmoid(self.gate(zn))
        if not self.transition:
            return z
        return z + self.t2(torch.relu(self.t1(self.ln_t(z))))


class WithBarrier(nn.Module):
    """A block with ``torch.flip`` (no dim rule) between attention and the MLP."""

    def __init__(self, d: int = 64) -> None:
        super().__init__()
        self.block = Block(d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flip(self.block(x), dims=[1])
        return x + self.fc2(torch.relu(self.fc1(x)))


def cases() -> dict[str, tuple[nn.Module, tuple[torch.Tensor, ...]]]:
    """Model and example inputs per test case, seeded."""
    torch.manual_seed(0)
    s = 256
    return {
        "block": (Block(), (torch.randn(2, 512, 64),)),
        "masked_attention": (MaskedAttention(), (torch.randn(2, 384, 64),)),
        "sdpa": (SdpaBlock(), (torch.randn(2, s, 64), torch.randn(1, 4, s, s))),
        "conv_groupnorm": (ConvBlock(), (torch.randn(16, 8, 32, 32),)),
        "pair_update": (PairUpdate(), (torch.randn(96, 96, 16),)),
        "barrier": (WithBarrier(), (torch.randn(2, 384, 64),)),
    }
