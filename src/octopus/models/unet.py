"""A Stable-Diffusion-style UNet (small, random weights).

Inputs: latent ``(1, 4, h, w)``, timestep embedding ``(1, c_t)`` and text context
``(1, 77, c_ctx)``; output ``(1, 4, h, w)``. Levels: ``h x w`` with ``C`` channels and
``h/2 x w/2`` with ``2C``; each level has a res block (group norm, SiLU, 3x3 convs, timestep
projection) and a spatial transformer (group norm, 1x1 conv in, self-attention over the ``h*w``
tokens, cross-attention to the context, 4x feed-forward, 1x1 conv out). The up path
interpolates, concatenates the skip and runs a res block and a transformer. The sequence length
of the benchmark is ``h * w``; the peak is the self-attention scores ``(1, H, hw, hw)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import Attention, FeedForward

__all__ = ["UNet"]


class ResBlock(nn.Module):
    """``GN -> SiLU -> conv -> + temb -> GN -> SiLU -> conv``, plus a 1x1 skip when needed."""

    def __init__(self, c_in: int, c_out: int, c_t: int) -> None:
        super().__init__()
        self.n1, self.n2 = nn.GroupNorm(8, c_in), nn.GroupNorm(8, c_out)
        self.c1, self.c2 = nn.Conv2d(c_in, c_out, 3, padding=1), nn.Conv2d(c_out, c_out, 3,
                                                                            padding=1)
        self.t = nn.Linear(c_t, c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(self.n1(x))) + self.t(temb)[:, :, None, None]
        return self.skip(x) + self.c2(F.silu(self.n2(h)))


class SpatialTransformer(nn.Module):
    """Self-attention, cross-attention and feed-forward over the ``h*w`` tokens."""

    def __init__(self, c: int, heads: int, c_ctx: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, c)
        self.proj_in, self.proj_out = nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.self_attn = Attention(c, heads)
        self.cross_attn = Attention(c, heads, d_kv=c_ctx)
        self.ff = FeedForward(c, 4)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = self.proj_in(self.norm(x)).flatten(2).transpose(1, 2)
        t = t + self.self_attn(self.ln1(t))
        t = t + self.cross_attn(self.ln2(t), kv=ctx)
        t = t + self.ff(self.ln3(t))
        return x + self.proj_out(t.transpose(1, 2).reshape(b, c, h, w))


class UNet(nn.Module):
    """Two-level UNet; ``forward(latent, temb, ctx)``."""

    def __init__(self, c: int = 64, heads: int = 4, c_t: int = 128, c_ctx: int = 128) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(4, c, 3, padding=1)
        self.r1, self.a1 = ResBlock(c, c, c_t), SpatialTransformer(c, heads, c_ctx)
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.r2, self.a2 = ResBlock(2 * c, 2 * c, c_t), SpatialTransformer(2 * c, heads, c_ctx)
        self.up = nn.Conv2d(2 * c, c, 3, padding=1)
        self.r3, self.a3 = ResBlock(2 * c, c, c_t), SpatialTransformer(c, heads, c_ctx)
        self.n_out, self.conv_out = nn.GroupNorm(8, c), nn.Conv2d(c, 4, 3, padding=1)

    def forward(self, latent: torch.Tensor, temb: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        h1 = self.a1(self.r1(self.conv_in(latent), temb), ctx)
        h2 = self.a2(self.r2(self.down(h1), temb), ctx)
        u = self.up(F.interpolate(h2, scale_factor=2.0, mode="nearest"))
        h3 = self.a3(self.r3(torch.cat([u, h1], dim=1), temb), ctx)
        return self.conv_out(F.silu(self.n_out(h3)))
