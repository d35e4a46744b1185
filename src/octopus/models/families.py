"""Benchmark model families with random weights (nothing downloaded), built by sequence length.

``build(family, seq_len, sdpa=False, chunk_size=None)`` returns ``(model, inputs)`` in eval mode:

- ``gpt``: :class:`~octopus.models.gpt.GPT` prefill, ``seq_len`` tokens;
- ``vit``: :class:`~octopus.models.vit.ViT`, ``seq_len`` rounded to ``p*p`` patches (+1 class
  token);
- ``evoformer``: :class:`~octopus.models.evoformer.Evoformer`, ``seq_len`` residues, 32 MSA
  sequences;
- ``unet``: :class:`~octopus.models.unet.UNet`, ``seq_len`` rounded to ``h*w`` latent pixels
  (even ``h``).

``sdpa`` switches every attention to the fused kernel; ``chunk_size`` turns on hand-written
chunking of attention (over queries) and feed-forward layers (over tokens). torch is imported
by :func:`build` only, so :data:`FAMILIES` is cheap to read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["FAMILIES", "Family", "build", "effective_seq_len"]


@dataclass(frozen=True)
class Family:
    """A benchmark family: its name and what its sequence length means."""

    name: str
    seq_meaning: str


FAMILIES = {
    "gpt": Family("gpt", "tokens"),
    "vit": Family("vit", "patches (p*p, +1 class token)"),
    "evoformer": Family("evoformer", "residues r (pair is r x r)"),
    "unet": Family("unet", "latent pixels h*w at the top level"),
}


def effective_seq_len(family: str, seq_len: int) -> int:
    """The sequence length the family actually builds for a requested ``seq_len``."""
    if family == "vit":
        return max(1, round(math.sqrt(seq_len))) ** 2
    if family == "unet":
        side = max(2, 2 * round(math.sqrt(seq_len) / 2))
        return side * side
    return seq_len


def build(family: str, seq_len: int, *, sdpa: bool = False, chunk_size: int | None = None,
          seed: int = 0) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """Model and example inputs for ``family`` at ``seq_len`` (see module doc).

    Raises:
        ValueError: unknown ``family``.
    """
    import torch

    from octopus.models.evoformer import Evoformer
    from octopus.models.gpt import GPT
    from octopus.models.layers import Attention, FeedForward
    from octopus.models.unet import UNet
    from octopus.models.vit import ViT

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {sorted(FAMILIES)}")
    torch.manual_seed(seed)
    n = effective_seq_len(family, seq_len)
    model: nn.Module
    if family == "gpt":
        model = GPT()
        inputs: tuple[torch.Tensor, ...] = (torch.randint(0, 4096, (1, n)),)
    elif family == "vit":
        p = round(math.sqrt(n))
        model = ViT(p * p)
        inputs = (torch.randn(1, 3, 16 * p, 16 * p),)
    elif family == "evoformer":
        model = Evoformer()
        inputs = (torch.randn(32, n, 64), torch.randn(n, n, 32))
    else:
        side = round(math.sqrt(n))
        model = UNet()
        inputs = (torch.randn(1, 4, side, side), torch.randn(1, 128), torch.randn(1, 77, 128))
    for mod in model.modules():
        if isinstance(mod, Attention):
            mod.sdpa, mod.chunk_size = sdpa, chunk_size
        elif isinstance(mod, FeedForward):
            mod.chunk_size = chunk_size
    return model.eval(), inputs
