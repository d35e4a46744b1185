"""An AlphaFold-2-style Evoformer block (simplified, random weights).

Inputs: MSA ``m`` ``(s, r, c_m)`` (``s`` sequences, ``r`` residues) and pair ``z`` ``(r, r, c_z)``.
The sequence length of the benchmark is ``r``. Steps, each a residual update:

1. MSA row attention with pair bias (batch ``s``, length ``r``, bias ``(1, H, r, r)``), gated;
2. MSA column attention (``m`` transposed: batch ``r``, length ``s``), gated;
3. MSA transition (4x);
4. outer-product mean ``einsum("sic,sjd->ijcd") / s`` -> ``(r, r, c*c)`` -> ``c_z``;
5. triangle multiplication, outgoing ``einsum("ikc,jkc->ijc")``;
6. triangle multiplication, incoming ``einsum("kic,kjc->ijc")``;
7. triangle attention around the starting node (batch ``i``, length ``j``, bias ``(1, H, j, k)``);
8. triangle attention around the ending node (the same on ``z`` transposed);
9. pair transition (4x).

Peaks: triangle attention scores ``(r, H, r, r)``; outer-product ``(r, r, c, c)``.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import Attention, FeedForward

__all__ = ["Evoformer"]


class TriangleMultiplication(nn.Module):
    """Gated triangle update; ``outgoing`` contracts over the second index, else the first."""

    def __init__(self, c_z: int, c: int, outgoing: bool) -> None:
        super().__init__()
        self.outgoing = outgoing
        self.ln_in, self.ln_out = nn.LayerNorm(c_z), nn.LayerNorm(c)
        self.a, self.b = nn.Linear(c_z, c), nn.Linear(c_z, c)
        self.ga, self.gb = nn.Linear(c_z, c), nn.Linear(c_z, c)
        self.out, self.gate = nn.Linear(c, c_z), nn.Linear(c_z, c_z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        zn = self.ln_in(z)
        a = self.a(zn) * torch.sigmoid(self.ga(zn))
        b = self.b(zn) * torch.sigmoid(self.gb(zn))
        eq = "ikc,jkc->ijc" if self.outgoing else "kic,kjc->ijc"
        x = torch.einsum(eq, a, b)
        return self.out(self.ln_out(x)) * torch.sigmoid(self.gate(zn))


class Evoformer(nn.Module):
    """One Evoformer block; ``forward(m, z) -> (m, z)``."""

    def __init__(self, c_m: int = 64, c_z: int = 32, heads: int = 4, c_opm: int = 8,
                 c_tri: int = 32) -> None:
        super().__init__()
        self.ln_row, self.ln_row_z = nn.LayerNorm(c_m), nn.LayerNorm(c_z)
        self.row_bias = nn.Linear(c_z, heads, bias=False)
        self.row = Attention(c_m, heads, gated=True)
        self.ln_col, self.col = nn.LayerNorm(c_m), Attention(c_m, heads, gated=True)
        self.ln_mt, self.msa_transition = nn.LayerNorm(c_m), FeedForward(c_m, 4)
        self.ln_opm = nn.LayerNorm(c_m)
        self.opm_a, self.opm_b = nn.Linear(c_m, c_opm), nn.Linear(c_m, c_opm)
        self.opm_out = nn.Linear(c_opm * c_opm, c_z)
        self.tri_out = TriangleMultiplication(c_z, c_tri, outgoing=True)
        self.tri_in = TriangleMultiplication(c_z, c_tri, outgoing=False)
        self.ln_ts, self.ts_bias = nn.LayerNorm(c_z), nn.Linear(c_z, heads, bias=False)
        self.tri_start = Attention(c_z, heads, gated=True)
        self.ln_te, self.te_bias = nn.LayerNorm(c_z), nn.Linear(c_z, heads, bias=False)
        self.tri_end = Attention(c_z, heads, gated=True)
        self.ln_pt, self.pair_transition = nn.LayerNorm(c_z), FeedForward(c_z, 4)

    def forward(self, m: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bias = self.row_bias(self.ln_row_z(z)).permute(2, 0, 1)[None]
        m = m + self.row(self.ln_row(m), bias=bias)
        mt = m.transpose(0, 1)
        m = m + self.col(self.ln_col(mt)).transpose(0, 1)
        m = m + self.msa_transition(self.ln_mt(m))
        mn = self.ln_opm(m)
        a, b = self.opm_a(mn), self.opm_b(mn)
        o = torch.einsum("sic,sjd->ijcd", a, b) / m.shape[0]
        z = z + self.opm_out(o.reshape(o.shape[0], o.shape[1], -1))
        z = z + self.tri_out(z)
        z = z + self.tri_in(z)
        zn = self.ln_ts(z)
        z = z + self.tri_start(zn, bias=self.ts_bias(zn).permute(2, 0, 1)[None])
        zt = self.ln_te(z.transpose(0, 1))
        z = z + self.tri_end(zt, bias=self.te_bias(zt).permute(2, 0, 1)[None]).transpose(0, 1)
        z = z + self.pair_transition(self.ln_pt(z))
        return m, z
